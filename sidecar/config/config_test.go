package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/config"
)

func TestRenderLoadRoundTrip(t *testing.T) {
	cfg := config.Default()
	cfg.RPCEndpoints = []string{"tcp://127.0.0.1:1", "tcp://127.0.0.1:2"}
	cfg.Services = config.ServiceIDs{1, 4}
	cfg.ComponentOverrides = map[string]string{"ab12": "/tmp/x.wasm"}
	bz, err := config.Render(cfg)
	require.NoError(t, err)
	require.Contains(t, string(bz), "# Services to run")

	path := filepath.Join(t.TempDir(), "sidecar.toml")
	require.NoError(t, os.WriteFile(path, bz, 0o600))
	got, err := config.Load(path)
	require.NoError(t, err)
	require.Equal(t, cfg, got)
	require.Equal(t, map[uint64]bool{1: true, 4: true}, got.Services.Set())
	require.Contains(t, string(bz), `services = "1,4"`)
	require.Contains(t, string(bz), `batch_delay = "200ms"`)

	// Without overrides the table is only a commented example.
	bz, err = config.Render(config.Default())
	require.NoError(t, err)
	require.Contains(t, string(bz), `# "<component digest>" = "/path/to/build.wasm"`)
	require.NoError(t, os.WriteFile(path, bz, 0o600))
	got, err = config.Load(path)
	require.NoError(t, err)
	require.Equal(t, config.Default(), got)
}

func TestEnvAndFlagOverride(t *testing.T) {
	cfg := config.Default()
	env := map[string]string{"AVS_SIDECAR_KEY_NAME": "operator2", "AVS_SIDECAR_CONCURRENCY": "8", "AVS_SIDECAR_GRPC_ENDPOINTS": "a:1, b:2"}
	require.NoError(t, cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	require.Equal(t, "operator2", cfg.KeyName)
	require.Equal(t, 8, cfg.Concurrency)
	require.Equal(t, []string{"a:1", "b:2"}, cfg.GRPCEndpoints)
	require.NoError(t, cfg.Set("component_overrides", "d1=/a.wasm, d2=/b.wasm"))
	require.Equal(t, map[string]string{"d1": "/a.wasm", "d2": "/b.wasm"}, cfg.ComponentOverrides)
	require.NoError(t, cfg.Set("key_name", "operator3"))
	require.Equal(t, "operator3", cfg.KeyName)
	// Each refusal with its error (tests review L2: any error passed).
	require.EqualError(t, cfg.Set("nope", "x"), `unknown config key "nope"`)
	err := cfg.ApplyEnv(func(k string) (string, bool) { return "x", k == "AVS_SIDECAR_CONCURRENCY" })
	require.ErrorIs(t, err, strconv.ErrSyntax)
	require.EqualError(t, err, `AVS_SIDECAR_CONCURRENCY: strconv.ParseInt: parsing "x": invalid syntax`)
	require.Equal(t, 8, cfg.Concurrency, "a refused value changes nothing")
}

func TestValidateAndUnknownKeys(t *testing.T) {
	cfg := config.Default()
	require.NoError(t, cfg.Validate())
	cfg.Concurrency = 0
	cfg.GasAdjustment = 0.5
	err := cfg.Validate()
	require.ErrorContains(t, err, "concurrency", "every unusable setting is reported")
	require.ErrorContains(t, err, "gas_adjustment")

	// Values that do not parse are refused when read, once.
	require.ErrorContains(t, cfg.Set("services", "one"), `"one" is not a service id`)
	require.ErrorContains(t, cfg.Set("batch_delay", "soon"), "soon")
	require.NoError(t, cfg.Set("services", "all"))
	require.Nil(t, cfg.Services)
	require.NoError(t, cfg.Set("services", "2, 3"))
	require.Equal(t, config.ServiceIDs{2, 3}, cfg.Services)
	require.NoError(t, cfg.ApplyEnv(func(k string) (string, bool) { return "1s", k == "AVS_SIDECAR_BATCH_DELAY" }))
	require.Equal(t, config.Duration(time.Second), cfg.BatchDelay)

	path := filepath.Join(t.TempDir(), "bad.toml")
	require.NoError(t, os.WriteFile(path, []byte("chain_id = \"x\"\nchain_idd = \"x\"\n"), 0o600))
	_, err = config.Load(path)
	require.ErrorContains(t, err, "unknown setting chain_idd (line 2)")

	require.NoError(t, os.WriteFile(path, []byte("batch_delay = \"soon\"\n"), 0o600))
	_, err = config.Load(path)
	require.ErrorContains(t, err, "line 1")
}

// TestM10GasPricesDefaultToTheNodesMinimum: the default is "" (read the
// node's minimum-gas-prices at start); an explicit price still parses, and
// a malformed one is refused with an example.
func TestM10GasPricesDefaultToTheNodesMinimum(t *testing.T) {
	cfg := config.Default()
	require.Empty(t, cfg.GasPrices)
	bz, err := config.Render(cfg)
	require.NoError(t, err)
	require.Contains(t, string(bz), `gas_prices = ""`)
	require.Contains(t, string(bz), `"" = the node's minimum-gas-prices`)
	require.NoError(t, cfg.Validate())
	cfg.GasPrices = "0.02uavs"
	require.NoError(t, cfg.Validate())
	cfg.GasPrices = "cheap"
	require.ErrorContains(t, cfg.Validate(), `gas_prices "cheap"`)
}

// TestM9KeyringPassphrase: the passphrase comes from the environment or a
// file (trailing newline stripped), never from the config file or a flag,
// and is never printed.
func TestM9KeyringPassphrase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "passphrase")
	require.NoError(t, os.WriteFile(file, []byte("correct horse\n"), 0o400))

	cfg := config.Default()
	cfg.KeyringBackend = "file"
	pass, err := cfg.Passphrase()
	require.NoError(t, err)
	require.Empty(t, pass, "neither set: the keyring asks")

	cfg.KeyringPassphraseFile = file
	require.NoError(t, cfg.Validate())
	pass, err = cfg.Passphrase()
	require.NoError(t, err)
	require.Equal(t, "correct horse", pass)

	// The environment takes precedence, and is hidden when printed.
	require.NoError(t, cfg.ApplyEnv(func(k string) (string, bool) { return "battery staple", k == config.PassphraseEnv }))
	pass, err = cfg.Passphrase()
	require.NoError(t, err)
	require.Equal(t, "battery staple", pass)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), "battery")

	// Not a setting of the file, nor of a flag.
	require.EqualError(t, cfg.Set("-", "x"), `unknown config key "-"`)
	require.EqualError(t, cfg.Set("keyring_passphrase", "x"), `unknown config key "keyring_passphrase"`)
	path := filepath.Join(dir, "sidecar.toml")
	require.NoError(t, os.WriteFile(path, []byte("keyring_passphrase = \"x\"\n"), 0o600))
	_, err = config.Load(path)
	require.ErrorContains(t, err, "unknown setting keyring_passphrase")

	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("abc\n"), 0o400))
	cfg = config.Default()
	cfg.KeyringBackend, cfg.KeyringPassphraseFile = "file", short
	_, err = cfg.Passphrase()
	require.ErrorContains(t, err, "shorter than 8 characters")
	cfg.KeyringPassphraseFile = filepath.Join(dir, "missing")
	_, err = cfg.Passphrase()
	require.ErrorContains(t, err, "keyring_passphrase_file")

	cfg.KeyringBackend = "test"
	require.ErrorContains(t, cfg.Validate(), `keyring_backend is "test", which has no passphrase`)
}

