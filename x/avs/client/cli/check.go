package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/avschain/avschain/x/avs/types"
)

// The checks a hand-written tx command makes before it signs anything: what
// the chain would refuse that the client can see (issue #19). They use the
// chain's own code (ServiceManifest.Validate) and its params, queried from
// the node; offline or with --generate-only, the default params.

const flagForce = "force"

// chainParams returns x/avs's params from the node, or the defaults when the
// command does not talk to one.
func chainParams(cmd *cobra.Command, clientCtx client.Context) (types.Params, error) {
	if clientCtx.Offline || clientCtx.GenerateOnly {
		return types.DefaultParams(), nil
	}
	res, err := types.NewQueryClient(clientCtx).Params(cmd.Context(), &types.QueryParamsRequest{})
	if err != nil {
		return types.Params{}, fmt.Errorf("read x/avs params from %s: %w (is the node running? --node sets its address)",
			clientCtx.NodeURI, err)
	}
	return res.Params, nil
}

// parseAmount reads a coin argument, saying the accepted form when it is
// not one.
func parseAmount(what, s string) (sdk.Coin, error) {
	c, err := sdk.ParseCoinNormalized(s)
	if err != nil {
		return sdk.Coin{}, fmt.Errorf("%s %q is not an amount: give a whole number with its denom, e.g. 1000000uavs", what, s)
	}
	return c, nil
}

// checkDenom refuses a coin not in the stake denom, the only one x/avs takes.
func checkDenom(what string, c sdk.Coin, p types.Params) error {
	if c.Denom != p.StakeDenom {
		return fmt.Errorf("%s %s: x/avs takes only %s, e.g. 1000%s", what, c, p.StakeDenom, p.StakeDenom)
	}
	if !c.IsPositive() {
		return fmt.Errorf("%s %s: must be more than zero", what, c)
	}
	return nil
}

// parseCommission reads --commission: a decimal in [0, 1].
func parseCommission(s string) (sdkmath.LegacyDec, error) {
	hint := "a share in [0, 1], e.g. --commission 0.1 for 10%"
	if strings.HasSuffix(s, "%") {
		return sdkmath.LegacyDec{}, fmt.Errorf("--%s %q: give %s", flagCommission, s, hint)
	}
	c, err := sdkmath.LegacyNewDecFromStr(s)
	if err != nil || c.IsNegative() || c.GT(sdkmath.LegacyOneDec()) {
		return sdkmath.LegacyDec{}, fmt.Errorf("--%s %q: give %s", flagCommission, s, hint)
	}
	return c, nil
}

// resolveAddress returns s as an account address: a bech32 address as it
// is, or the address of the key of that name in the keyring.
func resolveAddress(clientCtx client.Context, what, s string) (string, error) {
	if _, err := sdk.AccAddressFromBech32(s); err == nil {
		return s, nil
	}
	if clientCtx.Keyring != nil {
		if rec, err := clientCtx.Keyring.Key(s); err == nil {
			addr, err := rec.GetAddress()
			if err == nil {
				return addr.String(), nil
			}
		}
	}
	return "", fmt.Errorf("%s %q is neither an address (%s1…) nor a key in the keyring (`avsd keys list` shows them)",
		what, s, sdk.GetConfig().GetBech32AccountAddrPrefix())
}

// maxOptInPages bounds the pages of an operator's services read to find one.
const maxOptInPages = 100

// checkOptedIn refuses a commitment to an operator that is not registered or
// not opted in to the service: such stake earns nothing. --force sends it
// anyway, with a warning.
func checkOptedIn(cmd *cobra.Command, clientCtx client.Context, operator string, serviceID uint64) error {
	if clientCtx.Offline || clientCtx.GenerateOnly {
		return nil
	}
	force, _ := cmd.Flags().GetBool(flagForce)
	qc := types.NewQueryClient(clientCtx)
	page := &query.PageRequest{Limit: types.MaxPageLimit}
	for range maxOptInPages {
		res, err := qc.Operator(cmd.Context(), &types.QueryOperatorRequest{Address: operator, Pagination: page})
		if err != nil {
			return fmt.Errorf("operator %s: %w (`avsd q avs operators` lists the registered ones)", operator, err)
		}
		for _, id := range res.ServiceIds {
			if id == serviceID {
				return nil
			}
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			break
		}
		page = &query.PageRequest{Key: res.Pagination.NextKey, Limit: types.MaxPageLimit}
	}
	msg := fmt.Sprintf("operator %s is not opted in to service %d: stake committed to it there earns nothing "+
		"until it opts in, and can be slashed once it does; `avsd q avs service-operators %d` lists the operators "+
		"that are", operator, serviceID, serviceID)
	if !force {
		return fmt.Errorf("%s (--%s commits anyway)", msg, flagForce)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+msg)
	return nil
}

// checkChannel refuses a malformed channel id before the chain does.
func checkChannel(channel string) error {
	if err := host.ChannelIdentifierValidator(channel); err != nil {
		return fmt.Errorf("channel %q: want a channel id such as channel-0 (`avsd q ibc channel channels` lists them)", channel)
	}
	return nil
}
