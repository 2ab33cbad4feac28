package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/config"
	"github.com/avschain/avschain/sidecar/store"
)

// fakeRPC answers /status as a node of network and /genesis_chunked with
// genesis, in CometBFT's JSON.
func fakeRPC(t *testing.T, network, genesis string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		var res any
		switch req.Method {
		case "status":
			res = &coretypes.ResultStatus{NodeInfo: p2p.DefaultNodeInfo{Network: network}, SyncInfo: coretypes.SyncInfo{LatestBlockHeight: 10}}
		case "genesis_chunked":
			res = &coretypes.ResultGenesisChunk{ChunkNumber: 0, TotalChunks: 1, Data: base64.StdEncoding.EncodeToString([]byte(genesis))}
		default:
			http.Error(w, "unsupported", http.StatusNotFound)
			return
		}
		bz, err := cmtjson.Marshal(res)
		assert.NoError(t, err)
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":` + string(bz) + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func startConfig(t *testing.T, rpc string) config.Config {
	t.Helper()
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	cfg := config.Default()
	cfg.KeyringDir, cfg.DataDir, cfg.MetricsAddr = t.TempDir(), t.TempDir(), ""
	cfg.RPCEndpoints, cfg.GRPCEndpoints = []string{rpc}, []string{"127.0.0.1:1"}
	cfg.GasPrices = "0.01uavs"
	require.NoError(t, cfg.ExpandPaths())
	kr, err := keyring.New(keyringApp, "test", cfg.KeyringDir, nil, enc.Codec)
	require.NoError(t, err)
	_, _, err = kr.NewMnemonic(cfg.KeyName, keyring.English, "", "", hd.Secp256k1)
	require.NoError(t, err)
	return cfg
}

func startOnce(t *testing.T, cfg config.Config) error {
	t.Helper()
	n, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Start(ctx)
}

// TestH3StartRefusesAnotherChain: start refuses a node of another chain id,
// and a data dir bound to another genesis of the same chain id (a relaunched
// devnet), before anything runs; the store's records stay.
func TestH3StartRefusesAnotherChain(t *testing.T) {
	cfg := startConfig(t, fakeRPC(t, "avs-other", `{"chain_id":"avs-other"}`))
	err := startOnce(t, cfg)
	require.ErrorContains(t, err, `the node serves chain "avs-other" but chain_id is "avs-local-1"`)

	// The data dir was first used on another genesis of avs-local-1.
	cfg = startConfig(t, fakeRPC(t, "avs-local-1", `{"chain_id":"avs-local-1","genesis_time":"2026"}`))
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"))
	require.NoError(t, err)
	require.NoError(t, st.BindChain(store.Identity{ChainID: "avs-local-1", GenesisHash: "0123456789abcdef0123"}))
	require.NoError(t, st.SetCursor(77))
	require.NoError(t, st.Close())

	err = startOnce(t, cfg)
	require.ErrorContains(t, err, "data_dir "+cfg.DataDir)
	require.ErrorContains(t, err, `belongs to chain "avs-local-1" (genesis 0123456789abcdef`)
	require.ErrorContains(t, err, "nothing was deleted")

	st, err = store.Open(filepath.Join(cfg.DataDir, "store"))
	require.NoError(t, err)
	defer st.Close()
	cursor, err := st.Cursor()
	require.NoError(t, err)
	require.EqualValues(t, 77, cursor)
}
