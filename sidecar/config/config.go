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
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is everything a sidecar needs to run.
type Config struct {
	ChainID        string     `toml:"chain_id"`
	RPCEndpoints   []string   `toml:"rpc_endpoints"`
	GRPCEndpoints  []string   `toml:"grpc_endpoints"`
	KeyName        string     `toml:"key_name"`
	KeyringBackend string     `toml:"keyring_backend"`
	KeyringDir     string     `toml:"keyring_dir"`
	DataDir        string     `toml:"data_dir"`
	Services       ServiceIDs `toml:"services"`
	Concurrency    int        `toml:"concurrency"`
	MetricsAddr    string     `toml:"metrics_addr"`
	GasPrices      string     `toml:"gas_prices"`
	GasAdjustment  float64    `toml:"gas_adjustment"`
	VoteGasReserve int64      `toml:"vote_gas_reserve"`
	CatchUpBlocks  int64      `toml:"catch_up_blocks"`
	CacheDir       string     `toml:"cache_dir"`
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
		GasPrices:      "0.01uavs", // avsd init's minimum-gas-prices (docs/VALIDATORS.md)
		GasAdjustment:  1.5,
		VoteGasReserve: 100_000,
		CatchUpBlocks:  200,
		BatchDelay:     Duration(200 * time.Millisecond),
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
# The price must be at least the node's minimum-gas-prices (avsd init writes
# 0.01uavs), or the node refuses the votes with "insufficient fee".
gas_prices = "{{.GasPrices}}"
gas_adjustment = {{.GasAdjustment}}

# Gas added per vote: a vote simulated as ordinary may complete its task when
# delivered (another operator's vote landed first), which costs more.
vote_gas_reserve = {{.VoteGasReserve}}

# With no cursor yet (first start), look back this many blocks for open tasks.
catch_up_blocks = {{.CatchUpBlocks}}

# After a block, wait this long for more results before sending its vote tx.
batch_delay = "{{.BatchDelay}}"

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
	for i := 0; i < t.NumField(); i++ {
		key := t.Field(i).Tag.Get("toml")
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
		if t.Field(i).Tag.Get("toml") == key {
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
	if c.KeyName == "" {
		errs = append(errs, errors.New("key_name is empty: name the operator key in the keyring"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency))
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
	for d, p := range c.ComponentOverrides {
		c.ComponentOverrides[d] = expand(p)
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.DataDir, "wazero-cache")
	}
	return nil
}
