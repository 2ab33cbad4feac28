package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/executor"
	"github.com/avschain/avschain/x/avs/client/cli"
	avstypes "github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// checkAsChain checks a component as MsgStoreComponent does — gzip'd or
// raw, at most the default max_component_size once inflated, a WASI
// preview-1 command importing only what the sidecar provides — and returns
// the module to run. (Issue #15 item 11: exec used to run what the chain
// refuses, such as a module without _start, and exit 0.)
func checkAsChain(wasm []byte) ([]byte, error) {
	code := wasm
	if wasmbin.IsGzip(wasm) {
		var err error
		if code, err = wasmbin.Gunzip(wasm, avstypes.DefaultMaxComponentSize); err != nil {
			return nil, err
		}
	}
	if uint64(len(code)) > avstypes.DefaultMaxComponentSize {
		return nil, fmt.Errorf("%d bytes, over the default max_component_size of %d", len(code), avstypes.DefaultMaxComponentSize)
	}
	if _, err := wasmbin.Validate(code); err != nil {
		return nil, err
	}
	return code, nil
}

// Defaults of exec's limit flags, used when neither a manifest nor a flag
// sets a limit.
const (
	execTimeMs      = 5000
	execMemoryPages = 512
	execOutputBytes = 16 << 10
)

func execCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exec --wasm FILE [--input DATA | --input-file FILE] [--manifest FILE] [--config KEY=VALUE]... [--node URL]",
		Short: "Run a component locally as an operator would: the service developer's inner loop",
		Long: `Run a component as a sidecar would: the input on stdin, the result printed on
stdout, the component's log lines and errors on stderr.

The module is first checked as store-component will check it (a WASI preview-1
command importing only from wasi_snapshot_preview1 and avs, exporting _start);
a run that fails says which failure an operator would vote.

--manifest reads a service manifest (the JSON create-service takes, decoded
the same way) and runs under its limits (time_ms, memory_pages, output_bytes,
http_allow_list) and config. A limit flag, --allow-host or --config given on
the command line overrides the manifest's.

chain_query fails unless --node names a CometBFT RPC endpoint of a chain (as
avsd's --node, e.g. tcp://127.0.0.1:26657): queries then run on it at
AVS_BLOCK_HEIGHT, which defaults to the node's latest height, and
AVS_CHAIN_ID and AVS_BLOCK_TIME default to the node's. http_fetch reaches only
allow-listed hosts, at public addresses unless --private-host lists them.`,
		Example: `  avs-sidecar exec --wasm components/square/square.wasm --input 4
  avs-sidecar exec --wasm price-oracle.wasm --manifest manifest.json --private-host 127.0.0.1:8080
  avs-sidecar exec --wasm price-oracle.wasm --config PRICE_URL=http://127.0.0.1:8080/price --allow-host 127.0.0.1:8080 --private-host 127.0.0.1:8080
  avs-sidecar exec --wasm my.wasm --node tcp://127.0.0.1:26657 --service-id 3`,
		Args: cobra.NoArgs,
		RunE: runExec,
	}
	f := cmd.Flags()
	f.String("wasm", "", "component file (required)")
	f.String("input", "", "task input")
	f.String("input-file", "", "read the task input from this file")
	f.String("manifest", "", "service manifest JSON (as create-service takes): its limits, allow-list and config apply; flags override them")
	f.StringArray("config", nil, "service config entry KEY=VALUE (repeatable; overrides the manifest's KEY)")
	f.Uint64("time-ms", execTimeMs, "time limit in milliseconds (default: the manifest's, else 5000)")
	f.Uint32("memory-pages", execMemoryPages, "memory limit in 64 KiB pages (default: the manifest's, else 512)")
	f.Uint64("output-bytes", execOutputBytes, "output limit in bytes (default: the manifest's, else 16384)")
	f.StringArray("allow-host", nil, "host (or host:port) http_fetch may reach (repeatable; replaces the manifest's http_allow_list)")
	f.StringArray("private-host", nil, "allow-listed host (or host:port) http_fetch may reach at a loopback or private address, e.g. a local test server (repeatable)")
	f.String("node", "", "CometBFT RPC endpoint chain_query runs on, e.g. tcp://127.0.0.1:26657 (default: none, chain_query fails)")
	f.Uint64("task-id", 1, "AVS_TASK_ID (also seeds randomness)")
	f.Uint64("service-id", 1, "AVS_SERVICE_ID")
	f.String("chain-id", "local", "AVS_CHAIN_ID (default: the --node's chain, else local)")
	f.Int64("height", 1, "AVS_BLOCK_HEIGHT, the height chain_query reads at (default: the --node's latest, else 1)")
	f.String("block-time", "", "AVS_BLOCK_TIME, RFC 3339 (default: the --node's block at --height, else now)")
	return cmd
}

