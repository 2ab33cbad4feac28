package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/avschain/avschain/sidecar/config"
	"github.com/avschain/avschain/sidecar/node"
)

var version = "dev"

const configFile = "sidecar.toml"

func defaultHome() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".avs-sidecar"
	}
	return filepath.Join(home, ".avs-sidecar")
}

func rootCmd() *cobra.Command {
	// Errors are printed by execute: one line, and the usage only after a
	// usage error.
	root := &cobra.Command{
		Use:           "avs-sidecar",
		Short:         "avschain operator sidecar: runs service components in wazero and votes their results",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		Run:           func(cmd *cobra.Command, _ []string) { _ = cmd.Help() },
	}
	root.PersistentFlags().String("home", defaultHome(), "directory holding sidecar.toml")
	root.PersistentFlags().String("log-level", "info", "debug, info, warn or error")
	root.AddCommand(initCmd(), startCmd(), doctorCmd(), execCmd(), &cobra.Command{
		Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), version) },
	})
	markUsageErrors(root)
	return root
}

// unknownCommand refuses arguments to the root: they name no subcommand.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func logger(cmd *cobra.Command) *slog.Logger { return loggerAs(cmd, "text") }

// loggerAs logs to stderr at --log-level, as "text" or "json" (log_format).
func loggerAs(cmd *cobra.Command, format string) *slog.Logger {
	lvl, _ := cmd.Flags().GetString("log-level")
	var level slog.Level
	if err := level.UnmarshalText([]byte(lvl)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts))
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts))
}

// overrideFlags maps start/init flags to config keys.
var overrideFlags = []struct{ flag, key, usage string }{
	{"chain-id", "chain_id", "chain id"},
	{"rpc", "rpc_endpoints", "comma-separated CometBFT RPC endpoints (fail-over in order)"},
	{"grpc", "grpc_endpoints", "comma-separated gRPC endpoints (fail-over in order)"},
	{"key", "key_name", "operator key name in the keyring"},
	{"keyring-backend", "keyring_backend", "keyring backend: os, file or test"},
	{"keyring-dir", "keyring_dir", "directory of the keyring (an avsd home)"},
	{"data-dir", "data_dir", "directory for the cursor and task records"},
	{"services", "services", `"all" or comma-separated service ids`},
	{"concurrency", "concurrency", "components run at once"},
	{"metrics-addr", "metrics_addr", `address of /healthz, /metrics, /status ("" disables)`},
	{"gas-prices", "gas_prices", `gas price of vote transactions, at least the node's minimum-gas-prices ("" = that minimum, read at start)`},
	{"keyring-passphrase-file", "keyring_passphrase_file", "file holding the file/os keyring's passphrase (or set AVS_SIDECAR_KEYRING_PASSPHRASE)"},
	{"vote-key", "vote_key_name", "hot key that signs votes for --operator-address through authz (the operator key stays cold)"},
	{"operator-address", "operator_address", "the operator a --vote-key votes for (avs1...)"},
	{"log-format", "log_format", `log lines as "text" or "json"`},
}

func addOverrideFlags(fs *pflag.FlagSet) {
	for _, f := range overrideFlags {
		fs.String(f.flag, "", f.usage)
	}
}

func applyFlags(cfg *config.Config, fs *pflag.FlagSet) error {
	for _, f := range overrideFlags {
		if !fs.Changed(f.flag) {
			continue
		}
		v, _ := fs.GetString(f.flag)
		if err := cfg.Set(f.key, v); err != nil {
			return usageError{fmt.Errorf("--%s: %w", f.flag, err)}
		}
	}
	return nil
}

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented sidecar.toml into --home (flags set its values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString("home")
			force, _ := cmd.Flags().GetBool("force")
			path := filepath.Join(home, configFile)
			if _, err := os.Stat(path); err == nil && !force {
				return fmt.Errorf("%s exists: edit it, or pass --force to overwrite", path)
			}
			cfg := config.Default()
			cfg.DataDir = filepath.Join(home, "data")
			if err := applyFlags(&cfg, cmd.Flags()); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			bz, err := config.Render(cfg)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, bz, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nnext: check key_name and keyring_dir, then run 'avs-sidecar start --home %s'\n", path, home)
			return nil
		},
	}
	cmd.Flags().Bool("force", false, "overwrite an existing config")
	addOverrideFlags(cmd.Flags())
	return cmd
}

func loadConfig(cmd *cobra.Command) (config.Config, error) {
	home, _ := cmd.Flags().GetString("home")
	cfg, err := config.Load(filepath.Join(home, configFile))
	if err != nil {
		return cfg, err
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	if err := applyFlags(&cfg, cmd.Flags()); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, cfg.ExpandPaths()
}

func startCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Watch the chain, run components and vote until SIGINT/SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			n, err := node.New(cfg, node.WithLogger(loggerAs(cmd, cfg.LogFormat)))
			if err != nil {
				return err
			}
			if path, _ := cmd.Flags().GetString("cpu-profile"); path != "" {
				stopProfile, err := startCPUProfile(path)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return n.Start(ctx)
		},
	}
	addOverrideFlags(cmd.Flags())
	cmd.Flags().String("cpu-profile", "", "write a CPU profile of the run to this file when the sidecar stops (read it with `go tool pprof`)")
	return cmd
}

// startCPUProfile profiles the process's CPU into path until the returned
// function is called, as avsd start --cpu-profile does for the node.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

func doctorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what would stop this operator voting (the checks 'start' runs), one line each",
		Long: `Run the checks 'start' runs before it starts, with the same config, and print
one line per problem: its severity (fatal: 'start' refuses; warn: voting
stops or misses until fixed; info), what is wrong and the fix. It checks the
node's chain id, sync state, tx index and block results, the operator's
registration, opt-ins, the services setting and jails, the accounts that
sign and pay, the balance against about 100 vote transactions, the vote
key's grants, the gas price against the node's minimum, and that the data
dir belongs to this chain. Exits 1 when a problem is fatal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			// Warnings of the checks themselves are in the report: log errors only.
			n, err := node.New(cfg, node.WithLogger(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError}))))
			if err != nil {
				return err
			}
			ps := n.Doctor(cmd.Context())
			out := cmd.OutOrStdout()
			for _, p := range ps {
				fmt.Fprintln(out, sourcePath.ReplaceAllString(p.String(), ""))
			}
			if len(ps) == 0 {
				fmt.Fprintln(out, "ok: nothing found that would stop voting")
			}
			if node.HasFatal(ps) {
				return errors.New("fatal problems found: 'avs-sidecar start' would refuse to start")
			}
			return nil
		},
	}
	addOverrideFlags(cmd.Flags())
	return cmd
}
