package chain_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// pagedOperators serves Query/Operator the way x/avs does: service_ids a
// page at a time (the SDK's 100 by default, at most types.MaxPageLimit), the
// next_key being the next id's position.
type pagedOperators struct {
	types.UnimplementedQueryServer
	operator string
	ids      []uint64
	requests int
}

func (p *pagedOperators) Operator(_ context.Context, req *types.QueryOperatorRequest) (*types.QueryOperatorResponse, error) {
	p.requests++
	if req.Address != p.operator {
		return nil, status.Error(codes.NotFound, "operator not found")
	}
	limit, start := uint64(query.DefaultLimit), uint64(0)
	if req.Pagination != nil {
		if req.Pagination.Limit > types.MaxPageLimit {
			return nil, status.Error(codes.InvalidArgument, "page limit")
		}
		if req.Pagination.Limit > 0 {
			limit = req.Pagination.Limit
		}
		if len(req.Pagination.Key) > 0 {
			start = binary.BigEndian.Uint64(req.Pagination.Key)
		}
	}
	end := min(start+limit, uint64(len(p.ids)))
	res := &types.QueryOperatorResponse{Operator: types.Operator{Address: p.operator}, ServiceIds: p.ids[start:end], Pagination: &query.PageResponse{}}
	if end < uint64(len(p.ids)) {
		res.Pagination.NextKey = binary.BigEndian.AppendUint64(nil, end)
	}
	return res, nil
}

func serve(t *testing.T, srv types.QueryServer) *chain.Client {
	t.Helper()
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1"}, []string{serveGRPC(t, srv)})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestL10OperatorServicesReadsEveryPage: an operator in more services than
// a page holds gets them all, each once, in order (the sidecar used to take
// the one unpaged answer).
func TestL10OperatorServicesReadsEveryPage(t *testing.T) {
	srv := &pagedOperators{operator: "avs1op"}
	for i := uint64(1); i <= 2*types.MaxPageLimit+5; i++ {
		srv.ids = append(srv.ids, i)
	}
	c := serve(t, srv)

	ids, err := c.OperatorServices(context.Background(), "avs1op")
	require.NoError(t, err)
	require.Equal(t, srv.ids, ids)
	require.Equal(t, 3, srv.requests, "pages of MaxPageLimit")

	ids, err = c.OperatorServices(context.Background(), "avs1other")
	require.NoError(t, err)
	require.Nil(t, ids, "an unregistered operator runs nothing")
}

// revisions serves a service at revision 3 and the manifests of its past
// revisions, counting the revision queries.
type revisions struct {
	types.UnimplementedQueryServer
	past     map[uint64]types.ServiceManifest
	requests int
}

func (r *revisions) Service(_ context.Context, req *types.QueryServiceRequest) (*types.QueryServiceResponse, error) {
	return &types.QueryServiceResponse{Service: types.Service{
		Id: req.ServiceId, Revision: 3, Manifest: types.ServiceManifest{Name: "current", Limits: types.Limits{TimeMs: 30}},
	}}, nil
}

func (r *revisions) ServiceRevision(_ context.Context, req *types.QueryServiceRevisionRequest) (*types.QueryServiceRevisionResponse, error) {
	r.requests++
	m, ok := r.past[req.Revision]
	if !ok {
		return nil, status.Error(codes.NotFound, "service revision not found")
	}
	return &types.QueryServiceRevisionResponse{Manifest: m}, nil
}

// TestH3TaskServiceServesTheTaskRevision: the sidecar runs a task with the
// manifest of its revision (H-3), asked once per revision; the current
// revision, and a task without one, need no extra query.
func TestH3TaskServiceServesTheTaskRevision(t *testing.T) {
	srv := &revisions{past: map[uint64]types.ServiceManifest{1: {Name: "first", Limits: types.Limits{TimeMs: 10}}}}
	c := serve(t, srv)
	ctx := context.Background()
	for range 2 {
		svc, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: 1})
		require.NoError(t, err)
		require.Equal(t, "first", svc.Manifest.Name)
		require.Equal(t, uint64(10), svc.Manifest.Limits.TimeMs)
		require.Equal(t, uint64(1), svc.Revision)
		require.Equal(t, uint64(7), svc.Id)
	}
	require.Equal(t, 1, srv.requests, "a revision is fetched once")
	for _, rev := range []uint64{3, 0} {
		svc, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: rev})
		require.NoError(t, err)
		require.Equal(t, "current", svc.Manifest.Name)
	}
	require.Equal(t, 1, srv.requests)
	_, err := c.TaskService(ctx, types.Task{ServiceId: 7, ServiceRevision: 2})
	require.Equal(t, codes.NotFound, status.Code(errors.Unwrap(err)))
}

