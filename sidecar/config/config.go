// Package config is avs-sidecar's configuration: a commented TOML file written
// by `avs-sidecar init`, overridden by AVS_SIDECAR_* environment variables and
// then by command-line flags.
package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/pelletier/go-toml/v2"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/avschain/avschain/app/prefix"
)

// FallbackGasPrices is the gas price votes pay when gas_prices is "" and
// the node's minimum-gas-prices cannot be read: avsd init's default minimum.
const FallbackGasPrices = "0.01uavs"

// PassphraseEnv is the environment variable holding the keyring passphrase
// (it takes precedence over keyring_passphrase_file).
const PassphraseEnv = "AVS_SIDECAR_KEYRING_PASSPHRASE"

// minPassphrase is the SDK keyring's minimum passphrase length
// (client/input.MinPassLength).
const minPassphrase = 8

// Config is everything a sidecar needs to run.
type Config struct {
	ChainID        string   `toml:"chain_id"`
	RPCEndpoints   []string `toml:"rpc_endpoints"`
	GRPCEndpoints  []string `toml:"grpc_endpoints"`
	KeyName        string   `toml:"key_name"`
	KeyringBackend string   `toml:"keyring_backend"`
	KeyringDir     string   `toml:"keyring_dir"`
	// KeyringPassphraseFile holds the passphrase of a file (or os) keyring,
	// read at start (M9: no prompt under systemd).
	KeyringPassphraseFile string `toml:"keyring_passphrase_file"`
	// KeyringPassphrase comes only from AVS_SIDECAR_KEYRING_PASSPHRASE: it
	// is never read from or written to the file, nor set by a flag.
	KeyringPassphrase Secret `toml:"-"`
	// VoteKeyName, when set, names a hot key that signs the votes through
	// authz (MsgExec) with fees from the operator's feegrant; the operator's
	// own key (OperatorAddress) then stays out of the keyring.
	VoteKeyName     string     `toml:"vote_key_name"`
	OperatorAddress string     `toml:"operator_address"`
	DataDir         string     `toml:"data_dir"`
	Services        ServiceIDs `toml:"services"`
	Concurrency     int        `toml:"concurrency"`
	MetricsAddr     string     `toml:"metrics_addr"`
	GasPrices       string     `toml:"gas_prices"`
	GasAdjustment   float64    `toml:"gas_adjustment"`
	VoteGasReserve  int64      `toml:"vote_gas_reserve"`
	CatchUpBlocks   int64      `toml:"catch_up_blocks"`
	CacheDir        string     `toml:"cache_dir"`
	// LogFormat is "text" or "json".
	LogFormat string `toml:"log_format"`
	// HTTPPrivateHosts are allow-list entries ("host" or "host:port") that
	// http_fetch may reach at a loopback or private address: the operator's
	// own choice (a devnet's local price server); every other host must
	// resolve to public addresses (H5).
	HTTPPrivateHosts []string `toml:"http_private_hosts"`
	// Per-run caps on a component's host calls (M5, H4).
	HTTPFetchMaxRequests int   `toml:"http_fetch_max_requests"`
	HTTPFetchMaxBytes    int64 `toml:"http_fetch_max_bytes"`
	ChainQueryMaxQueries int   `toml:"chain_query_max_queries"`
	// MemoryBudgetPages bounds the memory (64 KiB wasm pages) of the runs in
	// flight together (H4): a run waits for room; a service whose own limit
	// exceeds the budget gets a memory failure vote.
	MemoryBudgetPages int64 `toml:"memory_budget_pages"`
	// MaxCrashes: a unit of work the process died running this many times
	// is voted as a memory failure instead of being run again (H4).
	MaxCrashes int `toml:"max_crashes"`
	// LateVotes: on which ended tasks (still before their deadline) the
	// operator votes: "except_median", "all" or "none" (H1).
	LateVotes string `toml:"late_votes"`
	// StaleAfter: an RPC node whose latest block is older than this is left
	// for a fresher endpoint; MaxLagBlocks: so is one this many blocks behind
	// the best endpoint (H3).
	StaleAfter   Duration `toml:"stale_after"`
	MaxLagBlocks int64    `toml:"max_lag_blocks"`
	// MaxTxsInFlight: vote transactions sent with consecutive sequences
	// before the first is known to have landed.
	MaxTxsInFlight int `toml:"max_txs_in_flight"`
	// BatchDelay is how long the submitter waits after a block for more
	// results before it sends that block's transaction.
	BatchDelay Duration `toml:"batch_delay"`
	// ComponentOverrides runs a local file instead of the chain's component
	// of that digest: for testing a new build against live tasks. Votes from
	// a different build will likely disagree with the other operators.
	ComponentOverrides map[string]string `toml:"component_overrides"`
}

