// Package chain is the sidecar's connection to avschain: CometBFT RPC (blocks,
// websocket events, broadcast, ABCI queries) and gRPC (x/avs queries, accounts,
// simulation), each over a list of endpoints with fail-over.
package chain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
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
	cdc := codec.NewProtoCodec(reg)
	return Encoding{Registry: reg, Codec: cdc, TxConfig: tx.NewTxConfig(cdc, tx.DefaultSignModes)}, nil
}

// Client talks to one chain through the first healthy endpoint of each kind.
type Client struct {
	Enc     Encoding
	ChainID string

	mu      sync.Mutex
	rpcs    []*rpchttp.HTTP
	rpcURLs []string
	rpcIdx  int
	conns   []*grpc.ClientConn
	grpcIdx int

	// revisions caches service manifests by (service, revision): a
	// revision never changes.
	revMu     sync.Mutex
	revisions map[[2]uint64]types.ServiceManifest
}

// Dial prepares clients for every endpoint; nothing is contacted yet.
func Dial(chainID string, rpcEndpoints, grpcEndpoints []string, opts ...Option) (*Client, error) {
	enc, err := NewEncoding()
	if err != nil {
		return nil, err
	}
	c := &Client{Enc: enc, ChainID: chainID, revisions: map[[2]uint64]types.ServiceManifest{}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	for _, e := range rpcEndpoints {
		h, err := rpchttp.New(e, "/websocket")
		if err != nil {
			return nil, fmt.Errorf("rpc endpoint %q: %w", e, err)
		}
		c.rpcs = append(c.rpcs, h)
		c.rpcURLs = append(c.rpcURLs, e)
	}
	for _, e := range grpcEndpoints {
		target := strings.TrimPrefix(strings.TrimPrefix(e, "tcp://"), "http://")
		conn, err := grpc.NewClient(target,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(enc.Registry).GRPCCodec())))
		if err != nil {
			return nil, fmt.Errorf("grpc endpoint %q: %w", e, err)
		}
		c.conns = append(c.conns, conn)
	}
	if len(c.rpcs) == 0 || len(c.conns) == 0 {
		return nil, errors.New("need at least one RPC and one gRPC endpoint")
	}
	return c, nil
}

// Close closes the gRPC connections.
func (c *Client) Close() {
	for _, conn := range c.conns {
		_ = conn.Close()
	}
}

// RPCURL returns the RPC endpoint in use.
func (c *Client) RPCURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rpcURLs[c.rpcIdx]
}

// RPC returns the RPC client in use (for the websocket).
func (c *Client) RPC() *rpchttp.HTTP {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rpcs[c.rpcIdx]
}

// NextRPC moves to the next RPC endpoint after a failure.
func (c *Client) NextRPC() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rpcIdx = (c.rpcIdx + 1) % len(c.rpcs)
}

// withRPC runs f on the current RPC endpoint, then on the others in turn
// while it fails for a reason other than the context ending.
func (c *Client) withRPC(ctx context.Context, f func(*rpchttp.HTTP) error) error {
	var err error
	for i := 0; i < len(c.rpcs); i++ {
		if err = f(c.RPC()); err == nil || ctx.Err() != nil {
			return err
		}
		c.NextRPC()
	}
	return err
}

// withGRPC runs f on the current gRPC endpoint, failing over while the
// endpoint is unavailable.
func (c *Client) withGRPC(ctx context.Context, f func(*grpc.ClientConn) error) error {
	var err error
	for i := 0; i < len(c.conns); i++ {
		c.mu.Lock()
		conn := c.conns[c.grpcIdx]
		c.mu.Unlock()
		err = f(conn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.DeadlineExceeded {
			return err
		}
		c.mu.Lock()
		c.grpcIdx = (c.grpcIdx + 1) % len(c.conns)
		c.mu.Unlock()
	}
	return err
}

// LatestHeight returns the chain's latest block height.
func (c *Client) LatestHeight(ctx context.Context) (int64, error) {
	var h int64
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) error {
		st, err := r.Status(ctx)
		if err != nil {
			return err
		}
		h = st.SyncInfo.LatestBlockHeight
		return nil
	})
	return h, err
}

// BlockResults returns the events of a block.
func (c *Client) BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error) {
	var res *coretypes.ResultBlockResults
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) (err error) {
		res, err = r.BlockResults(ctx, &height)
		return err
	})
	return res, err
}

// Block returns a block (its header and transactions).
func (c *Client) Block(ctx context.Context, height int64) (*coretypes.ResultBlock, error) {
	var res *coretypes.ResultBlock
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) (err error) {
		res, err = r.Block(ctx, &height)
		return err
	})
	return res, err
}

// BroadcastSync sends a signed transaction and returns its CheckTx result.
func (c *Client) BroadcastSync(ctx context.Context, txBytes []byte) (*coretypes.ResultBroadcastTx, error) {
	var res *coretypes.ResultBroadcastTx
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) (err error) {
		res, err = r.BroadcastTxSync(ctx, txBytes)
		return err
	})
	return res, err
}

// TxResult returns an included transaction's result, or nil when the chain
// does not know it (yet).
func (c *Client) TxResult(ctx context.Context, hash []byte) (*coretypes.ResultTx, error) {
	var res *coretypes.ResultTx
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) (err error) {
		res, err = r.Tx(ctx, hash, false)
		if err != nil && strings.Contains(err.Error(), "not found") {
			res, err = nil, nil
		}
		return err
	})
	return res, err
}

// ABCIQuery runs a gRPC query method through ABCI at a height (0 = latest).
func (c *Client) ABCIQuery(ctx context.Context, path string, data []byte, height int64) ([]byte, error) {
	var out []byte
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) error {
		res, err := r.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height})
		if err != nil {
			return err
		}
		if res.Response.Code != 0 {
			return fmt.Errorf("query %s at height %d: %s", path, height, res.Response.Log)
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

// STUBS
type Option func(*Client) error
type Metrics interface {
	ChainHead(h int64)
	FailOver(kind, reason string)
	Endpoints(rpc, grpc string)
}

func WithCallTimeout(d time.Duration) Option { return func(*Client) error { return nil } }
func WithMetrics(m Metrics) Option           { return func(*Client) error { return nil } }
func WithStaleAfter(d time.Duration) Option  { return func(*Client) error { return nil } }
func WithMaxLag(n int64) Option              { return func(*Client) error { return nil } }
func WithWebsocketKeepalive(ping, readWait time.Duration) Option {
	return func(*Client) error { return nil }
}
func (c *Client) CheckHealth(ctx context.Context) {}
func (c *Client) GRPCURL() string                 { return "" }
func (c *Client) Status(ctx context.Context) (*coretypes.ResultStatus, error) {
	var st *coretypes.ResultStatus
	err := c.withRPC(ctx, func(r *rpchttp.HTTP) (err error) { st, err = r.Status(ctx); return err })
	return st, err
}