func runExec(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	path, _ := f.GetString("wasm")
	if path == "" {
		return usageError{errors.New("--wasm is required: the component file to run")}
	}
	conf, err := configFlags(f)
	if err != nil {
		return err
	}
	var blockTime time.Time
	if s, _ := f.GetString("block-time"); s != "" {
		if blockTime, err = time.Parse(time.RFC3339, s); err != nil {
			return usageError{fmt.Errorf("--block-time %q: want RFC 3339, e.g. 2025-06-01T12:00:00Z", s)}
		}
	}
	log := logger(cmd)
	wasm, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read component: %w", err)
	}
	if wasm, err = checkAsChain(wasm); err != nil {
		return fmt.Errorf("%s: store-component would refuse it: %w", path, err)
	}
	input, _ := f.GetString("input")
	if file, _ := f.GetString("input-file"); file != "" {
		bz, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		input = string(bz)
	}
	job := executor.Job{Input: []byte(input), Config: map[string]string{}, Limits: executor.Limits{
		Time: execTimeMs * time.Millisecond, MemoryPages: execMemoryPages, OutputBytes: execOutputBytes,
	}}
	if file, _ := f.GetString("manifest"); file != "" {
		m, err := readManifest(file)
		if err != nil {
			return err
		}
		applyManifest(&job, m, avstypes.Digest(wasm), log)
	}
	applyJobFlags(&job, f, conf)

	exOpts := []executor.Option{executor.WithLogger(log)}
	if private, _ := f.GetStringArray("private-host"); len(private) > 0 {
		exOpts = append(exOpts, executor.WithPrivateHosts(private))
	}
	job.ChainID, job.BlockHeight = "local", 1
	if node, _ := f.GetString("node"); node != "" {
		q, err := dialNode(node)
		if err != nil {
			return err
		}
		if err := q.taskContext(cmd.Context(), &job, &blockTime, f); err != nil {
			return err
		}
		exOpts = append(exOpts, executor.WithQuerier(q))
	}
	if f.Changed("chain-id") {
		job.ChainID, _ = f.GetString("chain-id")
	}
	if f.Changed("height") {
		job.BlockHeight, _ = f.GetInt64("height")
	}
	if blockTime.IsZero() {
		blockTime = time.Now()
	}
	job.BlockTime = blockTime.UTC().Truncate(time.Second)

	ex, err := executor.New(exOpts...)
	if err != nil {
		return err
	}
	defer ex.Close(context.Background())
	res, err := ex.Run(cmd.Context(), job, wasm)
	if errors.Is(err, executor.ErrInstantiate) {
		return fmt.Errorf("%s: %w (is it a WASI preview-1 wasm module? see components/ for examples)", path, err)
	}
	if reason, ok := executor.FailureReason(err); ok {
		return fmt.Errorf("%w (an operator votes this failure: %s)", err, reason)
	}
	if err != nil {
		return err
	}
	if _, err := cmd.OutOrStdout().Write(res.Output); err != nil {
		return err
	}
	log.Info("done", "took", res.Duration, "output_bytes", len(res.Output))
	return nil
}

// configFlags reads the --config KEY=VALUE entries.
func configFlags(f *pflag.FlagSet) (map[string]string, error) {
	kvs, _ := f.GetStringArray("config")
	conf := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--config %q: want KEY=VALUE", kv)}
		}
		conf[k] = v
	}
	return conf, nil
}

// readManifest decodes a manifest file as create-service does.
func readManifest(path string) (avstypes.ServiceManifest, error) {
	enc, err := chain.NewEncoding()
	if err != nil {
		return avstypes.ServiceManifest{}, err
	}
	return cli.ReadManifest(enc.Codec, path)
}

