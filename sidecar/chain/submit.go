package chain

import (
	"context"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"cosmossdk.io/x/feegrant"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
)

// ConsensusLimits returns the chain's consensus limits on a block: its size
// in bytes and its gas (max_gas; -1 or 0 when unlimited). A vote
// transaction must stay below both; the node's mempool max_tx_bytes (1 MiB
// by default) is node configuration the RPC does not expose.
func (c *Client) ConsensusLimits(ctx context.Context) (maxBytes, maxGas int64, err error) {
	err = c.withRPC(ctx, "consensus_params", func(r *rpchttp.HTTP) error {
		res, err := r.ConsensusParams(ctx, nil)
		if err != nil {
			return err
		}
		maxBytes, maxGas = res.ConsensusParams.Block.MaxBytes, res.ConsensusParams.Block.MaxGas
		return nil
	})
	return maxBytes, maxGas, err
}

// RegisterVoteKeyInterfaces registers authz (MsgExec, which a vote key signs
// on the operator's behalf) and feegrant (the allowance that pays its fees),
// so that the sidecar's codec decodes the transactions and grants of a vote
// key (submitter.WithAuthzOperator). The sidecar's encoding (NewEncoding)
// registers them through it.
func RegisterVoteKeyInterfaces(reg codectypes.InterfaceRegistry) {
	authz.RegisterInterfaces(reg)
	feegrant.RegisterInterfaces(reg)
}
