package config_test

import (
	"os"
	"path/filepath"
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
	require.Error(t, cfg.Set("nope", "x"))
	require.Error(t, cfg.ApplyEnv(func(k string) (string, bool) { return "x", k == "AVS_SIDECAR_CONCURRENCY" }))
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
