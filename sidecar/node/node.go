// Package node is the sidecar's composition root: New takes a checked
// config, Start opens the store, dials the chain, finds the signing key
// (keys.go: the operator's, or a vote key, with the keyring passphrase from
// a file or the environment), waits for a node, ties the store to the
// node's chain (H3), reads the gas prices (the node's minimum by default),
// runs the startup checks (doctor.go; Doctor runs them on demand) and
// refuses to start on a fatal one, then builds the parts (watcher,
// trigger matcher, pipeline, executor, submitter, server) around one metrics
// sink and runs them, with the account poller (account.go) and the idle
// check (idle.go: whether the operator's votes count anywhere), in one
// errgroup until ctx ends, then closes what it opened. cmd/avs-sidecar only
// turns flags into a config.Config (as skip-mev/connect's cmd/connect hands
// its parsed config to the oracle).
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"golang.org/x/sync/errgroup"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/config"
	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/sidecar/pipeline"
	"github.com/avschain/avschain/sidecar/server"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/submitter"
	"github.com/avschain/avschain/sidecar/trigger"
	"github.com/avschain/avschain/sidecar/watcher"
)

// Node is one operator sidecar.
type Node struct {
	cfg          config.Config
	log          *slog.Logger
	metrics      *metrics.Metrics
	keyringInput io.Reader
}

// Option configures a Node.
type Option func(*Node)

// WithLogger sets the logger; each part logs with its own "part" attribute.
func WithLogger(l *slog.Logger) Option { return func(n *Node) { n.log = l } }

// WithKeyringInput is where a keyring that asks for a passphrase reads it
// when none is configured (keyring_passphrase_file or
// AVS_SIDECAR_KEYRING_PASSPHRASE take precedence; default os.Stdin).
func WithKeyringInput(r io.Reader) Option { return func(n *Node) { n.keyringInput = r } }

// New returns a node for cfg, whose settings must be valid and whose paths
// expanded (config.Config.ExpandPaths).
func New(cfg config.Config, opts ...Option) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	n := &Node{cfg: cfg, log: slog.Default(), metrics: metrics.New(), keyringInput: os.Stdin}
	for _, o := range opts {
		o(n)
	}
	return n, nil
}

// Metrics is the node's sink: what /metrics and /status show.
func (n *Node) Metrics() *metrics.Metrics { return n.metrics }

