package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

const flagCommission = "commission"

// operatorCmd builds register-operator and update-operator. autocli cannot send
// the decimal commission: the chain encodes it as a fixed-point integer.
func operatorCmd(
	use, short string, build func(operator, moniker string, commission sdkmath.LegacyDec) sdk.Msg,
) *cobra.Command {
	cmd := &cobra.Command{Use: use + " [moniker]", Short: short, Args: cobra.ExactArgs(1)}
	cmd.Flags().String(flagCommission, "", "share of fee rewards the operator keeps, in [0, 1] (e.g. 0.1)")
	return txCmd(cmd, func(clientCtx client.Context, cmd *cobra.Command, args []string) (sdk.Msg, error) {
		var commission sdkmath.LegacyDec
		if s, _ := cmd.Flags().GetString(flagCommission); s != "" {
			var err error
			if commission, err = sdkmath.LegacyNewDecFromStr(s); err != nil {
				return nil, fmt.Errorf("--%s %q: %w", flagCommission, s, err)
			}
		}
		return build(clientCtx.GetFromAddress().String(), args[0], commission), nil
	})
}

// RegisterOperatorCmd is `avsd tx avs register-operator MONIKER [--commission 0.1]`.
func RegisterOperatorCmd() *cobra.Command {
	return operatorCmd("register-operator",
		"Register the signer as an operator (--commission: share of fee rewards it keeps, default 0)",
		func(op, moniker string, c sdkmath.LegacyDec) sdk.Msg {
			return &types.MsgRegisterOperator{Operator: op, Moniker: moniker, Commission: c}
		})
}

// UpdateOperatorCmd is `avsd tx avs update-operator MONIKER [--commission 0.1]`.
func UpdateOperatorCmd() *cobra.Command {
	return operatorCmd("update-operator",
		"Change the signer's operator moniker (and --commission, if given)",
		func(op, moniker string, c sdkmath.LegacyDec) sdk.Msg {
			return &types.MsgUpdateOperator{Operator: op, Moniker: moniker, Commission: c}
		})
}

// CommitCmd is `avsd tx avs commit OPERATOR SERVICE_ID AMOUNT`.
func CommitCmd() *cobra.Command {
	return coinCmd("commit [operator] [service-id] [amount]",
		"Commit stake (e.g. 1000000uavs) to an operator for a service", 3,
		func(signer string, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[1])
			return &types.MsgCommit{Committer: signer, Operator: args[0], ServiceId: id, Amount: amt}, err
		})
}

// UncommitCmd is `avsd tx avs uncommit OPERATOR SERVICE_ID AMOUNT`.
func UncommitCmd() *cobra.Command {
	return coinCmd("uncommit [operator] [service-id] [amount]",
		"Start unbonding committed stake; it is released after the unbonding time", 3,
		func(signer string, args []string, amt sdk.Coin) (sdk.Msg, error) {
			id, err := parseServiceID(args[1])
			return &types.MsgUncommit{Committer: signer, Operator: args[0], ServiceId: id, Amount: amt}, err
		})
}