// TestM9VoteKeySettings: with vote_key_name the operator is named by
// operator_address (its key need not be local); each half without the
// other is refused.
func TestM9VoteKeySettings(t *testing.T) {
	const op = "avs1qyqszqgpqyqszqgpqyqszqgpqyqszqgpd3sl82"
	for _, tc := range []struct {
		name     string
		malleate func(*config.Config)
		wantErr  string
	}{
		{name: "operator key only", malleate: func(*config.Config) {}},
		{name: "vote key", malleate: func(c *config.Config) { c.KeyName, c.VoteKeyName, c.OperatorAddress = "", "votes", op }},
		{name: "vote key without operator", malleate: func(c *config.Config) { c.VoteKeyName = "votes" }, wantErr: "operator_address is empty"},
		{name: "operator without vote key", malleate: func(c *config.Config) { c.OperatorAddress = op }, wantErr: "operator_address is set without vote_key_name"},
		{name: "no key at all", malleate: func(c *config.Config) { c.KeyName = "" }, wantErr: "key_name is empty"},
		{name: "bad operator address", malleate: func(c *config.Config) { c.VoteKeyName, c.OperatorAddress = "votes", "avs1nope" }, wantErr: "operator_address"},
		{name: "operator address of another chain", malleate: func(c *config.Config) {
			c.VoteKeyName, c.OperatorAddress = "votes", "cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du"
		}, wantErr: `want "avs"`},
		{name: "log format", malleate: func(c *config.Config) { c.LogFormat = "xml" }, wantErr: `log_format must be "text" or "json"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			tc.malleate(&cfg)
			err := cfg.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// TestPrivateHostsAreHosts: an http_private_hosts entry written as a URL
// would match no allow-list entry and be ignored: it is refused, with the
// form to use.
func TestPrivateHostsAreHosts(t *testing.T) {
	cfg := config.Default()
	cfg.HTTPPrivateHosts = []string{"localhost:8080", "127.0.0.1", "prices.internal"}
	require.NoError(t, cfg.Validate())
	for _, bad := range []string{"http://localhost:8080", "localhost:8080/", "", "[::1]:8080"} {
		cfg.HTTPPrivateHosts = []string{bad}
		require.ErrorContains(t, cfg.Validate(), "http_private_hosts entry", bad)
	}
}
