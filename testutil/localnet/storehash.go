package localnet

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	cmtprotocrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	storetypes "cosmossdk.io/store/types"
)

// StoreHash returns the root hash of one module store (its KV store key,
// "avs" say) in the node's own state after block height, and the app hash
// that root proves to, both hex like AppHash. The node computes them from
// its committed state: it answers an ABCI store query for key with a proof
// (the store's IAVL proof, then the multistore's proof of the store's root),
// and both proofs are run here. The app hash must equal the chain's
// AppHash(height+1); the root is the module's part of it, so two nodes whose
// roots agree hold the same module state.
func (n *Node) StoreHash(store string, key []byte, height int64) (root, appHash string, err error) {
	var res struct {
		Response struct {
			Code     uint32 `json:"code"`
			Log      string `json:"log"`
			Value    []byte `json:"value"`
			ProofOps *struct {
				Ops []cmtprotocrypto.ProofOp `json:"ops"`
			} `json:"proofOps"` // jsonpb names (abci.ResponseQuery.MarshalJSON)
		} `json:"response"`
	}
	path := fmt.Sprintf("/abci_query?path=%s&data=0x%s&height=%d&prove=true",
		url.QueryEscape(`"/store/`+store+`/key"`), hex.EncodeToString(key), height)
	if err := n.rpc(path, &res); err != nil {
		return "", "", err
	}
	r := res.Response
	if r.Code != 0 {
		return "", "", fmt.Errorf("node %d: store %s at height %d: code %d: %s", n.Index, store, height, r.Code, r.Log)
	}
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 2 {
		return "", "", fmt.Errorf("node %d: store %s at height %d: want 2 proof ops (store, multistore), got %+v", n.Index, store, height, r.ProofOps)
	}
	args := [][]byte{}
	if len(r.Value) > 0 {
		args = append(args, r.Value) // an existence proof of the value; none: an absence proof
	}
	var roots [][]byte
	for i, pop := range r.ProofOps.Ops {
		op, err := storetypes.CommitmentOpDecoder(pop)
		if err != nil {
			return "", "", fmt.Errorf("node %d: proof op %d: %w", n.Index, i, err)
		}
		if i == 1 && !bytes.Equal(op.GetKey(), []byte(store)) {
			return "", "", fmt.Errorf("node %d: the multistore proof is of store %q, not %q", n.Index, op.GetKey(), store)
		}
		out, err := op.Run(args)
		if err != nil {
			return "", "", fmt.Errorf("node %d: proof op %d (%s): %w", n.Index, i, pop.Type, err)
		}
		roots = append(roots, out[0])
		args = out
	}
	return strings.ToUpper(hex.EncodeToString(roots[0])), strings.ToUpper(hex.EncodeToString(roots[1])), nil
}
