package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"cosmossdk.io/x/tx/signing"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/app/prefix"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/x/avs/types"
)

// Encoding is what the sidecar needs to build, sign and read transactions.
type Encoding struct {
	Registry codectypes.InterfaceRegistry
	Codec    codec.Codec
	TxConfig client.TxConfig
}

var prefixesOnce sync.Once

// SetAddressPrefixes makes the SDK print and parse avs1... addresses (the
// SDK's bech32 configuration is global), with the prefixes avsd uses
// (package prefix; the sidecar does not import the app).
func SetAddressPrefixes() {
	prefixesOnce.Do(func() {
		cfg := sdk.GetConfig()
		if cfg.GetBech32AccountAddrPrefix() == prefix.Account {
			return
		}
		cfg.SetBech32PrefixForAccount(prefix.Account, prefix.AccountPub)
		cfg.SetBech32PrefixForValidator(prefix.Validator, prefix.ValidatorPub)
		cfg.SetBech32PrefixForConsensusNode(prefix.Consensus, prefix.ConsensusPub)
	})
}

// NewEncoding registers the SDK's base types, auth and x/avs, and sets the
// avs address prefixes.
func NewEncoding() (Encoding, error) {
	SetAddressPrefixes()
	reg, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.NewBech32Codec(prefix.Account),
			ValidatorAddressCodec: address.NewBech32Codec(prefix.Validator),
		},
	})
	if err != nil {
		return Encoding{}, err
	}
	std.RegisterInterfaces(reg)
	authtypes.RegisterInterfaces(reg)
	types.RegisterInterfaces(reg)
	RegisterVoteKeyInterfaces(reg) // authz MsgExec of a vote key, and its response
	cdc := codec.NewProtoCodec(reg)
	return Encoding{Registry: reg, Codec: cdc, TxConfig: tx.NewTxConfig(cdc, tx.DefaultSignModes)}, nil
}

// Client talks to one chain through one endpoint of each kind at a time.
type Client struct {
	Enc     Encoding
	ChainID string

	callTimeout     time.Duration
	codeTimeout     time.Duration
	simulateTimeout time.Duration
	healthEvery     time.Duration
	staleAfter      time.Duration
	maxLag          int64
	pingPeriod      time.Duration
	readWait        time.Duration
	metrics         Metrics
	log             *slog.Logger

	// Set at Dial, read-only after.
	rpcs     []*rpchttp.HTTP
	https    []*http.Client
	rpcURLs  []string
	conns    []*grpc.ClientConn
	grpcURLs []string

	mu      sync.Mutex
	rpcIdx  int
	grpcIdx int

	warnMu sync.Mutex
	warned map[string]time.Time

	// Recent heights' blocks and block results, shared by the sidecar's
	// parts (WithBlockCache).
	blockCache   int
	blocks       *heightCache[*coretypes.ResultBlock]
	blockResults *heightCache[*coretypes.ResultBlockResults]

	// revisions caches service manifests by (service, revision): a
	// revision never changes.
	revMu     sync.Mutex
	revisions map[[2]uint64]types.ServiceManifest
}

// Full names of the gRPC methods with their own timeout.
const (
	componentCodeMethod = "/avschain.avs.v1.Query/ComponentCode"
	simulateMethod      = "/cosmos.tx.v1beta1.Service/Simulate"
)

// grpcKeepalive pings a connection that has had no data for 30 s during a
// call and drops it when the ping is not answered in 10 s; grpc-go also sets
// TCP_USER_TIMEOUT to the 10 s. Pings without a call in flight are not sent:
// the SDK's gRPC server keeps grpc-go's enforcement policy (at most one ping
// per 5 min, none without a stream), so idle pings every 30 s would earn a
// GOAWAY "too_many_pings" and a dropped connection. The per-call deadlines
// bound the idle case.
var grpcKeepalive = keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: false}

