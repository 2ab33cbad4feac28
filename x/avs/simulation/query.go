package simulation

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/baseapp"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/avschain/avschain/x/avs/types"
)

// chain reads state the way a client does, through the app's gRPC query
// router at the operation's context: x/avs's queries for the module's state,
// auth's and bank's for the signer's account and balance. The module holds no
// account or bank keeper, and the operations need none of the keeper's insides.
type chain struct {
	avs  types.QueryClient
	auth authtypes.QueryClient
	bank banktypes.QueryClient
}

var (
	_ simulation.AccountKeeper = chain{}
	_ simulation.BankKeeper    = chain{}
)

func newChain(app *baseapp.BaseApp, ctx sdk.Context) chain {
	conn := &baseapp.QueryServiceTestHelper{GRPCQueryRouter: app.GRPCQueryRouter(), Ctx: ctx}
	return chain{avs: types.NewQueryClient(conn), auth: authtypes.NewQueryClient(conn), bank: banktypes.NewQueryClient(conn)}
}

// GetAccount implements simulation.AccountKeeper. Every simulation account
// exists from genesis on, so a failed lookup is a broken simulation.
func (c chain) GetAccount(ctx context.Context, addr sdk.AccAddress) sdk.AccountI {
	res, err := c.auth.AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: addr.String()})
	if err != nil {
		panic(fmt.Sprintf("x/avs simulation: account %s: %s", addr, err))
	}
	return res.Info
}

// SpendableCoins implements simulation.BankKeeper.
func (c chain) SpendableCoins(ctx context.Context, addr sdk.AccAddress) sdk.Coins {
	res, err := c.bank.SpendableBalances(ctx, &banktypes.QuerySpendableBalancesRequest{Address: addr.String()})
	if err != nil {
		panic(fmt.Sprintf("x/avs simulation: balances of %s: %s", addr, err))
	}
	return res.Balances
}

// spendable is what addr can spend in denom.
func (c chain) spendable(ctx context.Context, addr sdk.AccAddress, denom string) (sdk.Coin, error) {
	res, err := c.bank.SpendableBalanceByDenom(ctx, &banktypes.QuerySpendableBalanceByDenomRequest{Address: addr.String(), Denom: denom})
	if err != nil {
		return sdk.Coin{}, err
	}
	return *res.Balance, nil
}

func (c chain) params(ctx context.Context) (types.Params, error) {
	res, err := c.avs.Params(ctx, &types.QueryParamsRequest{})
	if err != nil {
		return types.Params{}, err
	}
	return res.Params, nil
}

// services and operators list every page.
func (c chain) services(ctx context.Context) ([]types.Service, error) {
	var out []types.Service
	err := types.EachPage(ctx, 0, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.avs.Services(ctx, &types.QueryServicesRequest{Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Services...)
		return res.Pagination, nil
	})
	return out, err
}

func (c chain) operators(ctx context.Context) ([]types.Operator, error) {
	var out []types.Operator
	err := types.EachPage(ctx, 0, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.avs.Operators(ctx, &types.QueryOperatorsRequest{Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Operators...)
		return res.Pagination, nil
	})
	return out, err
}

// operatorServices lists every service an operator is opted in to.
func (c chain) operatorServices(ctx context.Context, operator string) ([]uint64, error) {
	var out []uint64
	err := types.EachPage(ctx, 0, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.avs.Operator(ctx, &types.QueryOperatorRequest{Address: operator, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.ServiceIds...)
		return res.Pagination, nil
	})
	return out, err
}

// servicePower returns a service's power table now, every page, and the
// current epoch's snapshot.
func (c chain) servicePower(ctx context.Context, serviceID uint64) ([]types.OperatorPower, types.PowerSnapshot, error) {
	var (
		out  []types.OperatorPower
		snap types.PowerSnapshot
	)
	err := types.EachPage(ctx, 0, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.avs.ServicePower(ctx, &types.QueryServicePowerRequest{ServiceId: serviceID, Pagination: page})
		if err != nil {
			return nil, err
		}
		out, snap = append(out, res.Current...), res.Snapshot
		return res.Pagination, nil
	})
	return out, snap, err
}

// serviceCommitments lists every commitment in a service.
func (c chain) serviceCommitments(ctx context.Context, serviceID uint64) ([]types.Commitment, error) {
	var out []types.Commitment
	err := types.EachPage(ctx, 0, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.avs.ServiceCommitments(ctx, &types.QueryServiceCommitmentsRequest{ServiceId: serviceID, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Commitments...)
		return res.Pagination, nil
	})
	return out, err
}
