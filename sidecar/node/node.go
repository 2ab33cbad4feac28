// Package node is the sidecar's composition root: New takes a checked
// config, Start opens the store, dials the chain, builds the parts (watcher,
// trigger matcher, pipeline, executor, submitter, server) around one metrics
// sink and runs them in one errgroup until ctx ends, then closes what it
// opened. cmd/avs-sidecar only turns flags into a config.Config (as
// skip-mev/connect's cmd/connect hands its parsed config to the oracle).
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

	"golang.org/x/sync/errgroup"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"

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
// (default os.Stdin).
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

	client, err := chain.Dial(cfg.ChainID, cfg.RPCEndpoints, cfg.GRPCEndpoints)
	if err != nil {
		return err
	}
	defer client.Close()

	kr, err := keyring.New("avschain", cfg.KeyringBackend, cfg.KeyringDir, n.keyringInput, client.Enc.Codec)
	if err != nil {
		return fmt.Errorf("keyring %s in %s: %w", cfg.KeyringBackend, cfg.KeyringDir, err)
	}
	if _, err := kr.Key(cfg.KeyName); err != nil {
		return fmt.Errorf("operator key %q is not in the %s keyring in %s: import it with 'avsd keys add %s --recover --keyring-backend %s --keyring-dir %s', or set key_name and keyring_dir",
			cfg.KeyName, cfg.KeyringBackend, cfg.KeyringDir, cfg.KeyName, cfg.KeyringBackend, cfg.KeyringDir)
	}
	exec, err := executor.New(executor.WithCacheDir(cfg.CacheDir), executor.WithQuerier(client), executor.WithLogger(log))
	if err != nil {
		return err
	}
	defer exec.Close(context.Background())

	subOpts := []submitter.Option{
		submitter.WithGas(cfg.GasPrices, cfg.GasAdjustment), submitter.WithVoteGasReserve(uint64(cfg.VoteGasReserve)),
		submitter.WithBatchDelay(time.Duration(cfg.BatchDelay)), submitter.WithMetrics(n.metrics),
		submitter.WithLogger(log.With("part", "submitter")),
	}
	pipeOpts := []pipeline.Option{
		pipeline.WithServices(cfg.Services.Set()), pipeline.WithConcurrency(cfg.Concurrency),
		pipeline.WithMetrics(n.metrics), pipeline.WithLogger(log.With("part", "pipeline")),
	}
	if p, err := client.Params(ctx); err == nil {
		subOpts = append(subOpts, submitter.WithMaxVotes(int(p.MaxVotesPerTx)))
		pipeOpts = append(pipeOpts, pipeline.WithHandlerGas(p.HandlerGasLimit))
	} else {
		log.Warn("could not read x/avs params; assuming the defaults", "max_votes_per_tx", submitter.DefaultMaxVotes,
			"handler_gas_limit", pipeline.DefaultHandlerGas, "err", err)
	}
	heightsIn := make(chan int64, 16)
	heightsOut := make(chan int64, 16)
	subOpts = append(subOpts, submitter.WithHeights(heightsOut))
	sub, err := submitter.New(client, st, client.Enc.TxConfig, kr, cfg.KeyName, cfg.ChainID, subOpts...)
	if err != nil {
		return err
	}
	operator := sub.Address().String()
	n.metrics.UpdateStatus(func(p *metrics.StatusPage) {
		p.Operator, p.ChainID, p.RPCEndpoint, p.StartedAt = operator, cfg.ChainID, client.RPCURL(), time.Now().UTC()
	})

	matcher, err := trigger.New(client, operator, trigger.WithServices(cfg.Services.Set()), trigger.WithMetrics(n.metrics),
		trigger.WithLogger(log.With("part", "triggers")))
	if err != nil {
		return err
	}
	work := make(chan watcher.Work, 256)
	w, err := watcher.New(client, st, work, watcher.WithCatchUp(cfg.CatchUpBlocks), watcher.WithHeights(heightsIn),
		watcher.WithPollInterval(time.Second), watcher.WithMatcher(matcher), watcher.WithLogger(log.With("part", "watcher")))
	if err != nil {
		return err
	}
	overrides, err := n.readOverrides()
	if err != nil {
		return err
	}
	pipe, err := pipeline.New(pipeline.Deps{
		Chain: client, Runner: exec, Store: st, Voter: sub, Work: work, ChainID: cfg.ChainID, Operator: operator,
	}, append(pipeOpts, pipeline.WithComponentOverrides(overrides))...)
	if err != nil {
		return err
	}
	var srv *server.Server
	if cfg.MetricsAddr != "" {
		if srv, err = server.New(cfg.MetricsAddr, n.metrics, server.WithLogger(log.With("part", "server"))); err != nil {
			return err
		}
	}

	log.Info("avs-sidecar starting", "operator", operator, "chain", cfg.ChainID, "rpc", cfg.RPCEndpoints, "grpc", cfg.GRPCEndpoints, "services", cfg.Services)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Start(gctx) })
	g.Go(func() error { return pipe.Start(gctx) })
	g.Go(func() error { return sub.Start(gctx) })
	g.Go(func() error {
		relayHeights(gctx, heightsIn, heightsOut, func(h int64) {
			n.metrics.Height(h)
			n.metrics.UpdateStatus(func(p *metrics.StatusPage) { p.RPCEndpoint = client.RPCURL() })
		})
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
