package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/cmd/avsd/internal/runner"
	sidecarconfig "github.com/avschain/avschain/sidecar/config"
	avstypes "github.com/avschain/avschain/x/avs/types"
)

// TestL11InitWritesSafeDefaults runs `avsd init` into a temp home, as main
// does, and reads what it wrote (security review L-11): a non-zero minimum gas
// price in app.toml, and a block gas limit in genesis.json's consensus params.
func TestL11InitWritesSafeDefaults(t *testing.T) {
	home := t.TempDir()
	root := NewRootCmd()
	root.SetArgs([]string{"init", "l11", "--home", home, "--chain-id", "avs-l11-1"})
	require.NoError(t, runner.Execute(root, "", home))

	t.Run("app.toml: minimum-gas-prices is 0.01uavs, handler_gas_price's default", func(t *testing.T) {
		bz, err := os.ReadFile(filepath.Join(home, "config", "app.toml"))
		require.NoError(t, err)
		var appToml struct {
			MinGasPrices string `toml:"minimum-gas-prices"`
		}
		require.NoError(t, toml.Unmarshal(bz, &appToml))
		require.Equal(t, "0.01uavs", appToml.MinGasPrices)
		prices, err := sdk.ParseDecCoins(appToml.MinGasPrices)
		require.NoError(t, err)
		require.Equal(t, sdk.NewDecCoins(sdk.NewDecCoinFromDec(app.BondDenom, avstypes.DefaultHandlerGasPrice())), prices)
		require.False(t, prices.IsZero(), "a zero price lets anyone fill blocks for free")
	})

	t.Run("genesis.json: consensus.params.block.max_gas and max_bytes", func(t *testing.T) {
		path := filepath.Join(home, "config", "genesis.json")
		bz, err := os.ReadFile(path)
		require.NoError(t, err)
		// The SDK v0.50 layout, as CometBFT and the scripts read it.
		var raw struct {
			Consensus struct {
				Params struct {
					Block struct {
						MaxBytes string `json:"max_bytes"`
						MaxGas   string `json:"max_gas"`
					} `json:"block"`
				} `json:"params"`
			} `json:"consensus"`
		}
		require.NoError(t, json.Unmarshal(bz, &raw))
		require.Equal(t, "500000000", raw.Consensus.Params.Block.MaxGas)
		require.Equal(t, "22020096", raw.Consensus.Params.Block.MaxBytes)

		gen, err := genutiltypes.AppGenesisFromFile(path)
		require.NoError(t, err)
		require.NoError(t, gen.ValidateAndComplete())
		doc, err := gen.ToGenesisDoc()
		require.NoError(t, err)
		require.Equal(t, DefaultBlockMaxGas, doc.ConsensusParams.Block.MaxGas)
		require.Equal(t, cmttypes.DefaultConsensusParams().Evidence, doc.ConsensusParams.Evidence, "the other params are CometBFT's")
		require.Equal(t, "avs-l11-1", doc.ChainID)
	})
}

// TestSetGenesisBlockDefaults: an unlimited max_bytes (-1) gets the default,
// a chosen one is kept, and max_gas is always set.
func TestSetGenesisBlockDefaults(t *testing.T) {
	for _, tc := range []struct {
		name              string
		maxBytes, wantMax int64
	}{
		{"unlimited max_bytes gets the default", -1, DefaultBlockMaxBytes},
		{"a chosen max_bytes is kept", 1 << 20, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := cmttypes.DefaultConsensusParams()
			params.Block.MaxBytes, params.Block.MaxGas = tc.maxBytes, -1
			gen := &genutiltypes.AppGenesis{
				ChainID: "avs-l11-2", AppState: json.RawMessage(`{}`),
				Consensus: &genutiltypes.ConsensusGenesis{Params: params},
			}
			path := filepath.Join(t.TempDir(), "genesis.json")
			require.NoError(t, gen.SaveAs(path))

			require.NoError(t, setGenesisBlockDefaults(path))
			got, err := genutiltypes.AppGenesisFromFile(path)
			require.NoError(t, err)
			require.Equal(t, DefaultBlockMaxGas, got.Consensus.Params.Block.MaxGas)
			require.Equal(t, tc.wantMax, got.Consensus.Params.Block.MaxBytes)
		})
	}
}

// TestSidecarDefaultGasPriceIsTheNodeMinimum: a sidecar left at its default
// gas_prices reads the node's minimum (M10), and when it cannot, pays what a
// node left at its default asks.
func TestSidecarDefaultGasPriceIsTheNodeMinimum(t *testing.T) {
	require.Empty(t, sidecarconfig.Default().GasPrices, `"" reads the node's minimum-gas-prices`)
	require.Equal(t, sidecarconfig.FallbackGasPrices, DefaultMinGasPrices())
}