// TestH2RPCCallsTimeOutAndFailOver: an RPC endpoint that accepts TCP and
// never answers no longer freezes the caller: the call times out and the
// next endpoint answers (H2).
func TestH2RPCCallsTimeOutAndFailOver(t *testing.T) {
	hung, good := "tcp://"+silentListener(t), newFakeNode(t, 42)
	rec := &recorder{}
	c, err := chain.Dial("test", []string{hung, good.URL}, []string{"127.0.0.1:1"},
		chain.WithCallTimeout(300*time.Millisecond), chain.WithMetrics(rec))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	var h int64
	within(t, 30*time.Second, "LatestHeight", func() { h, err = c.LatestHeight(context.Background()) })
	require.NoError(t, err)
	require.Equal(t, int64(42), h)
	require.Equal(t, good.URL, c.RPCURL())
	failOvers, _, _ := rec.snapshot()
	require.Equal(t, []string{"rpc/timeout"}, failOvers)
}

// TestH2BroadcastSyncDoesNotHang: a broadcast to a node that never answers
// returns an error (an unknown outcome for the submitter) instead of
// blocking every vote (H2).
func TestH2BroadcastSyncDoesNotHang(t *testing.T) {
	c, err := chain.Dial("test", []string{"tcp://" + silentListener(t)}, []string{"127.0.0.1:1"},
		chain.WithCallTimeout(300*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	within(t, 30*time.Second, "BroadcastSync", func() { _, err = c.BroadcastSync(context.Background(), []byte("tx")) })
	require.Error(t, err)
}

// TestH2GRPCCallsTimeOutAndFailOver: a gRPC endpoint that accepts TCP and
// never speaks HTTP/2 times out per call and the next endpoint answers (H2).
func TestH2GRPCCallsTimeOutAndFailOver(t *testing.T) {
	good := serveGRPC(t, &params{maxVotes: 7})
	rec := &recorder{}
	c, err := chain.Dial("test", []string{newFakeNode(t, 1).URL}, []string{silentListener(t), good},
		chain.WithCallTimeout(300*time.Millisecond), chain.WithMetrics(rec))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	var p types.Params
	within(t, 30*time.Second, "Params", func() { p, err = c.Params(context.Background()) })
	require.NoError(t, err)
	require.Equal(t, uint32(7), p.MaxVotesPerTx)
	require.Equal(t, good, c.GRPCURL())
	failOvers, _, _ := rec.snapshot()
	require.Equal(t, []string{"grpc/timeout"}, failOvers)
}

// TestH3PairedEndpointsFailOverTogether: with as many RPC as gRPC endpoints
// (rpc[i] and grpc[i] are one node), a fail-over of either moves both, so
// blocks and state come from the same node (H3).
func TestH3PairedEndpointsFailOverTogether(t *testing.T) {
	a, b := serveGRPC(t, &params{maxVotes: 1}), serveGRPC(t, &params{maxVotes: 2})
	rec, rpcA := &recorder{}, newFakeNode(t, 5)
	c, err := chain.Dial("test", []string{"tcp://" + silentListener(t), rpcA.URL}, []string{a, b},
		chain.WithCallTimeout(300*time.Millisecond), chain.WithMetrics(rec))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	within(t, 30*time.Second, "LatestHeight", func() { _, err = c.LatestHeight(context.Background()) })
	require.NoError(t, err)
	require.Equal(t, b, c.GRPCURL(), "the RPC fail-over moved gRPC to the same node")
	p, err := c.Params(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint32(2), p.MaxVotesPerTx)
	_, _, endpoints := rec.snapshot()
	require.NotEmpty(t, endpoints)
	require.Equal(t, [2]string{rpcA.URL, b}, endpoints[len(endpoints)-1], "the endpoints in use are reported")

	rpcB := newFakeNode(t, 5)
	c, err = chain.Dial("test", []string{newFakeNode(t, 5).URL, rpcB.URL}, []string{silentListener(t), b},
		chain.WithCallTimeout(300*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	within(t, 30*time.Second, "Params", func() { _, err = c.Params(context.Background()) })
	require.NoError(t, err)
	require.Equal(t, rpcB.URL, c.RPCURL(), "the gRPC fail-over moved RPC to the same node")
}

// TestM1AppErrorsDoNotFailOver: an ABCI query answered with code != 0 (a
// component's chain_query at a pruned height) and a /tx error (indexing
// disabled) are answers, not broken endpoints: they are returned as-is,
// the endpoint stays and no other endpoint is asked (M1).
func TestM1AppErrorsDoNotFailOver(t *testing.T) {
	first, second := newFakeNode(t, 10), newFakeNode(t, 10)
	first.set(func(f *fakeNode) { f.abciCode, f.txErr = 22, "transaction indexing is disabled" })
	c, err := chain.Dial("test", []string{first.URL, second.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	_, err = c.ABCIQuery(context.Background(), "/avschain.avs.v1.Query/Task", nil, 3)
	var abciErr *chain.ABCIError
	require.ErrorAs(t, err, &abciErr)
	require.Equal(t, uint32(22), abciErr.Code)
	require.Equal(t, "pruned height", abciErr.Log)
	require.Equal(t, first.URL, c.RPCURL())

	_, err = c.TxResult(context.Background(), []byte{1})
	require.ErrorContains(t, err, "transaction indexing is disabled")
	require.Equal(t, first.URL, c.RPCURL())
	require.Zero(t, second.hitCount("abci_query")+second.hitCount("tx"), "an app error is not retried elsewhere")
}

// TestL7ConcurrentFailuresAdvanceOnce: calls failing on the same endpoint at
// the same time move the client one endpoint on, not one per call (which
// skipped the healthy next endpoint, or came back to the failing one).
func TestL7ConcurrentFailuresAdvanceOnce(t *testing.T) {
	const callers = 2
	bad, next, last := newFakeNode(t, 1), newFakeNode(t, 1), newFakeNode(t, 1)
	arrived, release := 0, make(chan struct{})
	var once sync.Once
	bad.set(func(f *fakeNode) {
		f.hold = func() bool {
			f.mu.Lock()
			arrived++
			if arrived == callers {
				once.Do(func() { close(release) })
			}
			f.mu.Unlock()
			select {
			case <-release:
			case <-time.After(20 * time.Second):
			}
			return false
		}
	})
	c, err := chain.Dial("test", []string{bad.URL, next.URL, last.URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.LatestHeight(context.Background())
		}()
	}
	within(t, 30*time.Second, "concurrent LatestHeight", wg.Wait)
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, next.URL, c.RPCURL())
	require.Zero(t, last.hitCount("status"), "the healthy next endpoint was not skipped")
}

// TestH3HealthCheck: the endpoint in use is abandoned when it is catching
// up, its last block is stale, or it lags the best endpoint, for the next
// healthy one; a healthy endpoint, or one with nothing better, is kept.
func TestH3HealthCheck(t *testing.T) {
	now := time.Now()
	type node struct {
		height     int64
		age        time.Duration
		catchingUp bool
	}
	for _, tc := range []struct {
		name      string
		nodes     []node
		want      int    // endpoint in use after the check
		failOvers string // kind/reason, "" for none
	}{
		{name: "healthy stays", nodes: []node{{height: 100}, {height: 103}}, want: 0},
		{name: "catching up", nodes: []node{{height: 100, catchingUp: true}, {height: 100}}, want: 1, failOvers: "rpc/catching_up"},
		{name: "stale", nodes: []node{{height: 100, age: 5 * time.Minute}, {height: 100}}, want: 1, failOvers: "rpc/stale"},
		{name: "lagging", nodes: []node{{height: 100}, {height: 106}}, want: 1, failOvers: "rpc/lagging"},
		{name: "skips an unhealthy next", nodes: []node{{height: 100, catchingUp: true}, {height: 100, age: time.Hour}, {height: 100}}, want: 2, failOvers: "rpc/catching_up"},
		{name: "nothing better stays", nodes: []node{{height: 100, age: time.Hour}, {height: 100, age: time.Hour}}, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var urls []string
			for _, n := range tc.nodes {
				f := newFakeNode(t, n.height)
				f.set(func(f *fakeNode) { f.blockTime, f.catchingUp = now.Add(-n.age), n.catchingUp })
				urls = append(urls, f.URL)
			}
			rec := &recorder{}
			c, err := chain.Dial("test", urls, []string{"127.0.0.1:1"},
				chain.WithMaxLag(5), chain.WithStaleAfter(30*time.Second), chain.WithMetrics(rec))
			require.NoError(t, err)
			t.Cleanup(c.Close)

			within(t, 30*time.Second, "CheckHealth", func() { c.CheckHealth(context.Background()) })
			require.Equal(t, urls[tc.want], c.RPCURL())
			failOvers, heads, _ := rec.snapshot()
			if tc.failOvers == "" {
				require.Empty(t, failOvers)
			} else {
				require.Equal(t, []string{tc.failOvers}, failOvers)
			}
			require.NotEmpty(t, heads, "the chain head is reported")
			require.Equal(t, tc.nodes[tc.want].height, heads[len(heads)-1])
		})
	}
}

// TestH3Status exposes the node's /status (network, earliest height, tx
// index) for startup checks.
func TestH3Status(t *testing.T) {
	c, err := chain.Dial("test", []string{newFakeNode(t, 9).URL}, []string{"127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	st, err := c.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, "test", st.NodeInfo.Network)
	require.Equal(t, int64(9), st.SyncInfo.LatestBlockHeight)
	require.Equal(t, int64(1), st.SyncInfo.EarliestBlockHeight)
	require.True(t, st.TxIndexEnabled())
}

// slowCode answers ComponentCode after a while and never answers Params.
type slowCode struct {
	types.UnimplementedQueryServer
}

func (*slowCode) ComponentCode(context.Context, *types.QueryComponentCodeRequest) (*types.QueryComponentCodeResponse, error) {
	time.Sleep(300 * time.Millisecond)
	return &types.QueryComponentCodeResponse{Wasm: []byte("wasm")}, nil
}

func (*slowCode) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestH2ComponentCodeHasItsOwnTimeout: a query is cut at the call timeout,
// a component download gets the longer code timeout.
func TestH2ComponentCodeHasItsOwnTimeout(t *testing.T) {
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1"}, []string{serveGRPC(t, &slowCode{})},
		chain.WithCallTimeout(100*time.Millisecond), chain.WithCodeTimeout(time.Minute))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	within(t, 30*time.Second, "Params", func() { _, err = c.Params(context.Background()) })
	require.Equal(t, codes.DeadlineExceeded, status.Code(err))
	var code []byte
	within(t, 30*time.Second, "ComponentCode", func() { code, err = c.ComponentCode(context.Background(), "digest") })
	require.NoError(t, err)
	require.Equal(t, []byte("wasm"), code)
}

// TestH3WatchEndsWithItsContext: Watch checks at once, then stops when its
// context ends.
func TestH3WatchEndsWithItsContext(t *testing.T) {
	rec := &recorder{}
	c, err := chain.Dial("test", []string{newFakeNode(t, 12).URL}, []string{"127.0.0.1:1"},
		chain.WithHealthInterval(time.Hour), chain.WithMetrics(rec))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, heads, _ := rec.snapshot(); len(heads) > 0 {
			require.Equal(t, int64(12), heads[0])
			break
		}
		require.True(t, time.Now().Before(deadline), "Watch did not check at start")
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end with its context")
	}
}
