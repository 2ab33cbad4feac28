package cli

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/types/query"

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
// page of a committer's commitments with pending rewards (-o json for JSON;
// --page-* flags for the page; `avsd q avs unbonding` lists unbonding entries).
func CommitmentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "commitments [committer]",
		Short: "Show a page of a committer's commitments with pending rewards",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			page, err := readPageRequest(cmd)
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).Commitments(cmd.Context(), &types.QueryCommitmentsRequest{Committer: args[0], Pagination: page})
			if err != nil {
				return err
			}
			if out, _ := cmd.Flags().GetString(flags.FlagOutput); out == flags.OutputFormatJSON {
				return clientCtx.PrintProto(res)
			}
			params, err := types.NewQueryClient(clientCtx).Params(cmd.Context(), &types.QueryParamsRequest{})
			if err != nil {
				return err
			}
			return printCommitments(cmd, res, params.Params.StakeDenom)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	addPageFlags(cmd)
	cmd.Flags().Set(flags.FlagOutput, "text") //nolint:errcheck // the flag exists
	return cmd
}

// printCommitments prints the commitments as a table; committed amounts are
// in denom (the stake denom), as the pending rewards are.
func printCommitments(cmd *cobra.Command, res *types.QueryCommitmentsResponse, denom string) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	if len(res.Commitments) == 0 {
		fmt.Fprintln(w, "no commitments")
	} else {
		fmt.Fprintln(w, "SERVICE\tOPERATOR\tCOMMITTED\tSHARES\tPENDING REWARDS")
		for _, c := range res.Commitments {
			fmt.Fprintf(w, "%d\t%s\t%s%s\t%s\t%s\n", c.Commitment.ServiceId, c.Commitment.Operator, c.Value, denom, c.Commitment.Shares, c.PendingRewards)
		}
	}
	if res.Pagination != nil && len(res.Pagination.NextKey) > 0 {
		fmt.Fprintf(w, "\nmore: --page-key %s\n", hex.EncodeToString(res.Pagination.NextKey))
	}
	return w.Flush()
}

// The --page-* flags autocli gives a query with a pagination field.
const (
	flagPageKey        = "page-key"
	flagPageLimit      = "page-limit"
	flagPageOffset     = "page-offset"
	flagPageCountTotal = "page-count-total"
	flagPageReverse    = "page-reverse"
)

// addPageFlags adds to a hand-written query the --page-* flags autocli adds
// to its own, so that every list query pages with the same flags.
func addPageFlags(cmd *cobra.Command) {
	cmd.Flags().String(flagPageKey, "", "the next_key of the previous page, hex or base64")
	cmd.Flags().Uint64(flagPageLimit, 0, fmt.Sprintf("items per page (default %d, at most %d)", query.DefaultLimit, types.MaxPageLimit))
	cmd.Flags().Uint64(flagPageOffset, 0, "items to skip (instead of --page-key)")
	cmd.Flags().Bool(flagPageCountTotal, false, "count every item (walks the whole list)")
	cmd.Flags().Bool(flagPageReverse, false, "list in reverse order")
}

// readPageRequest reads the --page-* flags as autocli does: the key is hex
// or base64 (the JSON output's next_key).
func readPageRequest(cmd *cobra.Command) (*query.PageRequest, error) {
	f := cmd.Flags()
	page := &query.PageRequest{}
	page.Limit, _ = f.GetUint64(flagPageLimit)
	page.Offset, _ = f.GetUint64(flagPageOffset)
	page.CountTotal, _ = f.GetBool(flagPageCountTotal)
	page.Reverse, _ = f.GetBool(flagPageReverse)
	key, _ := f.GetString(flagPageKey)
	if key == "" {
		return page, nil
	}
	var err error
	if page.Key, err = hex.DecodeString(key); err == nil {
		return page, nil
	}
	if page.Key, err = base64.StdEncoding.DecodeString(key); err == nil {
		return page, nil
	}
	return nil, fmt.Errorf("--%s %q is neither hex nor base64", flagPageKey, key)
}