// Default returns the defaults for a sidecar next to a local devnet.
func Default() Config {
	return Config{
		ChainID:        "avs-local-1",
		RPCEndpoints:   []string{"tcp://127.0.0.1:26657"},
		GRPCEndpoints:  []string{"127.0.0.1:9090"},
		KeyName:        "operator1",
		KeyringBackend: "test",
		KeyringDir:     "~/.avsd",
		DataDir:        "~/.avs-sidecar/data",
		Services:       nil, // all
		Concurrency:    4,
		MetricsAddr:    "127.0.0.1:9464",
		GasPrices:      "", // the node's minimum-gas-prices, read at start (M10)
		GasAdjustment:  1.5,
		VoteGasReserve: 100_000,
		CatchUpBlocks:  200,
		BatchDelay:     Duration(200 * time.Millisecond),
		LogFormat:      "text",

		HTTPPrivateHosts:     []string{},
		HTTPFetchMaxRequests: 16,
		HTTPFetchMaxBytes:    4 << 20,
		ChainQueryMaxQueries: 64,
		MemoryBudgetPages:    16384, // 1 GiB
		MaxCrashes:           3,
		LateVotes:            "except_median",
		StaleAfter:           Duration(30 * time.Second),
		MaxLagBlocks:         5,
		MaxTxsInFlight:       8,
	}
}

