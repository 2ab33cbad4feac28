// Package runner runs avsd's root command as the SDK's server/cmd.Execute does,
// except for how a failure is shown: one "Error: …" line, and the usage only
// when the arguments were wrong. It does not import the app, so its tests stay
// small.
package runner

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	cmtcli "github.com/cometbft/cometbft/libs/cli"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"
	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
)

// Execute runs rootCmd with what svrcmd.Execute gives it: the server and client
// contexts, the log flags, --home, --trace and the flags bound to viper.
//
// What it does not take from svrcmd.Execute and wasmd's main is how a failure
// is shown. There cobra prints the usage with every error, a missing file as
// much as a missing argument (svrcmd calls the root's own ExecuteContext, so
// CometBFT's Executor, which would silence it, never runs), and main logs the
// error as an ERR log line. Execute prints "Error: " and the error's text on
// one line, and the usage only when the arguments were wrong; it returns the
// error for main to choose the exit status. --trace adds the stack.
func Execute(rootCmd *cobra.Command, envPrefix, defaultHome string) error {
	ctx := svrcmd.CreateExecuteContext(context.Background())

	// The same flags as svrcmd.Execute.
	rootCmd.PersistentFlags().String(flags.FlagLogLevel, "info",
		"The logging level (trace|debug|info|warn|error|fatal|panic|disabled or '*:<level>,<key>:<level>')")
	rootCmd.PersistentFlags().String(flags.FlagLogFormat, "plain", "The logging format (json|plain)")
	rootCmd.PersistentFlags().Bool(flags.FlagLogNoColor, false, "Disable colored logs")

	// PrepareBaseCmd adds --home and --trace and binds the flags to viper.
	_ = cmtcli.PrepareBaseCmd(rootCmd, envPrefix, defaultHome)

	// Cobra runs the persistent pre-run only once the flags are parsed and the
	// arguments and required flags validated: an error before it is a usage
	// error, one after it a failure of the command.
	argsAccepted := false
	if rootCmd.PersistentPreRunE == nil && rootCmd.PersistentPreRun == nil {
		rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error { return nil }
	}
	notePreRuns(rootCmd, &argsAccepted)
	// Cobra prints neither: it would print the usage with every error (or, for
	// autocli's tx commands, with none).
	rootCmd.SilenceErrors = true
	rootCmd.SilenceUsage = true

	cmd, err := rootCmd.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	// A group command (`avsd tx avs`) fails only on an unknown subcommand:
	// client.ValidateCmd is its RunE.
	if !argsAccepted || cmd.HasSubCommands() {
		fmt.Fprintf(cmd.ErrOrStderr(), "Error: %s\n%s", stripFrames(err.Error()), cmd.UsageString())
		return err
	}
	msg := Message(err)
	fmt.Fprintf(cmd.ErrOrStderr(), "Error: %s\n", msg)
	// %+v is the stack for a cosmossdk.io/errors error, and the raw text with
	// the node's source positions for a refused transaction.
	if trace, _ := cmd.Flags().GetBool(cmtcli.TraceFlag); trace {
		if full := fmt.Sprintf("%+v", err); full != msg {
			fmt.Fprintln(cmd.ErrOrStderr(), full)
		}
	}
	return err
}

// notePreRuns makes every persistent pre-run under cmd set *ran first. Cobra
// runs only the nearest one, which is the root's for all of avsd's commands
// today; a subcommand's own would otherwise hide the root's.
func notePreRuns(cmd *cobra.Command, ran *bool) {
	switch preRunE, preRun := cmd.PersistentPreRunE, cmd.PersistentPreRun; {
	case preRunE != nil:
		cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			return preRunE(cmd, args)
		}
	case preRun != nil:
		cmd.PersistentPreRun = func(cmd *cobra.Command, args []string) {
			*ran = true
			preRun(cmd, args)
		}
	}
	for _, sub := range cmd.Commands() {
		notePreRuns(sub, ran)
	}
}

var (
	// frame is what cosmossdk.io/errors appends to an error formatted with %v,
	// e.g. " [avschain/avschain/x/avs/types/wasm.go:89]". It gets into the
	// text of err.Error(): through fmt.Errorf's %w, and from the node, which
	// formats a refused simulation with %v (x/auth/tx's Simulate).
	frame = regexp.MustCompile(` ?\[[^\[\]\s]+\.go:\d+\]`)
	// grpcEnvelope is the prefix of a gRPC status error. Its code is Unknown
	// for a refused simulation, and repeats the description otherwise
	// ("NotFound desc = service 7: service not found: key not found").
	grpcEnvelope = regexp.MustCompile(`rpc error: code = \w+ desc = `)

	// refusedSimulation is a message the node refused while simulating the
	// transaction (--gas auto): baseapp names the message index, x/auth/tx's
	// Simulate adds the gas used, and baseapp's gRPC query handler wraps it all
	// in ErrUnknownRequest. Only the reason and the index mean something.
	refusedSimulation = regexp.MustCompile(
		`^failed to execute message; message index: (\d+): (.*) with gas used: '\d+': unknown request$`)
)

// Message returns err's text as one line for a person: without source
// positions, without the gRPC envelope, its lines joined, and a transaction
// refused in simulation said so.
func Message(err error) string {
	msg := grpcEnvelope.ReplaceAllString(stripFrames(err.Error()), "")
	msg = strings.Join(strings.Fields(msg), " ")
	if m := refusedSimulation.FindStringSubmatch(msg); m != nil {
		if m[1] == "0" {
			return "transaction refused: " + m[2]
		}
		return fmt.Sprintf("transaction refused (message %s): %s", m[1], m[2])
	}
	return msg
}

func stripFrames(msg string) string { return frame.ReplaceAllString(msg, "") }