// Dial prepares clients for every endpoint; nothing is contacted yet. Pass
// as many RPC as gRPC endpoints, in the same order, when each pair is one
// node: they then fail over together.
func Dial(chainID string, rpcEndpoints, grpcEndpoints []string, opts ...Option) (*Client, error) {
	enc, err := NewEncoding()
	if err != nil {
		return nil, err
	}
	c := &Client{
		Enc: enc, ChainID: chainID,
		callTimeout: DefaultCallTimeout, codeTimeout: DefaultCodeTimeout, simulateTimeout: DefaultSimulateTimeout,
		healthEvery: DefaultHealthInterval, staleAfter: DefaultStaleAfter, maxLag: DefaultMaxLag,
		pingPeriod: DefaultPingPeriod, readWait: DefaultReadWait, blockCache: DefaultBlockCache,
		metrics: metrics.Nop(), log: slog.Default(),
		warned: map[string]time.Time{}, revisions: map[[2]uint64]types.ServiceManifest{},
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.blocks = newHeightCache[*coretypes.ResultBlock](c.blockCache)
	c.blockResults = newHeightCache[*coretypes.ResultBlockResults](c.blockCache)
	if len(rpcEndpoints) == 0 || len(grpcEndpoints) == 0 {
		return nil, errors.New("need at least one RPC and one gRPC endpoint")
	}
	for _, e := range rpcEndpoints {
		hc, err := jsonrpcclient.DefaultHTTPClient(e)
		if err != nil {
			return nil, fmt.Errorf("rpc endpoint %q: %w", e, err)
		}
		hc.Timeout = c.callTimeout
		h, err := rpchttp.NewWithClient(e, "/websocket", hc)
		if err != nil {
			return nil, fmt.Errorf("rpc endpoint %q: %w", e, err)
		}
		c.rpcs, c.https, c.rpcURLs = append(c.rpcs, h), append(c.https, hc), append(c.rpcURLs, e)
	}
	for _, e := range grpcEndpoints {
		target := strings.TrimPrefix(strings.TrimPrefix(e, "tcp://"), "http://")
		conn, err := grpc.NewClient(target,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithKeepaliveParams(grpcKeepalive),
			grpc.WithUnaryInterceptor(c.deadline),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(enc.Registry).GRPCCodec())))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("grpc endpoint %q: %w", e, err)
		}
		c.conns, c.grpcURLs = append(c.conns, conn), append(c.grpcURLs, e)
	}
	c.metrics.Endpoints(c.rpcURLs[0], c.grpcURLs[0])
	return c, nil
}

// Close closes the gRPC connections and idle HTTP connections.
func (c *Client) Close() {
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	for _, hc := range c.https {
		hc.CloseIdleConnections()
	}
}

