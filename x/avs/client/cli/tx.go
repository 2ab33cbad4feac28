// Package cli holds the x/avs commands autocli cannot build well: those that
// read files (components, service manifests), take raw task input and results,
// or carry a coin or a decimal.
package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// GetTxCmd returns `avsd tx avs`; autocli adds the other messages to it.
func GetTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/avs transactions: components, services, operators, tasks and votes",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		StoreComponentCmd(),
		CreateServiceCmd(),
		UpdateServiceCmd(),
		SetServiceStatusCmd(),
		TransferServiceCmd(),
		UpdateAllowlistCmd(),
		CreateTaskCmd(),
		CreateTasksCmd(),
		SubmitResultsCmd(),
		RegisterOperatorCmd(),
		UpdateOperatorCmd(),
		OptInCmd(),
		OptOutCmd(),
		UnjailCmd(),
		WithdrawRewardsCmd(),
		CommitCmd(),
		UncommitCmd(),
		FundServiceCmd(),
		RequestRemoteTaskCmd(),
	)
	return cmd
}

// buildMsg makes a command's message from the client context (its signer and
// codec), the command's flags and its arguments.
type buildMsg func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error)

// txCmd completes cmd (its use, help and argument check) into a tx command: it
// adds the tx flags and a RunE that builds the message (checking what it can
// locally) and sends it with sendTx: simulated first, then signed,
// broadcast and waited for, or printed with --generate-only.
func txCmd(cmd *cobra.Command, build buildMsg) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		clientCtx, err := client.GetClientTxContext(cmd)
		if err != nil {
			return err
		}
		msg, err := build(clientCtx, cmd, args)
		if err != nil {
			return err
		}
		return sendTx(cmd, clientCtx, msg)
	}
	addSendFlags(cmd)
	return cmd
}

// coinCmd builds a command whose last argument is an amount of the stake
// denom (checked against the chain's params). autocli cannot send a coin: its
// dynamic messages clash with the SDK's Coin type when a module ships no
// pulsar code (api/…).
func coinCmd(
	use, short string, nArgs int,
	build func(clientCtx client.Context, cmd *cobra.Command, args []string, amount sdk.Coin) (sdk.Msg, error),
) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(nArgs)}
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		amount, err := parseAmount("amount", args[len(args)-1])
		if err != nil {
			return nil, err
		}
		params, err := chainParams(cmd, clientCtx)
		if err != nil {
			return nil, err
		}
		if err := checkDenom("amount", amount, params); err != nil {
			return nil, err
		}
		return build(clientCtx, cmd, args[:len(args)-1], amount)
	})
}

// parseID reads a task or service id; kind names it in the error.
func parseID(kind, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want a whole number, e.g. 1", kind, s)
	}
	return id, nil
}

func parseServiceID(s string) (uint64, error) { return parseID("service id", s) }
