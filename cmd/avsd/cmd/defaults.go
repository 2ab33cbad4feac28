package cmd

// The node and chain defaults `avsd init` writes (security review L-11): a
// non-zero minimum gas price in app.toml, and a block gas limit in genesis, so
// that every transaction pays for its gas and no block holds unbounded work.
// docs/VALIDATORS.md explains both and how to change them.

import (
	"fmt"
	"strings"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/server"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/avschain/avschain/app"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

const (
	// DefaultBlockMaxGas is the consensus block.max_gas `avsd init` writes:
	// the most gas (the sum of the transactions' gas limits) one block holds.
	// Measured on a real node (docs/VALIDATORS.md), the largest legitimate
	// transaction is a component that inflates to max_component_size (16 MiB)
	// with a Go module's compression: 220M gas used, 330M wanted at
	// --gas-adjustment 1.5. A 100-vote batch that completes 100 tasks with a
	// handler call each used 6.8M; a CosmWasm contract store about 1.5M.
	DefaultBlockMaxGas int64 = 500_000_000
	// DefaultBlockMaxBytes is CometBFT's default block.max_bytes (21 MiB),
	// written when genesis has none: room for a 16 MiB component upload.
	DefaultBlockMaxBytes int64 = 22_020_096
)

// DefaultMinGasPrices is the minimum-gas-prices `avsd init` writes into
// app.toml: x/avs's default handler_gas_price (0.01) in the bond denom, so a
// transaction's gas and a handler call's gas cost the same per unit.
func DefaultMinGasPrices() string {
	return trimDec(avstypes.DefaultHandlerGasPrice().String()) + app.BondDenom
}

// trimDec drops a decimal's trailing zeros ("0.010000000000000000" → "0.01").
func trimDec(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// withGenesisDefaults makes `avsd init` write the chain's consensus defaults
// (block.max_gas, and block.max_bytes when unset) into the genesis it creates.
func withGenesisDefaults(initCmd *cobra.Command) *cobra.Command {
	run := initCmd.RunE
	initCmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := run(cmd, args); err != nil {
			return err
		}
		// InitCmd has pointed the server config at --home.
		return setGenesisBlockDefaults(server.GetServerContextFromCmd(cmd).Config.GenesisFile())
	}
	return initCmd
}

// setGenesisBlockDefaults sets block.max_gas (and block.max_bytes when it is
// not positive) in the genesis file at path; the other consensus params are
// kept, or CometBFT's defaults when the file has none.
func setGenesisBlockDefaults(path string) error {
	gen, err := genutiltypes.AppGenesisFromFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if gen.Consensus == nil {
		gen.Consensus = &genutiltypes.ConsensusGenesis{}
	}
	if gen.Consensus.Params == nil {
		gen.Consensus.Params = cmttypes.DefaultConsensusParams()
	}
	block := &gen.Consensus.Params.Block
	block.MaxGas = DefaultBlockMaxGas
	if block.MaxBytes <= 0 {
		block.MaxBytes = DefaultBlockMaxBytes
	}
	if err := gen.Consensus.Params.ValidateBasic(); err != nil {
		return fmt.Errorf("consensus params: %w", err)
	}
	return gen.SaveAs(path)
}
