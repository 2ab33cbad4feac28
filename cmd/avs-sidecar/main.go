// Command avs-sidecar is the avschain operator's process: it watches the chain
// for tasks, runs each service's WASI component in wazero and votes the result.
//
//	avs-sidecar init [--home DIR]        write a commented config file
//	avs-sidecar start [--home DIR]       run (flags and AVS_SIDECAR_* override the file)
//	avs-sidecar doctor [--home DIR]      print what would stop the operator voting
//	avs-sidecar exec --wasm F --input X  run a component locally, no chain
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(execute(rootCmd(), os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line itself (an unknown command or
// flag, a missing or malformed argument): only these print the usage.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// execute runs the command line args and returns the exit code. An error is
// printed as one "Error: ..." line; the usage follows only a usage error.
func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "Error: "+oneLine(err))
	if errors.As(err, new(usageError)) {
		fmt.Fprint(stderr, cmd.UsageString())
	}
	return 1
}

// sourcePath is the location cosmossdk.io/errors appends to some errors,
// e.g. " [cosmos/cosmos-sdk@v0.50.15/crypto/keyring/keyring.go:521]".
var sourcePath = regexp.MustCompile(`\s*\[[^\]\s]+\.go:\d+\]`)

// oneLine joins a multi-line error (config.Validate joins one per setting)
// and drops source paths: they tell an operator nothing.
func oneLine(err error) string {
	s := sourcePath.ReplaceAllString(err.Error(), "")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// markUsageErrors makes the flag and argument errors of cmd and its
// subcommands usage errors. cobra reports an unknown command from Find,
// before any command runs: that one is marked by a positional-args check on
// the root.
func markUsageErrors(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markUsageErrors(sub)
	}
}