// Start runs the sidecar until ctx ends. It returns once every part has
// stopped, and only then closes the executor, the chain client and the store.
func (n *Node) Start(ctx context.Context) error {
	cfg, log := n.cfg, n.log
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "store"))
	if err != nil {
		return err
	}
	defer st.Close()

	client, err := chain.Dial(cfg.ChainID, cfg.RPCEndpoints, cfg.GRPCEndpoints,
		chain.WithStaleAfter(time.Duration(cfg.StaleAfter)), chain.WithMaxLag(cfg.MaxLagBlocks),
		chain.WithMetrics(n.metrics), chain.WithLogger(log.With("part", "chain")))
	if err != nil {
		return err
	}
	defer client.Close()

	signer, err := openSigner(cfg, n.keyringInput, client.Enc.Codec)
	if err != nil {
		return err
	}
	st0, err := waitForNode(ctx, client, callBudget(cfg), log)
	if err != nil {
		return err
	}
	if network := st0.NodeInfo.Network; network != cfg.ChainID {
		return fmt.Errorf("the node serves chain %q but chain_id is %q: point rpc_endpoints and grpc_endpoints at a node of %q, or fix chain_id", network, cfg.ChainID, cfg.ChainID)
	}
	if err := st.BindChain(store.Identity{ChainID: cfg.ChainID, GenesisHash: genesisHash(ctx, client, log)}); err != nil {
		return fmt.Errorf("data_dir %s: %w", cfg.DataDir, err)
	}
	prices := gasPrices(ctx, client, cfg, log, 3)
	problems := Check(ctx, client, cfg, Subject{Operator: signer.Operator, Signer: signer.Address, GasPrices: prices})
	logProblems(log, problems)
	if HasFatal(problems) {
		return errors.New("refusing to start: see the fatal problems above ('avs-sidecar doctor' lists them again)")
	}
	if n, err := pruneCompilationCache(cfg.CacheDir, CompilationCacheMaxAge, time.Now()); err != nil {
		log.Warn("could not prune the compilation cache", "dir", cfg.CacheDir, "err", err)
	} else if n > 0 {
		log.Info("pruned old compiled code from the compilation cache", "files", n, "dir", cfg.CacheDir)
	}
	exec, err := executor.New(executor.WithCacheDir(cfg.CacheDir), executor.WithQuerier(client), executor.WithLogger(log),
		executor.WithPrivateHosts(cfg.HTTPPrivateHosts), executor.WithMetrics(n.metrics),
		executor.WithHostCallLimits(executor.HostCallLimits{
			HTTPCalls: cfg.HTTPFetchMaxRequests, HTTPBytes: cfg.HTTPFetchMaxBytes, QueryCalls: cfg.ChainQueryMaxQueries,
		}))
	if err != nil {
		return err
	}
	defer exec.Close(context.Background())

	subOpts := []submitter.Option{
		submitter.WithGas(prices.String(), cfg.GasAdjustment), submitter.WithVoteGasReserve(uint64(cfg.VoteGasReserve)),
		submitter.WithBatchDelay(time.Duration(cfg.BatchDelay)), submitter.WithMetrics(n.metrics),
		submitter.WithMaxInFlight(cfg.MaxTxsInFlight),
		submitter.WithLogger(log.With("part", "submitter")),
	}
	pipeOpts := []pipeline.Option{
		pipeline.WithServices(cfg.Services.Set()), pipeline.WithConcurrency(cfg.Concurrency),
		pipeline.WithMemoryBudget(uint64(cfg.MemoryBudgetPages)), pipeline.WithMaxCrashes(cfg.MaxCrashes),
		pipeline.WithLateVotes(latePolicy(cfg.LateVotes)),
		pipeline.WithMetrics(n.metrics), pipeline.WithLogger(log.With("part", "pipeline")),
	}
	var epochLength uint64
	if p, err := client.Params(ctx); err == nil {
		epochLength = p.EpochLength
		subOpts = append(subOpts, submitter.WithMaxVotes(int(p.MaxVotesPerTx)))
		pipeOpts = append(pipeOpts, pipeline.WithHandlerGas(p.HandlerGasLimit), pipeline.WithDefaultTaskTimeout(p.DefaultTaskTimeout))
	} else {
		log.Warn("could not read x/avs params; assuming the defaults", "max_votes_per_tx", submitter.DefaultMaxVotes,
			"handler_gas_limit", pipeline.DefaultHandlerGas, "err", err)
	}
	if signer.VoteKey() {
		// The vote key signs; the operator's grants make its votes count
		// and pay its fees (docs/OPERATORS.md).
		operatorAcc, err := sdk.AccAddressFromBech32(signer.Operator)
		if err != nil {
			return fmt.Errorf("operator_address %q: %w", signer.Operator, err)
		}
		subOpts = append(subOpts, submitter.WithAuthzOperator(operatorAcc))
	}
	heightsIn := make(chan int64, 16)
	heightsOut := make(chan int64, 16)
	subOpts = append(subOpts, submitter.WithHeights(heightsOut))
	sub, err := submitter.New(client, st, client.Enc.TxConfig, signer.Keyring, signer.KeyName, cfg.ChainID, subOpts...)
	if err != nil {
		return err
	}
	operator := signer.Operator
	n.metrics.UpdateStatus(func(p *metrics.StatusPage) {
		p.Operator, p.ChainID, p.RPCEndpoint, p.StartedAt = operator, cfg.ChainID, client.RPCURL(), time.Now().UTC()
	})

	matcher, err := trigger.New(client, operator, trigger.WithServices(cfg.Services.Set()), trigger.WithMetrics(n.metrics),
		trigger.WithLogger(log.With("part", "triggers")))
	if err != nil {
		return err
	}
	work := make(chan watcher.Work, 256)
	// Each block read, with the COMMIT_REVEAL tasks whose commit phase
	// closed in it: their reveals go out in the next block (issue #20).
	blocks := make(chan watcher.Block, 64)
	watchOpts := []watcher.Option{
		watcher.WithBlocks(blocks),
		watcher.WithCatchUp(cfg.CatchUpBlocks), watcher.WithHeights(heightsIn), watcher.WithPollInterval(time.Second),
		watcher.WithMatcher(matcher), watcher.WithMetrics(n.metrics), watcher.WithLogger(log.With("part", "watcher")),
		// Tasks of blocks the node can no longer serve are found again
		// through the task queries (H7).
		watcher.WithRecovery(client, operator),
		// A node below the cursor (a reset chain, a node far behind) turns
		// /healthz red until it passes the cursor again (H3).
		watcher.WithBehind(func(latest, cursor int64) {
			n.metrics.UpdateStatus(func(p *metrics.StatusPage) {
				p.BelowCursor = 0
				if latest < cursor {
					p.BelowCursor = cursor
				}
			})
		}),
	}
	if only := cfg.Services.Set(); only != nil {
		// The operator's own restriction: other services' tasks are neither
		// saved nor run (M7). Without one every task is kept: whether this
		// operator may vote is the task snapshot's to say (H1).
		watchOpts = append(watchOpts, watcher.WithServiceFilter(func(id uint64) bool { return only[id] }))
	}
	w, err := watcher.New(client, st, work, watchOpts...)
	if err != nil {
		return err
	}
	overrides, err := n.readOverrides()
	if err != nil {
		return err
	}
	pipe, err := pipeline.New(pipeline.Deps{
		Chain: client, Runner: exec, Store: st, Voter: sub, Work: work, ChainID: cfg.ChainID, Operator: operator,
	}, append(pipeOpts, pipeline.WithComponentOverrides(overrides),
		// Deadlines are judged against the height the watcher reads, not
		// asked for each task.
		pipeline.WithHead(w.Head), pipeline.WithBlocks(blocks))...)
	if err != nil {
		return err
	}
	var srv *server.Server
	if cfg.MetricsAddr != "" {
		floor := VoteTxCost(cfg, prices, HealthFloorVotes)
		if srv, err = server.New(cfg.MetricsAddr, n.metrics, server.WithBalanceFloor(floor), server.WithLogger(log.With("part", "server"))); err != nil {
			return err
		}
	}

	log.Info("avs-sidecar starting", "operator", operator, "chain", cfg.ChainID, "rpc", cfg.RPCEndpoints, "grpc", cfg.GRPCEndpoints, "services", cfg.Services)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return client.Watch(gctx) }) // fail-over from hung, stale or lagging nodes (H3)
	g.Go(func() error { return w.Start(gctx) })
	g.Go(func() error { return pipe.Start(gctx) })
	g.Go(func() error { return sub.Start(gctx) })
	// The idle check: whether the operator's votes count anywhere, and if
	// not why (issue #19 item 7), at start and every IdleCheckBlocks.
	idle := &idleWatch{chain: client, operator: operator, only: cfg.Services.Set(), epochLength: epochLength,
		metrics: n.metrics, log: log.With("part", "idle")}
	idleHeights := make(chan int64, 1)
	g.Go(func() error {
		relayHeights(gctx, heightsIn, heightsOut, func(h int64) {
			n.metrics.Height(h)
			n.metrics.UpdateStatus(func(p *metrics.StatusPage) { p.RPCEndpoint = client.RPCURL() })
			select {
			case idleHeights <- h:
			default:
			}
		})
		return nil
	})
	g.Go(func() error {
		idle.run(gctx, idleHeights, IdleCheckBlocks)
		return nil
	})
	g.Go(func() error {
		runAccountPoller(gctx, client, operator, FeeDenom(prices), AccountPollInterval, n.metrics, log.With("part", "account"))
		return nil
	})
	if srv != nil {
		g.Go(func() error { return srv.Start(gctx) })
	}
	err = g.Wait()
	log.Info("avs-sidecar stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// HealthFloorVotes: /healthz is red when the operator's balance pays for
// fewer one-vote transactions than this at the gas prices in use.
const HealthFloorVotes = 10

// Doctor runs the startup checks of Start on demand, without starting and
// without waiting for the node: a key missing from the keyring and a data
// dir bound to another chain are fatal problems too.
func (n *Node) Doctor(ctx context.Context) []Problem {
	cfg := n.cfg
	client, err := chain.Dial(cfg.ChainID, cfg.RPCEndpoints, cfg.GRPCEndpoints)
	if err != nil {
		return []Problem{{Severity: Fatal, What: err.Error(), Fix: "fix rpc_endpoints and grpc_endpoints"}}
	}
	defer client.Close()
	signer, err := openSigner(cfg, n.keyringInput, client.Enc.Codec)
	if err != nil {
		return []Problem{{Severity: Fatal, What: err.Error()}}
	}
	prices := gasPrices(ctx, client, cfg, n.log, 1)
	ps := Check(ctx, client, cfg, Subject{Operator: signer.Operator, Signer: signer.Address, GasPrices: prices})
	if p, ok := checkDataDir(ctx, client, cfg); ok {
		ps = append(ps, p)
	}
	return ps
}

// checkDataDir compares the data dir's chain with the node's, when the
// data dir exists and no running sidecar holds it.
func checkDataDir(ctx context.Context, client *chain.Client, cfg config.Config) (Problem, bool) {
	dir := filepath.Join(cfg.DataDir, "store")
	if _, err := os.Stat(dir); err != nil {
		return Problem{}, false
	}
	st, err := store.Open(dir)
	if err != nil {
		return Problem{Severity: Info, What: fmt.Sprintf("data dir %s not checked (a running sidecar holds it?): %v", cfg.DataDir, err)}, true
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, callBudget(cfg))
	defer cancel()
	status, err := client.NodeStatus(ctx)
	if err != nil {
		return Problem{}, false
	}
	hash, _ := client.GenesisHash(ctx)
	if err := st.CheckChain(store.Identity{ChainID: status.NodeInfo.Network, GenesisHash: hash}); err != nil {
		return Problem{Severity: Fatal, What: fmt.Sprintf("data_dir %s: %v", cfg.DataDir, err)}, true
	}
	return Problem{}, false
}

// logProblems logs each problem once, at its severity.
func logProblems(log *slog.Logger, ps []Problem) {
	for _, p := range ps {
		lvl := map[Severity]slog.Level{Fatal: slog.LevelError, Warn: slog.LevelWarn, Info: slog.LevelInfo}[p.Severity]
		log.Log(context.Background(), lvl, "startup check: "+p.What, "fix", p.Fix)
	}
}

// callBudget bounds one startup call: time for each endpoint to time out
// in turn (a hung one) and the next to answer.
func callBudget(cfg config.Config) time.Duration {
	return time.Duration(max(len(cfg.RPCEndpoints), len(cfg.GRPCEndpoints))+1) * chain.DefaultCallTimeout
}

// waitForNode returns the RPC node's status once one answers, retrying
// (backing off to 30 s, a warning every 30 s at most) until ctx ends: the
// node may start after the sidecar.
func waitForNode(ctx context.Context, c *chain.Client, budget time.Duration, log *slog.Logger) (*coretypes.ResultStatus, error) {
	backoff := time.Second
	var lastWarn time.Time
	for {
		callCtx, cancel := context.WithTimeout(ctx, budget)
		st, err := c.NodeStatus(callCtx)
		cancel()
		if err == nil {
			return st, nil
		}
		if time.Since(lastWarn) >= 30*time.Second {
			lastWarn = time.Now()
			log.Warn("waiting for an RPC node to answer /status; check rpc_endpoints", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// genesisHash is the node's genesis hash, or "" (warned) when it will not
// serve one: the data dir is then tied to the chain id only, until a start
// that reads it.
func genesisHash(ctx context.Context, c *chain.Client, log *slog.Logger) string {
	var err error
	for try := 0; try < 3; try++ {
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var h string
		h, err = c.GenesisHash(callCtx)
		cancel()
		if err == nil {
			return h
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(time.Second):
		}
	}
	log.Warn("could not read the genesis from the node; the data dir is checked against the chain id only", "err", err)
	return ""
}

// gasPrices returns the prices votes pay (M10): gas_prices, or when it is
// "" the node's minimum-gas-prices, asked up to tries times
// (config.FallbackGasPrices if unreadable).
func gasPrices(ctx context.Context, c *chain.Client, cfg config.Config, log *slog.Logger, tries int) sdk.DecCoins {
	if cfg.GasPrices != "" {
		p, _ := sdk.ParseDecCoins(cfg.GasPrices) // checked by Validate
		return p
	}
	var err error
	for try := 0; try < tries; try++ {
		callCtx, cancel := context.WithTimeout(ctx, callBudget(cfg))
		var p sdk.DecCoins
		p, err = c.MinGasPrices(callCtx)
		cancel()
		if err == nil {
			log.Info("gas prices: the node's minimum-gas-prices", "gas_prices", pricesOrZero(p))
			return p
		}
		if try+1 == tries {
			break
		}
		select {
		case <-ctx.Done():
			try = tries
		case <-time.After(time.Second):
		}
	}
	log.Warn("gas_prices is empty and the node's minimum-gas-prices could not be read; using the fallback (set gas_prices to choose)",
		"gas_prices", config.FallbackGasPrices, "err", err)
	p, _ := sdk.ParseDecCoins(config.FallbackGasPrices)
	return p
}

// readOverrides reads the local files configured to replace components.
func (n *Node) readOverrides() (map[string][]byte, error) {
	overrides := map[string][]byte{}
	for digest, path := range n.cfg.ComponentOverrides {
		wasm, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("component_overrides %s: %w", digest, err)
		}
		n.log.Warn("TESTING: running a local file instead of the chain's component; votes may disagree with other operators", "digest", digest, "file", path)
		overrides[digest] = wasm
	}
	return overrides, nil
}

// relayHeights reports each height the watcher reads and passes it on to the
// submitter's new-block signal. The watcher never waits on the submitter: a
// height the submitter has no room for is dropped (it only needs to know
// that a block came).
func relayHeights(ctx context.Context, in <-chan int64, out chan<- int64, report func(int64)) {
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-in:
			report(h)
			select {
			case out <- h:
			default:
			}
		}
	}
}

// latePolicy maps late_votes (checked by config.Validate) to the pipeline's.
func latePolicy(s string) pipeline.LatePolicy {
	switch s {
	case "all":
		return pipeline.LateVotesAll
	case "none":
		return pipeline.LateVotesNone
	}
	return pipeline.LateVotesExceptMedian
}