// applyManifest runs the job under a manifest's limits, allow-list and
// config, and warns (the run goes on) when create-service would refuse the
// manifest with the default params or it names another component.
func applyManifest(job *executor.Job, m avstypes.ServiceManifest, digest string, log *slog.Logger) {
	l := m.Limits
	job.Limits = executor.Limits{
		Time: time.Duration(l.TimeMs) * time.Millisecond, MemoryPages: l.MemoryPages,
		OutputBytes: l.OutputBytes, HTTPAllowList: l.HttpAllowList,
	}
	job.Config = m.ConfigMap()
	if err := m.Validate(avstypes.DefaultParams()); err != nil {
		log.Warn("create-service would refuse this manifest (with the default params)", "err", sourcePath.ReplaceAllString(err.Error(), ""),
			"file_digest", digest)
	} else if m.ComponentDigest != digest {
		log.Warn("the manifest's component_digest is not this file's: store-component it, then put its digest in the manifest",
			"manifest", m.ComponentDigest, "file", digest)
	}
}

// applyJobFlags lets the flags given on the command line override the
// manifest: each limit flag, --allow-host, and each --config key.
func applyJobFlags(job *executor.Job, f *pflag.FlagSet, conf map[string]string) {
	if f.Changed("time-ms") {
		ms, _ := f.GetUint64("time-ms")
		job.Limits.Time = time.Duration(ms) * time.Millisecond
	}
	if f.Changed("memory-pages") {
		job.Limits.MemoryPages, _ = f.GetUint32("memory-pages")
	}
	if f.Changed("output-bytes") {
		job.Limits.OutputBytes, _ = f.GetUint64("output-bytes")
	}
	if f.Changed("allow-host") {
		job.Limits.HTTPAllowList, _ = f.GetStringArray("allow-host")
	}
	for k, v := range conf {
		job.Config[k] = v
	}
	job.TaskID, _ = f.GetUint64("task-id")
	job.ServiceID, _ = f.GetUint64("service-id")
}

// nodeQuerier runs chain_query on a CometBFT RPC endpoint (--node), as the
// sidecar's chain client does (chain.Client.ABCIQuery).
type nodeQuerier struct{ rpc *rpchttp.HTTP }

func dialNode(endpoint string) (*nodeQuerier, error) {
	c, err := rpchttp.New(endpoint, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("--node %q: %w", endpoint, err)
	}
	return &nodeQuerier{rpc: c}, nil
}

// ABCIQuery runs a gRPC query method through ABCI at a height.
func (q *nodeQuerier) ABCIQuery(ctx context.Context, path string, data []byte, height int64) ([]byte, error) {
	res, err := q.rpc.ABCIQueryWithOptions(ctx, path, data, rpcclient.ABCIQueryOptions{Height: height})
	if err != nil {
		return nil, err
	}
	if res.Response.Code != 0 {
		return nil, &chain.ABCIError{Path: path, Height: height, Codespace: res.Response.Codespace, Code: res.Response.Code, Log: res.Response.Log}
	}
	return res.Response.Value, nil
}

// taskContext sets what the job takes from the node: its chain id, its latest
// height (or --height) and that block's time, unless the flags set them.
func (q *nodeQuerier) taskContext(ctx context.Context, job *executor.Job, blockTime *time.Time, f *pflag.FlagSet) error {
	ctx, cancel := context.WithTimeout(ctx, chain.DefaultCallTimeout)
	defer cancel()
	st, err := q.rpc.Status(ctx)
	if err != nil {
		return fmt.Errorf("--node: read its /status: %w (is it a CometBFT RPC endpoint, such as tcp://127.0.0.1:26657?)", err)
	}
	job.ChainID, job.BlockHeight = st.NodeInfo.Network, st.SyncInfo.LatestBlockHeight
	if !blockTime.IsZero() {
		return nil
	}
	if !f.Changed("height") {
		*blockTime = st.SyncInfo.LatestBlockTime
		return nil
	}
	h, _ := f.GetInt64("height")
	b, err := q.rpc.Block(ctx, &h)
	if err != nil {
		return fmt.Errorf("--node: read block %d for its time: %w (or set --block-time)", h, err)
	}
	*blockTime = b.Block.Time
	return nil
}
