package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/avschain/avschain/x/avs/types"
)

// randomStake is a random amount of at most a tenth of what addr can spend in
// the stake denom (the rest pays fees), and at most maxStakePerMsg; ok is
// false when addr has too little.
func randomStake(r *rand.Rand, ctx sdk.Context, c chain, addr sdk.AccAddress, denom string) (sdk.Coin, bool, error) {
	balance, err := c.spendable(ctx, addr, denom)
	if err != nil {
		return sdk.Coin{}, false, err
	}
	limit := balance.Amount.QuoRaw(10)
	if limit.GT(sdkmath.NewInt(maxStakePerMsg)) {
		limit = sdkmath.NewInt(maxStakePerMsg)
	}
	if !limit.IsPositive() {
		return sdk.Coin{}, false, nil
	}
	amt, err := simtypes.RandPositiveInt(r, limit)
	if err != nil {
		return sdk.Coin{}, false, err
	}
	return sdk.NewCoin(denom, amt), true, nil
}

// SimulateMsgCommit commits a random amount of a random account's stake to a
// random operator in a random service.
func SimulateMsgCommit(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgCommit{}
		c := newChain(app, ctx)
		params, err := c.params(ctx)
		if err != nil {
			return failed(msg, err)
		}
		ops, err := c.operators(ctx)
		if err != nil {
			return failed(msg, err)
		}
		svcs, err := c.services(ctx)
		if err != nil {
			return failed(msg, err)
		}
		if len(ops) == 0 || len(svcs) == 0 {
			return noOp(msg, "no operator or no service yet")
		}
		from, _ := simtypes.RandomAcc(r, accs)
		amt, ok, err := randomStake(r, ctx, c, from.Address, params.StakeDenom)
		if err != nil {
			return failed(msg, err)
		}
		if !ok {
			return noOp(msg, "committer has too little stake")
		}
		msg.Committer = from.Address.String()
		msg.Operator = ops[r.Intn(len(ops))].Address
		msg.ServiceId = svcs[r.Intn(len(svcs))].Id
		msg.Amount = amt
		return deliver(r, app, ctx, txConfig, from, msg, sdk.NewCoins(amt))
	}
}

// SimulateMsgUncommit starts unbonding a random part of a random commitment
// in a random service, signed by its committer.
func SimulateMsgUncommit(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgUncommit{}
		c := newChain(app, ctx)
		params, err := c.params(ctx)
		if err != nil {
			return failed(msg, err)
		}
		svcs, err := c.services(ctx)
		if err != nil {
			return failed(msg, err)
		}
		if len(svcs) == 0 {
			return noOp(msg, "no service yet")
		}
		list, err := c.serviceCommitments(ctx, svcs[r.Intn(len(svcs))].Id)
		if err != nil {
			return failed(msg, err)
		}
		var held []types.Commitment
		for _, cm := range list {
			if cm.Shares.IsPositive() {
				held = append(held, cm)
			}
		}
		if len(held) == 0 {
			return noOp(msg, "no stake committed in the service")
		}
		cm := held[r.Intn(len(held))]
		from, found := simtypes.FindAccount(accs, sdk.MustAccAddressFromBech32(cm.Committer))
		if !found {
			return noOp(msg, "committer is not a simulation account")
		}
		// what the shares are worth, after slashes: the committer's view
		views, err := c.avs.Commitments(ctx, &types.QueryCommitmentsRequest{Committer: cm.Committer})
		if err != nil {
			return failed(msg, err)
		}
		value := sdkmath.ZeroInt()
		for _, v := range views.Commitments {
			if v.Commitment.Operator == cm.Operator && v.Commitment.ServiceId == cm.ServiceId {
				value = v.Value.Amount
			}
		}
		if !value.IsPositive() {
			return noOp(msg, "the commitment was slashed to nothing")
		}
		amt, err := simtypes.RandPositiveInt(r, value)
		if err != nil {
			return failed(msg, err)
		}
		msg.Committer, msg.Operator, msg.ServiceId = cm.Committer, cm.Operator, cm.ServiceId
		msg.Amount = sdk.NewCoin(params.StakeDenom, amt)
		return deliver(r, app, ctx, txConfig, from, msg, nil)
	}
}

// SimulateMsgFundService adds a random amount to a random service's treasury.
func SimulateMsgFundService(txConfig client.TxConfig) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		msg := &types.MsgFundService{}
		c := newChain(app, ctx)
		params, err := c.params(ctx)
		if err != nil {
			return failed(msg, err)
		}
		svcs, err := c.services(ctx)
		if err != nil {
			return failed(msg, err)
		}
		if len(svcs) == 0 {
			return noOp(msg, "no service yet")
		}
		from, _ := simtypes.RandomAcc(r, accs)
		amt, ok, err := randomStake(r, ctx, c, from.Address, params.StakeDenom)
		if err != nil {
			return failed(msg, err)
		}
		if !ok {
			return noOp(msg, "funder has too little stake")
		}
		msg.Funder, msg.ServiceId, msg.Amount = from.Address.String(), svcs[r.Intn(len(svcs))].Id, amt
		return deliver(r, app, ctx, txConfig, from, msg, sdk.NewCoins(amt))
	}
}