const fileTemplate = `# avs-sidecar configuration. Every key can be overridden by an environment
# variable AVS_SIDECAR_<KEY> (e.g. AVS_SIDECAR_KEY_NAME) and by the matching
# command-line flag of 'avs-sidecar start'.

# Chain id of the avschain network the operator votes on.
chain_id = "{{.ChainID}}"

# CometBFT RPC endpoints (websocket subscription, blocks, broadcast). They are
# tried in order; on failure the sidecar moves to the next.
rpc_endpoints = [{{range $i, $e := .RPCEndpoints}}{{if $i}}, {{end}}"{{$e}}"{{end}}]

# gRPC endpoints (tasks, services, components, accounts, simulation), same fail-over.
grpc_endpoints = [{{range $i, $e := .GRPCEndpoints}}{{if $i}}, {{end}}"{{$e}}"{{end}}]

# The operator key that signs votes: its name, keyring backend (os, file, test)
# and the directory holding the keyring (an avsd home).
key_name = "{{.KeyName}}"
keyring_backend = "{{.KeyringBackend}}"
keyring_dir = "{{.KeyringDir}}"

# The passphrase of a "file" (or "os") keyring, so that no one has to type it:
# a file holding it (mode 0400, owned by the sidecar's user; one trailing
# newline is ignored), read at start. The environment variable
# AVS_SIDECAR_KEYRING_PASSPHRASE takes precedence; the passphrase itself is
# never a setting of this file. "" = ask on the terminal.
keyring_passphrase_file = "{{.KeyringPassphraseFile}}"

# Optional vote key, so that the operator key stays cold: a hot key of this
# keyring signs the votes as authz MsgExec for operator_address, and the
# operator pays the fees through a feegrant. key_name is then not used. The
# operator grants both once (docs/OPERATORS.md, "A vote key"):
#   avsd tx authz grant <vote key address> generic --msg-type /avschain.avs.v1.MsgSubmitResults --from <operator>
#   avsd tx feegrant grant <operator> <vote key address> --allowed-messages /cosmos.authz.v1beta1.MsgExec
vote_key_name = "{{.VoteKeyName}}"
operator_address = "{{.OperatorAddress}}"

# Where the sidecar keeps its cursor and the tasks it executed and voted on.
data_dir = "{{.DataDir}}"

# wazero's compilation cache ("" = <data_dir>/wazero-cache).
cache_dir = "{{.CacheDir}}"

# Services to run: "all" for every service the operator is opted in to, or a
# comma-separated list of service ids, e.g. "1,4".
services = "{{.Services}}"

# Components run at most this many at once.
concurrency = {{.Concurrency}}

# /healthz, /metrics (Prometheus) and /status listen here ("" disables).
metrics_addr = "{{.MetricsAddr}}"

# Fees for vote transactions: gas price, and the factor applied to simulated gas.
# "" = the node's minimum-gas-prices, read at start. An explicit price must be
# at least that minimum (avsd init writes 0.01uavs), or the node refuses the
# votes with "insufficient fee" (the sidecar warns at start).
gas_prices = "{{.GasPrices}}"
gas_adjustment = {{.GasAdjustment}}

# Gas added per vote: a vote simulated as ordinary may complete its task when
# delivered (another operator's vote landed first), which costs more.
vote_gas_reserve = {{.VoteGasReserve}}

# With no cursor yet (first start), look back this many blocks for open tasks.
catch_up_blocks = {{.CatchUpBlocks}}

# After a block, wait this long for more results before sending its vote tx.
batch_delay = "{{.BatchDelay}}"

# Log lines as "text" (key=value) or "json" (one object a line, for a log
# shipper).
log_format = "{{.LogFormat}}"

# http_fetch never reaches a loopback, private, link-local or other
# non-public address (checked after DNS and on every redirect), except for
# the hosts listed here ("host" or "host:port"): e.g. ["localhost:8080"] for
# a devnet's local price server. Leave it empty on a public network.
http_private_hosts = [{{range $i, $e := .HTTPPrivateHosts}}{{if $i}}, {{end}}"{{$e}}"{{end}}]

# Per-run caps on a component's host calls: http_fetch requests, response
# bytes they read in all, and chain_query calls. Past a cap the call fails
# and a run that then fails votes FAILURE_REASON_HTTP.
http_fetch_max_requests = {{.HTTPFetchMaxRequests}}
http_fetch_max_bytes = {{.HTTPFetchMaxBytes}}
chain_query_max_queries = {{.ChainQueryMaxQueries}}

# Memory, in 64 KiB wasm pages, that the component runs in flight may use
# together (16384 = 1 GiB): a run waits for room, and a service whose own
# memory_pages exceeds it is answered with a memory failure vote.
memory_budget_pages = {{.MemoryBudgetPages}}

# A task the sidecar died running this many times (a component that takes
# the process down) is voted as a memory failure instead of run again.
max_crashes = {{.MaxCrashes}}

# Ended tasks still take votes until their deadline (they count for
# liveness): "except_median" votes late on all but completed MEDIAN tasks
# (a late price outside the spread is slashed), "all", or "none".
late_votes = "{{.LateVotes}}"

# Fail-over from a node that answers but is stale: its latest block older
# than stale_after, or max_lag_blocks behind the best endpoint. List the RPC
# and gRPC endpoints of each node in the same order: they move together.
stale_after = "{{.StaleAfter}}"
max_lag_blocks = {{.MaxLagBlocks}}

# Vote transactions in flight at once, signed with consecutive sequences
# (1 = wait for each to land before sending the next).
max_txs_in_flight = {{.MaxTxsInFlight}}

# Testing only: run a local file instead of the chain's component of a digest.
# Your votes then come from code the other operators do not run.
{{if .ComponentOverrides}}[component_overrides]
{{range $d, $p := .ComponentOverrides}}"{{$d}}" = "{{$p}}"
{{end}}{{else}}# [component_overrides]
# "<component digest>" = "/path/to/build.wasm"
{{end}}`