// deadline counts a gRPC call and gives it, when its context has no
// deadline, the timeout of its method.
func (c *Client) deadline(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.metrics.RPCCall(kindGRPC, strings.TrimPrefix(method, "/"))
	if _, ok := ctx.Deadline(); !ok {
		d := c.callTimeout
		switch method {
		case componentCodeMethod:
			d = c.codeTimeout
		case simulateMethod:
			d = c.simulateTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// RPCURL returns the RPC endpoint in use.
func (c *Client) RPCURL() string {
	i, _ := c.currentRPC()
	return c.rpcURLs[i]
}

// GRPCURL returns the gRPC endpoint in use.
func (c *Client) GRPCURL() string {
	i, _ := c.currentGRPC()
	return c.grpcURLs[i]
}

// RPC returns the RPC client in use.
func (c *Client) RPC() *rpchttp.HTTP {
	_, r := c.currentRPC()
	return r
}

// NextRPC moves to the next RPC endpoint after a failure (of a websocket
// subscription, say), and the gRPC endpoint with it when they are paired.
func (c *Client) NextRPC() {
	i, _ := c.currentRPC()
	c.failOver(kindRPC, i, "error")
}

const (
	kindRPC  = "rpc"
	kindGRPC = "grpc"
)

func (c *Client) currentRPC() (int, *rpchttp.HTTP) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rpcIdx, c.rpcs[c.rpcIdx]
}

func (c *Client) currentGRPC() (int, *grpc.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grpcIdx, c.conns[c.grpcIdx]
}

// paired reports whether rpc[i] and grpc[i] are one node.
func (c *Client) paired() bool { return len(c.rpcs) == len(c.conns) }

// failOver moves the endpoint of kind from index from to the next one.
func (c *Client) failOver(kind string, from int, reason string) bool {
	n := len(c.rpcs)
	if kind == kindGRPC {
		n = len(c.conns)
	}
	return c.move(kind, from, (from+1)%n, reason)
}

// move makes endpoint to of kind the one in use if from still is: calls
// failing together on one endpoint move the client once (L7). Paired
// endpoints move together.
func (c *Client) move(kind string, from, to int, reason string) bool {
	c.mu.Lock()
	idx := &c.rpcIdx
	if kind == kindGRPC {
		idx = &c.grpcIdx
	}
	if *idx != from || from == to {
		c.mu.Unlock()
		return false
	}
	*idx = to
	if c.paired() {
		c.rpcIdx, c.grpcIdx = to, to
	}
	rpcURL, grpcURL := c.rpcURLs[c.rpcIdx], c.grpcURLs[c.grpcIdx]
	c.mu.Unlock()

	c.metrics.FailOver(kind, reason)
	c.metrics.Endpoints(rpcURL, grpcURL)
	urls := c.rpcURLs
	if kind == kindGRPC {
		urls = c.grpcURLs
	}
	c.warn("failover/"+kind, "endpoint failed; moved to the next (check the node, or drop it from the endpoints)",
		"kind", kind, "reason", reason, "from", urls[from], "to", urls[to])
	return true
}

// warnEvery rate-limits repeated warnings of one kind.
const warnEvery = time.Minute

func (c *Client) warn(key, msg string, args ...any) {
	c.warnMu.Lock()
	now := time.Now()
	if last, ok := c.warned[key]; ok && now.Sub(last) < warnEvery {
		c.warnMu.Unlock()
		return
	}
	c.warned[key] = now
	c.warnMu.Unlock()
	c.log.Warn(msg, args...)
}

// failReason names why an endpoint failed, for the fail-over metric.
func failReason(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	return "error"
}

// nodeAnswer reports whether an RPC error is the node's answer to the
// request (a JSON-RPC error, an ABCI code) rather than a failure to reach
// it: an answer does not move the client (M1).
func nodeAnswer(err error) bool {
	var rpcErr *rpctypes.RPCError
	var abciErr *ABCIError
	return errors.As(err, &rpcErr) || errors.As(err, &abciErr)
}

// withRPC runs f, a call of the JSON-RPC method, on the RPC endpoint in
// use and, while it fails to reach the node (transport error or timeout)
// and ctx lives, on the next ones. The node's own error answers are
// returned as-is.
func (c *Client) withRPC(ctx context.Context, method string, f func(*rpchttp.HTTP) error) error {
	var err error
	for range len(c.rpcs) {
		i, r := c.currentRPC()
		c.metrics.RPCCall(kindRPC, method)
		if err = f(r); err == nil || ctx.Err() != nil || nodeAnswer(err) {
			return err
		}
		c.failOver(kindRPC, i, failReason(err))
	}
	return err
}

// withGRPC runs f on the gRPC endpoint in use, failing over while the
// endpoint is unavailable or does not answer in time.
func (c *Client) withGRPC(ctx context.Context, f func(*grpc.ClientConn) error) error {
	var err error
	for range len(c.conns) {
		i, conn := c.currentGRPC()
		err = f(conn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.DeadlineExceeded {
			return err
		}
		c.failOver(kindGRPC, i, failReason(err))
	}
	return err
}

// LatestHeight returns the chain's latest block height.
func (c *Client) LatestHeight(ctx context.Context) (int64, error) {
	var h int64
	err := c.withRPC(ctx, "status", func(r *rpchttp.HTTP) error {
		st, err := r.Status(ctx)
		if err != nil {
			return err
		}
		h = st.SyncInfo.LatestBlockHeight
		return nil
	})
	if err == nil {
		c.metrics.ChainHead(h)
		c.blocks.dropAbove(h)
		c.blockResults.dropAbove(h)
	}
	return h, err
}

// BlockResults returns the events of a block. The answers for recent heights
// are kept and shared (WithBlockCache): callers must not modify them.
func (c *Client) BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error) {
	return c.blockResults.get(ctx, height, func() (*coretypes.ResultBlockResults, error) {
		var res *coretypes.ResultBlockResults
		err := c.withRPC(ctx, "block_results", func(r *rpchttp.HTTP) (err error) {
			res, err = r.BlockResults(ctx, &height)
			return err
		})
		return res, err
	})
}

// Block returns a block (its header and transactions). The answers for
// recent heights are kept and shared (WithBlockCache): callers must not
// modify them.
func (c *Client) Block(ctx context.Context, height int64) (*coretypes.ResultBlock, error) {
	return c.blocks.get(ctx, height, func() (*coretypes.ResultBlock, error) {
		var res *coretypes.ResultBlock
		err := c.withRPC(ctx, "block", func(r *rpchttp.HTTP) (err error) {
			res, err = r.Block(ctx, &height)
			return err
		})
		return res, err
	})
}

// BroadcastSync sends a signed transaction and returns its CheckTx result.
// An error other than a JSON-RPC error (a timeout, a dropped connection) is
// an unknown outcome: the transaction may be in the mempool. It is then
// sent again to the next endpoint, which is harmless (same bytes).
func (c *Client) BroadcastSync(ctx context.Context, txBytes []byte) (*coretypes.ResultBroadcastTx, error) {
	var res *coretypes.ResultBroadcastTx
	err := c.withRPC(ctx, "broadcast_tx_sync", func(r *rpchttp.HTTP) (err error) {
		res, err = r.BroadcastTxSync(ctx, txBytes)
		return err
	})
	return res, err
}

// TxResult returns an included transaction's result, or nil when the chain
// does not know it (yet).
func (c *Client) TxResult(ctx context.Context, hash []byte) (*coretypes.ResultTx, error) {
	var res *coretypes.ResultTx
	err := c.withRPC(ctx, "tx", func(r *rpchttp.HTTP) (err error) {
		res, err = r.Tx(ctx, hash, false)
		if err != nil && strings.Contains(err.Error(), "not found") {
			res, err = nil, nil
		}
		return err
	})
	return res, err
}

// ABCIError is an ABCI query the node answered with an error code (a
// missing key, a pruned height): an answer, returned as-is.
type ABCIError struct {
	Path      string
	Height    int64
	Codespace string
	Code      uint32
	Log       string
}

func (e *ABCIError) Error() string {
	return fmt.Sprintf("query %s at height %d: %s/%d: %s", e.Path, e.Height, e.Codespace, e.Code, e.Log)
}

// ABCIQuery runs a gRPC query method through ABCI at a height (0 = latest).
// A query the node answers with an error code returns an *ABCIError.
func (c *Client) ABCIQuery(ctx context.Context, path string, data []byte, height int64) ([]byte, error) {
	var out []byte
	err := c.withRPC(ctx, "abci_query", func(r *rpchttp.HTTP) error {
		res, err := r.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height})
		if err != nil {
			return err
		}
		if res.Response.Code != 0 {
			return &ABCIError{Path: path, Height: height, Codespace: res.Response.Codespace, Code: res.Response.Code, Log: res.Response.Log}
		}
		out = res.Response.Value
		return nil
	})
	return out, err
}

