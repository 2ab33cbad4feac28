package submitter

import (
	"crypto/sha256"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// tmhash is CometBFT's transaction hash: sha256 of the bytes.
func tmhash(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// unpackResponse reads the first message response of a DeliverTx result.
func unpackResponse(data []byte, out proto.Message) error {
	var txMsgData sdk.TxMsgData
	if err := proto.Unmarshal(data, &txMsgData); err != nil {
		return err
	}
	if len(txMsgData.MsgResponses) == 0 {
		return nil
	}
	return proto.Unmarshal(txMsgData.MsgResponses[0].Value, out)
}