// Render returns cfg as the commented TOML file.
func Render(cfg Config) ([]byte, error) {
	var buf bytes.Buffer
	if err := template.Must(template.New("config").Parse(fileTemplate)).Execute(&buf, cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Load reads a config file over the defaults; unknown keys are an error.
func Load(path string) (Config, error) {
	cfg := Default()
	bz, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w (create one with 'avs-sidecar init')", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(bz)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, describe(err))
	}
	return cfg, nil
}

// describe turns go-toml's errors into one line naming the key and its line.
func describe(err error) error {
	var unknown *toml.StrictMissingError
	if errors.As(err, &unknown) {
		keys := make([]string, 0, len(unknown.Errors))
		for _, e := range unknown.Errors {
			row, _ := e.Position()
			keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
		}
		return fmt.Errorf("unknown setting %s: remove it or fix its name ('avs-sidecar init --home DIR' writes every setting, commented)", strings.Join(keys, ", "))
	}
	var bad *toml.DecodeError
	if errors.As(err, &bad) {
		row, _ := bad.Position()
		return fmt.Errorf("line %d: %w", row, err)
	}
	return err
}

// ApplyEnv overrides fields from AVS_SIDECAR_<KEY> variables found by lookup.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	if val, ok := lookup(PassphraseEnv); ok {
		c.KeyringPassphrase = Secret(val)
	}
	for i := 0; i < t.NumField(); i++ {
		key := t.Field(i).Tag.Get("toml")
		if key == "-" {
			continue
		}
		val, ok := lookup("AVS_SIDECAR_" + strings.ToUpper(key))
		if !ok {
			continue
		}
		if err := setField(v.Field(i), val); err != nil {
			return fmt.Errorf("AVS_SIDECAR_%s: %w", strings.ToUpper(key), err)
		}
	}
	return nil
}

// Set overrides the field whose TOML key is key (flags use it).
func (c *Config) Set(key, val string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if key != "-" && t.Field(i).Tag.Get("toml") == key {
			return setField(v.Field(i), val)
		}
	}
	return fmt.Errorf("unknown config key %q", key)
}

func setField(f reflect.Value, val string) error {
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(val))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(val)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Map:
		m := map[string]string{}
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				return fmt.Errorf("%q: want KEY=VALUE pairs", p)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		f.Set(reflect.ValueOf(m))
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}

// privateHostRe is the form of an http_private_hosts entry: the host or
// host:port of an allow-list entry (x/avs ServiceManifest.limits).
var privateHostRe = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// Validate reports every unusable setting, joined, each saying how to fix it.
// (Values that do not parse, such as a service id or a duration, are refused
// when they are read: by Load, ApplyEnv and Set.)
func (c *Config) Validate() error {
	var errs []error
	if c.ChainID == "" {
		errs = append(errs, errors.New("chain_id is empty"))
	}
	if len(c.RPCEndpoints) == 0 {
		errs = append(errs, errors.New("rpc_endpoints is empty: give at least one CometBFT RPC address"))
	}
	if len(c.GRPCEndpoints) == 0 {
		errs = append(errs, errors.New("grpc_endpoints is empty: give at least one gRPC address"))
	}
	switch {
	case c.VoteKeyName == "" && c.KeyName == "":
		errs = append(errs, errors.New("key_name is empty: name the operator key in the keyring (or set vote_key_name and operator_address)"))
	case c.VoteKeyName == "" && c.OperatorAddress != "":
		errs = append(errs, errors.New("operator_address is set without vote_key_name: the operator's address comes from key_name; set vote_key_name to vote with a separate key, or remove operator_address"))
	case c.VoteKeyName != "" && c.OperatorAddress == "":
		errs = append(errs, errors.New("vote_key_name is set but operator_address is empty: give the avs1... address the vote key votes for"))
	case c.VoteKeyName != "":
		if err := checkAccountAddress(c.OperatorAddress); err != nil {
			errs = append(errs, fmt.Errorf("operator_address: %w", err))
		}
	}
	if c.KeyringPassphraseFile != "" && c.KeyringBackend == "test" {
		errs = append(errs, errors.New(`keyring_passphrase_file is set but keyring_backend is "test", which has no passphrase: use "file" (or "os"), or remove keyring_passphrase_file`))
	}
	for _, h := range c.HTTPPrivateHosts {
		if !privateHostRe.MatchString(h) {
			errs = append(errs, fmt.Errorf(`http_private_hosts entry %q is not a host or host:port as a service's http_allow_list names it (e.g. "localhost:8080": no scheme, no path)`, h))
		}
	}
	if c.GasPrices != "" {
		if _, err := sdk.ParseDecCoins(c.GasPrices); err != nil {
			errs = append(errs, fmt.Errorf(`gas_prices %q: %w (e.g. "0.01uavs", or "" for the node's minimum)`, c.GasPrices, err))
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf(`log_format must be "text" or "json", got %q`, c.LogFormat))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency))
	}
	if c.HTTPFetchMaxRequests < 1 || c.HTTPFetchMaxBytes < 1 || c.ChainQueryMaxQueries < 1 {
		errs = append(errs, fmt.Errorf("http_fetch_max_requests (%d), http_fetch_max_bytes (%d) and chain_query_max_queries (%d) must be at least 1",
			c.HTTPFetchMaxRequests, c.HTTPFetchMaxBytes, c.ChainQueryMaxQueries))
	}
	if c.MemoryBudgetPages < 1 || c.MaxCrashes < 1 {
		errs = append(errs, fmt.Errorf("memory_budget_pages (%d) and max_crashes (%d) must be at least 1", c.MemoryBudgetPages, c.MaxCrashes))
	}
	switch c.LateVotes {
	case "except_median", "all", "none":
	default:
		errs = append(errs, fmt.Errorf("late_votes must be except_median, all or none, got %q", c.LateVotes))
	}
	if c.MaxTxsInFlight < 1 {
		errs = append(errs, fmt.Errorf("max_txs_in_flight must be at least 1, got %d", c.MaxTxsInFlight))
	}
	if c.StaleAfter <= 0 || c.MaxLagBlocks < 1 {
		errs = append(errs, fmt.Errorf("stale_after (%s) must be positive and max_lag_blocks (%d) at least 1", c.StaleAfter, c.MaxLagBlocks))
	}
	if c.VoteGasReserve < 0 {
		errs = append(errs, fmt.Errorf("vote_gas_reserve must not be negative, got %d", c.VoteGasReserve))
	}
	if c.GasAdjustment < 1 {
		errs = append(errs, fmt.Errorf("gas_adjustment must be at least 1, got %v", c.GasAdjustment))
	}
	if c.BatchDelay < 0 {
		errs = append(errs, fmt.Errorf("batch_delay must not be negative, got %s", c.BatchDelay))
	}
	return errors.Join(errs...)
}

