//go:build e2e

package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// TestL11NodeDefaultsPriceEveryTx: a chain started from `avsd init`'s
// defaults (security review L-11) has a block gas limit, refuses a
// transaction that pays no fee or asks for more gas than a block holds, and
// accepts one that pays the minimum gas price.
func TestL11NodeDefaultsPriceEveryTx(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-fees"})
	require.Equal(t, "0.01uavs", node.GasPrices, "avsd init's minimum-gas-prices")

	var consensus struct {
		Params struct {
			Block struct {
				MaxGas string `json:"max_gas"`
			} `json:"block"`
		} `json:"params"`
	}
	node.Query(&consensus, "consensus", "params")
	require.Equal(t, "500000000", consensus.Params.Block.MaxGas)

	bob := node.KeyAddress("bob")
	require.Contains(t, node.TxErrorWithFees("alice", "200000", "", "bank", "send", "alice", bob, "1uavs"),
		"insufficient fee")
	require.Contains(t, node.TxErrorWithFees("alice", "500000001", node.GasPrices, "bank", "send", "alice", bob, "1uavs"),
		"exceeds block max gas")

	res := node.Tx("alice", "bank", "send", "alice", bob, "1uavs")
	require.Zero(t, res.Code, res.RawLog)
	require.Positive(t, res.FeePaid("uavs"))
}
