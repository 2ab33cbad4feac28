// Package apptest boots the real avschain app in process for integration tests:
// a one-validator genesis, a funded account, and helpers to run blocks.
package apptest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/testutil/mock"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/avschain/avschain/app"
)

// ChainID is the chain id of apps built here.
const ChainID = "avs-test-1"

// Chain is a running in-process app with its validator set and a funded account.
type Chain struct {
	App     *app.App
	DB      dbm.DB
	ValSet  *cmttypes.ValidatorSet
	Account sdk.AccAddress
	Time    time.Time
}

// NewApp builds an app on db with a fresh home under the test's temp dir.
func NewApp(t testing.TB, db dbm.DB) *app.App {
	t.Helper()
	return app.New(log.NewNopLogger(), db, nil, true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()), nil, baseapp.SetChainID(ChainID))
}

// Setup boots an app from a one-validator genesis, lets modify change the
// genesis state, and commits the first block.
func Setup(t testing.TB, modify func(cdc codec.Codec, gs app.GenesisState)) *Chain {
	t.Helper()
	app.SetAddressPrefixes() // before any address is printed
	pubKey, err := mock.NewPV().GetPubKey()
	require.NoError(t, err)
	valSet := cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(pubKey, 1)})

	priv := secp256k1.GenPrivKey()
	acc := authtypes.NewBaseAccount(priv.PubKey().Address().Bytes(), priv.PubKey(), 0, 0)
	balance := banktypes.Balance{
		Address: acc.GetAddress().String(),
		Coins:   sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(100_000_000_000_000))),
	}

	db := dbm.NewMemDB()
	a := NewApp(t, db)
	gs, err := genesisWithValSet(a.AppCodec(), a.DefaultGenesis(), valSet, acc, balance)
	require.NoError(t, err)
	if modify != nil {
		modify(a.AppCodec(), gs)
	}
	stateBytes, err := json.Marshal(gs)
	require.NoError(t, err)

	c := &Chain{App: a, DB: db, ValSet: valSet, Account: acc.GetAddress(), Time: time.Now().UTC().Truncate(time.Second)}
	_, err = a.InitChain(&abci.RequestInitChain{
		ChainId:         ChainID,
		Time:            c.Time,
		ConsensusParams: simtestutil.DefaultConsensusParams,
		InitialHeight:   1,
		AppStateBytes:   stateBytes,
	})
	require.NoError(t, err)
	c.NextBlock(t)
	return c
}

// NextBlock finalizes and commits one empty block, one second after the last.
func (c *Chain) NextBlock(t testing.TB) *abci.ResponseFinalizeBlock {
	t.Helper()
	c.Time = c.Time.Add(time.Second)
	res, err := c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:             c.App.LastBlockHeight() + 1,
		Time:               c.Time,
		NextValidatorsHash: c.ValSet.Hash(),
	})
	require.NoError(t, err)
	_, err = c.App.Commit()
	require.NoError(t, err)
	return res
}

// Context returns a context that writes straight to the app's working state;
// what it writes is committed with the next block.
func (c *Chain) Context() sdk.Context {
	return c.App.NewUncachedContext(false, cmtproto.Header{
		ChainID: ChainID,
		Height:  c.App.LastBlockHeight() + 1,
		Time:    c.Time,
	})
}

// genesisWithValSet puts the validator set, the account and its balance, and
// the bonded pool into the genesis state (after wasmd's test helpers).
func genesisWithValSet(cdc codec.Codec, gs app.GenesisState, valSet *cmttypes.ValidatorSet, acc authtypes.GenesisAccount, balances ...banktypes.Balance) (app.GenesisState, error) {
	gs[authtypes.ModuleName] = cdc.MustMarshalJSON(authtypes.NewGenesisState(authtypes.DefaultParams(), []authtypes.GenesisAccount{acc}))

	bondAmt := sdk.DefaultPowerReduction
	validators := make([]stakingtypes.Validator, 0, len(valSet.Validators))
	delegations := make([]stakingtypes.Delegation, 0, len(valSet.Validators))
	signingInfos := make([]slashingtypes.SigningInfo, 0, len(valSet.Validators))
	for _, val := range valSet.Validators {
		pk, err := cryptocodec.FromCmtPubKeyInterface(val.PubKey)
		if err != nil {
			return nil, fmt.Errorf("convert pubkey: %w", err)
		}
		pkAny, err := codectypes.NewAnyWithValue(pk)
		if err != nil {
			return nil, err
		}
		valAddr := sdk.ValAddress(val.Address).String()
		validators = append(validators, stakingtypes.Validator{
			OperatorAddress:   valAddr,
			ConsensusPubkey:   pkAny,
			Status:            stakingtypes.Bonded,
			Tokens:            bondAmt,
			DelegatorShares:   sdkmath.LegacyOneDec(),
			UnbondingTime:     time.Unix(0, 0).UTC(),
			Commission:        stakingtypes.NewCommission(sdkmath.LegacyZeroDec(), sdkmath.LegacyZeroDec(), sdkmath.LegacyZeroDec()),
			MinSelfDelegation: sdkmath.ZeroInt(),
		})
		delegations = append(delegations, stakingtypes.NewDelegation(acc.GetAddress().String(), valAddr, sdkmath.LegacyOneDec()))
		signingInfos = append(signingInfos, slashingtypes.SigningInfo{Address: sdk.ConsAddress(val.Address).String()})
	}
	gs[stakingtypes.ModuleName] = cdc.MustMarshalJSON(stakingtypes.NewGenesisState(stakingtypes.DefaultParams(), validators, delegations))
	gs[slashingtypes.ModuleName] = cdc.MustMarshalJSON(slashingtypes.NewGenesisState(slashingtypes.DefaultParams(), signingInfos, nil))

	balances = append(balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(stakingtypes.BondedPoolName).String(),
		Coins:   sdk.NewCoins(sdk.NewCoin(app.BondDenom, bondAmt.MulRaw(int64(len(valSet.Validators))))),
	})
	supply := sdk.NewCoins()
	for _, b := range balances {
		supply = supply.Add(b.Coins...)
	}
	gs[banktypes.ModuleName] = cdc.MustMarshalJSON(banktypes.NewGenesisState(banktypes.DefaultGenesisState().Params, balances, supply, nil, nil))
	return gs, nil
}
