package cli

import (
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
			if commission, err = parseCommission(s); err != nil {
				return nil, err
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
	cmd := coinCmd("commit [operator] [service-id] [amount]",
		"Commit stake (e.g. 1000000uavs) to an operator for a service", 3,
		func(clientCtx client.Context, cmd *cobra.Command, args []string, amt sdk.Coin) (sdk.Msg, error) {
			op, id, err := commitmentArgs(clientCtx, args)
			if err != nil {
				return nil, err
			}
			if err := checkOptedIn(cmd, clientCtx, op, id); err != nil {
				return nil, err
			}
			return &types.MsgCommit{Committer: clientCtx.GetFromAddress().String(), Operator: op, ServiceId: id, Amount: amt}, nil
		})
	cmd.Long = `Commit stake to an operator for a service. The stake is escrowed in the x/avs
module (not a staking delegation); it earns a share of the fees the operator is
paid in that service and can be slashed for the operator's faults there.
OPERATOR is an address or a key name. The operator must be opted in to the
service (--force commits anyway); docs/COMMITTERS.md explains the choice.`
	cmd.Flags().Bool(flagForce, false, "commit even if the operator is not opted in to the service")
	return cmd
}

// UncommitCmd is `avsd tx avs uncommit OPERATOR SERVICE_ID AMOUNT`.
func UncommitCmd() *cobra.Command {
	return coinCmd("uncommit [operator] [service-id] [amount]",
		"Start unbonding committed stake; it is released after the unbonding time", 3,
		func(clientCtx client.Context, _ *cobra.Command, args []string, amt sdk.Coin) (sdk.Msg, error) {
			op, id, err := commitmentArgs(clientCtx, args)
			if err != nil {
				return nil, err
			}
			return &types.MsgUncommit{Committer: clientCtx.GetFromAddress().String(), Operator: op, ServiceId: id, Amount: amt}, nil
		})
}

// commitmentArgs reads OPERATOR (an address or a key name) and SERVICE_ID.
func commitmentArgs(clientCtx client.Context, args []string) (string, uint64, error) {
	op, err := resolveAddress(clientCtx, "operator", args[0])
	if err != nil {
		return "", 0, err
	}
	id, err := parseServiceID(args[1])
	return op, id, err
}

// serviceCmd builds a command whose one argument is a service id and whose
// message is signed by the sender alone (opt-in, opt-out, unjail). They are
// hand-written, not autocli's, so that they too simulate, wait for
// inclusion and print what happened: a guide runs them back to back.
func serviceCmd(use, short string, build func(signer string, serviceID uint64) sdk.Msg) *cobra.Command {
	cmd := &cobra.Command{Use: use + " [service-id]", Short: short, Args: cobra.ExactArgs(1)}
	return txCmd(cmd, func(clientCtx client.Context, _ *cobra.Command, args []string) (sdk.Msg, error) {
		id, err := parseServiceID(args[0])
		if err != nil {
			return nil, err
		}
		return build(clientCtx.GetFromAddress().String(), id), nil
	})
}

// OptInCmd is `avsd tx avs opt-in SERVICE_ID`.
func OptInCmd() *cobra.Command {
	return serviceCmd("opt-in", "Opt the signer in to a service (counts from its next power snapshot)",
		func(op string, id uint64) sdk.Msg { return &types.MsgOptIn{Operator: op, ServiceId: id} })
}

// OptOutCmd is `avsd tx avs opt-out SERVICE_ID`.
func OptOutCmd() *cobra.Command {
	return serviceCmd("opt-out", "Opt the signer out of a service",
		func(op string, id uint64) sdk.Msg { return &types.MsgOptOut{Operator: op, ServiceId: id} })
}

// UnjailCmd is `avsd tx avs unjail SERVICE_ID`.
func UnjailCmd() *cobra.Command {
	return serviceCmd("unjail", "Unjail the signing operator in a service after its cooldown",
		func(op string, id uint64) sdk.Msg { return &types.MsgUnjail{Operator: op, ServiceId: id} })
}

// WithdrawRewardsCmd is `avsd tx avs withdraw-rewards`.
func WithdrawRewardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "withdraw-rewards",
		Short: "Withdraw every reward the signer's commitments earned and, for an operator, what it earned itself",
		Args:  cobra.NoArgs,
	}
	return txCmd(cmd, func(clientCtx client.Context, _ *cobra.Command, _ []string) (sdk.Msg, error) {
		return &types.MsgWithdrawRewards{Committer: clientCtx.GetFromAddress().String()}, nil
	})
}
