package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/avschain/avschain/x/avs/types"
)

// GetQueryCmd returns `avsd query avs`; autocli adds the other queries to it.
func GetQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/avs queries: components, services, operators, tasks, commitments",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(CommitmentsCmd())
	return cmd
}

// CommitmentsCmd is `avsd q avs commitments ADDRESS`: a readable table of a
// committer's commitments, pending rewards and unbonding entries (-o json for JSON).
func CommitmentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "commitments [committer]",
		Short: "Show a committer's commitments with pending rewards, and its unbonding entries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).Commitments(cmd.Context(), &types.QueryCommitmentsRequest{Committer: args[0]})
			if err != nil {
				return err
			}
			if out, _ := cmd.Flags().GetString(flags.FlagOutput); out == flags.OutputFormatJSON {
				return clientCtx.PrintProto(res)
			}
			return printCommitments(cmd, res)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	cmd.Flags().Set(flags.FlagOutput, "text") //nolint:errcheck // the flag exists
	return cmd
}

func printCommitments(cmd *cobra.Command, res *types.QueryCommitmentsResponse) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	if len(res.Commitments) == 0 {
		fmt.Fprintln(w, "no commitments")
	} else {
		fmt.Fprintln(w, "SERVICE\tOPERATOR\tCOMMITTED\tSHARES\tPENDING REWARDS")
		for _, c := range res.Commitments {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", c.Commitment.ServiceId, c.Commitment.Operator, c.Value, c.Commitment.Shares, c.PendingRewards)
		}
	}
	if len(res.Unbonding) > 0 {
		fmt.Fprintln(w, "\nUNBONDING\tSERVICE\tOPERATOR\tAMOUNT\tRELEASED AT")
		for _, e := range res.Unbonding {
			fmt.Fprintf(w, "#%d\t%d\t%s\t%s\t%s\n", e.Id, e.ServiceId, e.Operator, e.Amount, e.CompletionTime.UTC().Format(time.RFC3339))
		}
	}
	return w.Flush()
}