// Task returns a task.
func (c *Client) Task(ctx context.Context, id uint64) (types.Task, error) {
	var t types.Task
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).Task(ctx, &types.QueryTaskRequest{TaskId: id})
		if err == nil {
			t = res.Task
		}
		return err
	})
	return t, err
}

// Service returns a service.
func (c *Client) Service(ctx context.Context, id uint64) (types.Service, error) {
	var s types.Service
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).Service(ctx, &types.QueryServiceRequest{ServiceId: id})
		if err == nil {
			s = res.Service
		}
		return err
	})
	return s, err
}

// TaskService returns the task's service with the manifest of the revision
// the task was created under (H-3): the limits and config it runs with,
// whatever the owner changed since. A task of a chain without revisions
// (service_revision 0) gets the current manifest.
func (c *Client) TaskService(ctx context.Context, task types.Task) (types.Service, error) {
	svc, err := c.Service(ctx, task.ServiceId)
	if err != nil || task.ServiceRevision == 0 || task.ServiceRevision == svc.Revision {
		return svc, err
	}
	man, err := c.ServiceRevision(ctx, task.ServiceId, task.ServiceRevision)
	if err != nil {
		return svc, fmt.Errorf("revision %d: %w", task.ServiceRevision, err)
	}
	svc.Manifest, svc.Revision = man, task.ServiceRevision
	return svc, nil
}

