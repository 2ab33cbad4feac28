package chain_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// genesisServer answers JSON-RPC genesis_chunked with doc in chunks of size.
func genesisServer(t *testing.T, doc []byte, size int) string {
	t.Helper()
	var chunks []string
	for i := 0; i < len(doc); i += size {
		chunks = append(chunks, base64.StdEncoding.EncodeToString(doc[i:min(i+size, len(doc))]))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Chunk string `json:"chunk"`
			} `json:"params"`
		}
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		assert.Equal(t, "genesis_chunked", req.Method)
		var n int
		assert.NoError(t, json.Unmarshal([]byte(req.Params.Chunk), &n))
		res, _ := json.Marshal(map[string]any{"chunk": strconv.Itoa(n), "total": strconv.Itoa(len(chunks)), "data": chunks[n]}) // cmtjson: ints as strings
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":` + string(res) + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestH3GenesisHashReadsEveryChunk: the hash is over the whole document,
// whatever the chunking.
func TestH3GenesisHashReadsEveryChunk(t *testing.T) {
	doc := []byte(`{"genesis_time":"2025-01-01T00:00:00Z","chain_id":"avs-1","app_state":{"x":1}}`)
	want := sha256.Sum256(doc)
	for _, size := range []int{7, len(doc)} {
		c, err := chain.Dial("avs-1", []string{genesisServer(t, doc, size)}, []string{"127.0.0.1:1"})
		require.NoError(t, err)
		got, err := c.GenesisHash(context.Background())
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(want[:]), got)
		c.Close()
	}
}

// liveOperators serves Query/Operator with liveness, a page of 2 at a time.
type liveOperators struct {
	types.UnimplementedQueryServer
	ids []uint64
}

func (p *liveOperators) Operator(_ context.Context, req *types.QueryOperatorRequest) (*types.QueryOperatorResponse, error) {
	if req.Address != "avs1op" {
		return nil, status.Error(codes.NotFound, "operator not found")
	}
	start := uint64(0)
	if req.Pagination != nil && len(req.Pagination.Key) > 0 {
		start = binary.BigEndian.Uint64(req.Pagination.Key)
	}
	end := min(start+2, uint64(len(p.ids)))
	res := &types.QueryOperatorResponse{ServiceIds: p.ids[start:end], Pagination: &query.PageResponse{}}
	for _, id := range p.ids[start:end] {
		res.Liveness = append(res.Liveness, types.OperatorLiveness{WindowMissed: id, Jailed: id == 3})
	}
	if end < uint64(len(p.ids)) {
		res.Pagination.NextKey = binary.BigEndian.AppendUint64(nil, end)
	}
	return res, nil
}

type minGas struct {
	nodeservice.UnimplementedServiceServer
	price string
}

func (m *minGas) Config(context.Context, *nodeservice.ConfigRequest) (*nodeservice.ConfigResponse, error) {
	return &nodeservice.ConfigResponse{MinimumGasPrice: m.price}, nil
}

func TestOperatorInfoAndMinGasPrices(t *testing.T) {
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(enc.Registry).GRPCCodec()))
	types.RegisterQueryServer(s, &liveOperators{ids: []uint64{1, 2, 3, 4, 5}})
	nodeservice.RegisterServiceServer(s, &minGas{price: "0.025000000000000000uavs"})
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1"}, []string{lis.Addr().String()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := context.Background()

	registered, ids, live, err := c.OperatorInfo(ctx, "avs1op")
	require.NoError(t, err)
	require.True(t, registered)
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, ids)
	require.Len(t, live, 5, "liveness of every page")
	require.True(t, live[2].Jailed)
	require.EqualValues(t, 5, live[4].WindowMissed)

	registered, ids, _, err = c.OperatorInfo(ctx, "avs1nobody")
	require.NoError(t, err)
	require.False(t, registered)
	require.Empty(t, ids)

	prices, err := c.MinGasPrices(ctx)
	require.NoError(t, err)
	require.Equal(t, "0.025000000000000000uavs", prices.String())
}
