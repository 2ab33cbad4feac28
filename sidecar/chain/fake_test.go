package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeNode speaks enough CometBFT JSON-RPC over HTTP for the client
// (status, abci_query, tx, broadcast_tx_sync, block, block_results) and, when ws is set, serves
// /websocket with it.
type fakeNode struct {
	*httptest.Server

	mu         sync.Mutex
	height     int64
	blockTime  time.Time
	catchingUp bool
	abciCode   uint32
	txErr      string
	hits       map[string]int
	ws         func(conn *websocket.Conn)
	// hold, when set, is called before answering (a barrier for
	// concurrent-failure tests); a false return drops the connection.
	hold func() bool
}

func newFakeNode(t *testing.T, height int64) *fakeNode {
	t.Helper()
	f := &fakeNode{height: height, blockTime: time.Now(), hits: map[string]int{}}
	f.Server = httptest.NewServer(f)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeNode) set(fn func(f *fakeNode)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeNode) hitCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[method]
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/websocket" {
		f.mu.Lock()
		ws := f.ws
		f.mu.Unlock()
		if ws == nil {
			http.NotFound(w, r)
			return
		}
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		ws(conn)
		return
	}
	var req rpctypes.RPCRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.hits[req.Method]++
	hold := f.hold
	f.mu.Unlock()
	if hold != nil && !hold() {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	f.mu.Lock()
	var res rpctypes.RPCResponse
	switch req.Method {
	case "status":
		st := &coretypes.ResultStatus{SyncInfo: coretypes.SyncInfo{
			LatestBlockHeight: f.height, LatestBlockTime: f.blockTime, EarliestBlockHeight: 1, CatchingUp: f.catchingUp,
		}}
		st.NodeInfo.Network, st.NodeInfo.Other.TxIndex = "test", "on"
		res = rpctypes.NewRPCSuccessResponse(req.ID, st)
	case "abci_query":
		res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultABCIQuery{Response: abci.ResponseQuery{
			Code: f.abciCode, Codespace: "sdk", Log: "pruned height", Height: f.height,
		}})
	case "tx":
		res = rpctypes.RPCInternalError(req.ID, errors.New(f.txErr))
	case "broadcast_tx_sync":
		res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultBroadcastTx{})
	case "block", "block_results":
		var p struct {
			Height int64 `json:"height,string"`
		}
		switch err := json.Unmarshal(req.Params, &p); {
		case err != nil:
			res = rpctypes.RPCInvalidParamsError(req.ID, err)
		case p.Height > f.height:
			res = rpctypes.RPCInternalError(req.ID, fmt.Errorf("height %d must be less than or equal to the current blockchain height %d", p.Height, f.height))
		case req.Method == "block":
			res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultBlock{Block: &cmttypes.Block{Header: cmttypes.Header{Height: p.Height}}})
		default:
			res = rpctypes.NewRPCSuccessResponse(req.ID, &coretypes.ResultBlockResults{Height: p.Height})
		}
	default:
		res = rpctypes.RPCMethodNotFoundError(req.ID)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// silentListener accepts TCP connections and never answers: a hung node, a
// saturated load balancer.
func silentListener(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return lis.Addr().String()
}

// serveGRPC serves an x/avs query server and returns its address.
func serveGRPC(t *testing.T, srv types.QueryServer) string {
	t.Helper()
	enc, err := chain.NewEncoding()
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(enc.Registry).GRPCCodec()))
	types.RegisterQueryServer(s, srv)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// params answers Query/Params with a recognisable max_votes_per_tx.
type params struct {
	types.UnimplementedQueryServer
	maxVotes uint32
}

func (p *params) Params(context.Context, *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	return &types.QueryParamsResponse{Params: types.Params{MaxVotesPerTx: p.maxVotes}}, nil
}

// recorder is a chain.Metrics that keeps what it was told.
type recorder struct {
	mu        sync.Mutex
	failOvers []string // kind/reason
	heads     []int64
	endpoints [][2]string
	calls     map[string]int // kind/method
}

func (r *recorder) RPCCall(kind, method string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[kind+"/"+method]++
}

func (r *recorder) callCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.calls))
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

func (r *recorder) ChainHead(h int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heads = append(r.heads, h)
}

func (r *recorder) FailOver(kind, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failOvers = append(r.failOvers, kind+"/"+reason)
}

func (r *recorder) Endpoints(rpc, grpc string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints = append(r.endpoints, [2]string{rpc, grpc})
}

func (r *recorder) snapshot() (failOvers []string, heads []int64, endpoints [][2]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.failOvers...), append([]int64(nil), r.heads...), append([][2]string(nil), r.endpoints...)
}

// within runs f and fails the test if it has not returned by the deadline
// (a hung call must fail the test, not hang it).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
	}
}