// ServiceRevision returns the manifest of one revision of a service, asked
// once per (service, revision).
func (c *Client) ServiceRevision(ctx context.Context, serviceID, revision uint64) (types.ServiceManifest, error) {
	key := [2]uint64{serviceID, revision}
	c.revMu.Lock()
	m, ok := c.revisions[key]
	c.revMu.Unlock()
	if ok {
		return m, nil
	}
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).ServiceRevision(ctx, &types.QueryServiceRevisionRequest{ServiceId: serviceID, Revision: revision})
		if err == nil {
			m = res.Manifest
		}
		return err
	})
	if err != nil {
		return m, err
	}
	c.revMu.Lock()
	c.revisions[key] = m
	c.revMu.Unlock()
	return m, nil
}

// ComponentCode returns a component's wasm; the caller checks its digest.
func (c *Client) ComponentCode(ctx context.Context, digest string) ([]byte, error) {
	var code []byte
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).ComponentCode(ctx, &types.QueryComponentCodeRequest{Digest: digest}, grpc.MaxCallRecvMsgSize(128<<20))
		if err == nil {
			code = res.Wasm
		}
		return err
	})
	return code, err
}

// OperatorServices returns every service an operator is opted in to, reading
// every page (nil and no error when it is not registered).
func (c *Client) OperatorServices(ctx context.Context, operator string) ([]uint64, error) {
	var ids []uint64
	err := types.EachPage(ctx, types.MaxPageLimit, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		var next *query.PageResponse
		err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
			res, err := types.NewQueryClient(conn).Operator(ctx, &types.QueryOperatorRequest{Address: operator, Pagination: page})
			if err == nil {
				ids, next = append(ids, res.ServiceIds...), res.Pagination
			}
			return err
		})
		return next, err
	})
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	return ids, err
}

// Params returns the x/avs params.
func (c *Client) Params(ctx context.Context) (types.Params, error) {
	var p types.Params
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := types.NewQueryClient(conn).Params(ctx, &types.QueryParamsRequest{})
		if err == nil {
			p = res.Params
		}
		return err
	})
	return p, err
}

// Account returns an account's number and sequence.
func (c *Client) Account(ctx context.Context, addr sdk.AccAddress) (accNum, seq uint64, err error) {
	err = c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := authtypes.NewQueryClient(conn).Account(ctx, &authtypes.QueryAccountRequest{Address: addr.String()})
		if err != nil {
			return err
		}
		var acc sdk.AccountI
		if err := c.Enc.Registry.UnpackAny(res.Account, &acc); err != nil {
			return err
		}
		accNum, seq = acc.GetAccountNumber(), acc.GetSequence()
		return nil
	})
	return accNum, seq, err
}

// Simulate returns the gas a transaction uses.
func (c *Client) Simulate(ctx context.Context, txBytes []byte) (uint64, error) {
	var gas uint64
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := txtypes.NewServiceClient(conn).Simulate(ctx, &txtypes.SimulateRequest{TxBytes: txBytes})
		if err == nil {
			gas = res.GasInfo.GasUsed
		}
		return err
	})
	return gas, err
}