// ExpandPaths resolves ~ in the path settings and fills cache_dir.
func (c *Config) ExpandPaths() error {
	home, err := os.UserHomeDir()
	if err != nil {
		return err
	}
	expand := func(p string) string {
		if strings.HasPrefix(p, "~/") {
			return filepath.Join(home, p[2:])
		}
		return p
	}
	c.KeyringDir, c.DataDir, c.CacheDir = expand(c.KeyringDir), expand(c.DataDir), expand(c.CacheDir)
	c.KeyringPassphraseFile = expand(c.KeyringPassphraseFile)
	for d, p := range c.ComponentOverrides {
		c.ComponentOverrides[d] = expand(p)
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.DataDir, "wazero-cache")
	}
	return nil
}

// checkAccountAddress checks an avs1... account address.
func checkAccountAddress(addr string) error {
	hrp, _, err := bech32.DecodeAndConvert(addr)
	if err != nil {
		return fmt.Errorf("%q is not a bech32 address: %w", addr, err)
	}
	if hrp != prefix.Account {
		return fmt.Errorf("%q has prefix %q, want %q", addr, hrp, prefix.Account)
	}
	return nil
}

// Passphrase returns the keyring passphrase: AVS_SIDECAR_KEYRING_PASSPHRASE
// (KeyringPassphrase) if set, else the content of keyring_passphrase_file
// with its trailing newline stripped; "" when neither is set.
func (c *Config) Passphrase() (string, error) {
	pass, from := string(c.KeyringPassphrase), PassphraseEnv
	if pass == "" && c.KeyringPassphraseFile != "" {
		bz, err := os.ReadFile(c.KeyringPassphraseFile)
		if err != nil {
			return "", fmt.Errorf("keyring_passphrase_file: %w (the sidecar's user must be able to read it)", err)
		}
		pass, from = strings.TrimSuffix(strings.TrimSuffix(string(bz), "\n"), "\r"), "keyring_passphrase_file "+c.KeyringPassphraseFile
		if pass == "" {
			return "", fmt.Errorf("%s is empty: write the keyring passphrase in it", from)
		}
	}
	if pass != "" && len(pass) < minPassphrase {
		return "", fmt.Errorf("the passphrase from %s is shorter than %d characters, which the keyring refuses", from, minPassphrase)
	}
	return pass, nil
}
