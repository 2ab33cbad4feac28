package keeper_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/types/query"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs"
	"github.com/avschain/avschain/x/avs/keeper"
	"github.com/avschain/avschain/x/avs/types"
	"github.com/avschain/avschain/x/avs/wasmbin"
)

// denom is the fee denom of every test service.
const denom = "uavs"

// defaultFee is what defaultManifest asks per task.
const defaultFee = 100

// creatorFunds is what the creator account starts with in setupTask and friends.
const creatorFunds = 1_000_000

var bech32 = addresscodec.NewBech32Codec("avs")

// accOf returns a deterministic n-byte account address built from name.
func accOf(name string, n int) sdk.AccAddress {
	if len(name) > n {
		panic("name too long: " + name)
	}
	return sdk.AccAddress(name + strings.Repeat("_", n-len(name)))
}

// acc returns the 20-byte account address named name.
func acc(name string) sdk.AccAddress { return accOf(name, 20) }

// addrOf renders bytes as an "avs" bech32 address.
func addrOf(bz []byte) string {
	s, err := bech32.BytesToString(bz)
	if err != nil {
		panic(err)
	}
	return s
}

// addr returns the "avs" bech32 string of the 20-byte account named name.
func addr(name string) string { return addrOf(acc(name)) }

// contractAddr returns the "avs" bech32 string of a 32-byte address, as a
// wasm contract has.
func contractAddr(name string) string { return addrOf(accOf(name, 32)) }

// accFromString decodes an "avs" bech32 address.
func accFromString(a string) sdk.AccAddress {
	bz, err := bech32.StringToBytes(a)
	if err != nil {
		panic(err)
	}
	return bz
}

func dec(s string) sdkmath.LegacyDec { return sdkmath.LegacyMustNewDecFromStr(s) }

// validWasm is the smallest valid component: a WASI command.
func validWasm() []byte { return avstest.Module(true, avstest.WASI) }

// paddedWasm is a valid component grown to about n extra bytes by a custom
// section of zeros: it gzips to almost nothing.
func paddedWasm(n int) []byte {
	return append(validWasm(), avstest.CustomSection("pad!", make([]byte, n))...)
}

func mustGzip(b []byte) []byte {
	z, err := wasmbin.Gzip(b)
	if err != nil {
		panic(err)
	}
	return z
}

// defaultManifest is a valid EXACT service asking defaultFee per task: EQUAL
// weighting among allow-listed operators (H-6; optIn lists them), a
// threshold just above one half (M-6).
func defaultManifest(digest string) types.ServiceManifest {
	return types.ServiceManifest{
		Name:            "price-feed",
		ComponentDigest: digest,
		Limits:          types.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 1024},
		Quorum:          types.Quorum{Threshold: dec("0.51"), Weighting: types.WEIGHTING_EQUAL},
		Aggregation:     types.Aggregation{Mode: types.AGGREGATION_MODE_EXACT},
		FeePerTask:      sdk.NewInt64Coin(denom, defaultFee),
		Admission:       types.ADMISSION_ALLOWLIST,
	}
}

// openManifest is defaultManifest with ADMISSION_OPEN: EQUAL weighting then
// needs a minimum self-commitment (H-6).
func openManifest(digest string) types.ServiceManifest {
	m := defaultManifest(digest)
	m.Admission = types.ADMISSION_OPEN
	m.MinSelfStake = sdkmath.NewInt(1000)
	return m
}

// medianManifest is a valid MEDIAN service.
func medianManifest(digest, threshold, spread string) types.ServiceManifest {
	m := defaultManifest(digest)
	m.Quorum.Threshold = dec(threshold)
	m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec(spread)}
	return m
}

// storeComponent stores the minimal valid component and returns its digest.
func (s *KeeperTestSuite) storeComponent() string {
	res, err := s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: validWasm()})
	s.Require().NoError(err)
	return res.Digest
}

// createService stores the component if needed and creates a service owned
// by "owner" from the manifest; an empty digest is filled in.
func (s *KeeperTestSuite) createService(m types.ServiceManifest) uint64 {
	if m.ComponentDigest == "" {
		m.ComponentDigest = s.storeComponent()
	}
	res, err := s.msgServer.CreateService(s.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().NoError(err)
	return res.ServiceId
}

// registerOperator registers name as an operator and returns its address.
func (s *KeeperTestSuite) registerOperator(name string) string {
	a := addr(name)
	_, err := s.msgServer.RegisterOperator(s.ctx, &types.MsgRegisterOperator{Operator: a, Moniker: name})
	s.Require().NoError(err)
	return a
}

// optIn opts an operator in to a service, first putting it on the
// service's allow-list if the service has one.
func (s *KeeperTestSuite) optIn(operator string, serviceID uint64) {
	s.allow(operator, serviceID)
	_, err := s.msgServer.OptIn(s.ctx, &types.MsgOptIn{Operator: operator, ServiceId: serviceID})
	s.Require().NoError(err)
}

// allow puts an operator on the allow-list of an ADMISSION_ALLOWLIST
// service, as its owner.
func (s *KeeperTestSuite) allow(operator string, serviceID uint64) {
	svc, err := s.keeper.Services.Get(s.ctx, serviceID)
	s.Require().NoError(err)
	if svc.Manifest.Admission != types.ADMISSION_ALLOWLIST {
		return
	}
	_, err = s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: svc.Owner, ServiceId: serviceID, Add: []string{operator}})
	s.Require().NoError(err)
}

// addOperators registers operators op1..opN and opts each in to the service,
// returning their addresses in that order.
func (s *KeeperTestSuite) addOperators(serviceID uint64, n int) []string {
	ops := make([]string, n)
	for i := range ops {
		ops[i] = s.registerOperator(fmt.Sprintf("op%d", i+1))
		s.optIn(ops[i], serviceID)
	}
	return ops
}

// setupService creates a service from the manifest with n operators opted in.
// The task creator is funded too.
func (s *KeeperTestSuite) setupService(m types.ServiceManifest, n int) (uint64, []string) {
	s.creator()
	id := s.createService(m)
	return id, s.addOperators(id, n)
}

// creator returns the funded task creator's address string.
func (s *KeeperTestSuite) creator() string {
	c := acc("creator")
	if s.bank.Balance(c, denom).IsZero() {
		s.bank.Fund(c, sdk.NewCoins(sdk.NewInt64Coin(denom, creatorFunds)))
	}
	return addrOf(c)
}

// createTask opens a task on the service paying its fee per task.
func (s *KeeperTestSuite) createTask(serviceID uint64) uint64 {
	svc, err := s.keeper.Services.Get(s.ctx, serviceID)
	s.Require().NoError(err)
	res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: serviceID, Input: []byte("input"), Fee: svc.Manifest.FeePerTask,
	})
	s.Require().NoError(err)
	return res.TaskId
}

// vote submits one result; the message itself must succeed, the outcome of
// the entry is returned.
//
// As on chain by the end of the vote's block, the fees of the tasks it
// decided are then paid (PayDecided); TestFeesPaidAtEndOfBlock checks the
// state between the two.
func (s *KeeperTestSuite) vote(operator string, taskID uint64, result string) types.ResultOutcome {
	res, err := s.msgServer.SubmitResults(s.ctx, &types.MsgSubmitResults{
		Operator: operator, Results: []types.TaskResult{{TaskId: taskID, Result: []byte(result)}},
	})
	s.Require().NoError(err)
	s.Require().Len(res.Outcomes, 1)
	s.payDecided()
	return res.Outcomes[0]
}

// payDecided pays the fees of the tasks decided so far, as EndBlock does.
func (s *KeeperTestSuite) payDecided() {
	params, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	s.Require().NoError(s.keeper.PayDecided(s.ctx, params))
}

// mustVote submits one result that must be accepted, returning the status
// the task is in after it.
func (s *KeeperTestSuite) mustVote(operator string, taskID uint64, result string) types.TaskStatus {
	o := s.vote(operator, taskID, result)
	s.Require().True(o.Accepted, "vote refused: %s", o.Error)
	return o.TaskStatus
}

// outcomeErr turns a refused entry back into its registered error, so that
// ErrorIs can check it; nil for an accepted entry.
func outcomeErr(o types.ResultOutcome) error {
	if o.Accepted {
		return nil
	}
	return errorsmod.ABCIError(o.Codespace, o.Code, o.Error)
}

func (s *KeeperTestSuite) task(id uint64) types.Task {
	t, err := s.keeper.Tasks.Get(s.ctx, id)
	s.Require().NoError(err)
	return t
}

func (s *KeeperTestSuite) operator(a string) types.Operator {
	op, err := s.keeper.Operators.Get(s.ctx, a)
	s.Require().NoError(err)
	return op
}

// requireGenesisRefused exports the module's state, spoils it and checks
// that genesis validation refuses it with ErrInvalidGenesis saying want.
func (s *KeeperTestSuite) requireGenesisRefused(spoil func(*types.GenesisState), want string) {
	gs, err := s.keeper.ExportGenesis(s.ctx)
	s.Require().NoError(err)
	spoil(gs)
	err = gs.Validate()
	s.Require().ErrorIs(err, types.ErrInvalidGenesis)
	s.Require().Contains(err.Error(), want)
}

// liveness is an operator's liveness in a service (zero when none).
func (s *KeeperTestSuite) liveness(serviceID uint64, op string) types.OperatorLiveness {
	l, err := s.keeper.Liveness.Get(s.ctx, collections.Join(serviceID, op))
	if errors.Is(err, collections.ErrNotFound) {
		return types.OperatorLiveness{}
	}
	s.Require().NoError(err)
	return l
}

func (s *KeeperTestSuite) setLiveness(serviceID uint64, op string, l types.OperatorLiveness) {
	s.Require().NoError(s.keeper.Liveness.Set(s.ctx, collections.Join(serviceID, op), l))
}

func (s *KeeperTestSuite) balance(a string) sdkmath.Int {
	return s.bank.Balance(accFromString(a), denom).Amount
}

// earned is what an operator has been paid: its bank balance and what x/avs
// holds claimable for it (OperatorRewards, paid on withdrawal).
func (s *KeeperTestSuite) earned(op string) sdkmath.Int {
	held, err := s.keeper.OperatorRewards.Get(s.ctx, op)
	if err != nil {
		s.Require().ErrorIs(err, collections.ErrNotFound)
		held = sdkmath.ZeroInt()
	}
	return s.balance(op).Add(held)
}

// heldForOperators is the sum of the operators' claimable rewards, which the
// module account holds until they withdraw.
func (s *KeeperTestSuite) heldForOperators() sdkmath.Int {
	sum := sdkmath.ZeroInt()
	s.Require().NoError(s.keeper.OperatorRewards.Walk(s.ctx, nil, func(_ string, v sdkmath.Int) (bool, error) {
		sum = sum.Add(v)
		return false, nil
	}))
	return sum
}

func (s *KeeperTestSuite) moduleBalance() sdkmath.Int {
	return s.bank.ModuleBalance(types.ModuleName, denom).Amount
}

// withEvents returns s.ctx with a fresh event manager, to read the events of
// one call.
func (s *KeeperTestSuite) withEvents() sdk.Context {
	return s.ctx.WithEventManager(sdk.NewEventManager())
}

// typedEvents returns the typed events of like's type emitted on ctx.
func (s *KeeperTestSuite) typedEvents(ctx sdk.Context, like proto.Message) []proto.Message {
	var out []proto.Message
	for _, e := range ctx.EventManager().Events() {
		if e.Type != proto.MessageName(like) {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(e))
		s.Require().NoError(err)
		out = append(out, msg)
	}
	return out
}

// moduleState is everything x/avs keeps, indexes and tallies included, and
// the fake bank's balances: what a refused message must leave as it was.
type moduleState struct {
	Genesis              *types.GenesisState
	Tallies              map[string]types.Tally
	TasksByDeadline      []collections.Pair[int64, uint64]
	TasksByService       []collections.Pair[uint64, uint64]
	TasksByServiceStatus []collections.Pair[collections.Pair[uint64, int32], uint64]
	OperatorServices     []collections.Pair[string, uint64]
	Balances             map[string]string
	// Store is every raw key and value of the module's store, keyed
	// "<collection name>/<key hex>" (the collection from the keeper's schema,
	// so a collection added later is covered without naming it here).
	Store map[string]string
}

func (s *KeeperTestSuite) state() moduleState {
	return stateOf(s, s.ctx, s.keeper, s.bank, s.storeKey)
}

// changedCollections names the collections with a raw entry added, removed
// or changed between two snapshots of the store.
func changedCollections(before, after map[string]string) []string {
	seen := map[string]bool{}
	note := func(k string) { seen[strings.SplitN(k, "/", 2)[0]] = true }
	for k, v := range before {
		if w, ok := after[k]; !ok || w != v {
			note(k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			note(k)
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func stateOf(s *KeeperTestSuite, ctx sdk.Context, k keeper.Keeper, bank *avstest.Bank, key *storetypes.KVStoreKey) moduleState {
	gs, err := k.ExportGenesis(ctx)
	s.Require().NoError(err)
	st := moduleState{Genesis: gs, Tallies: map[string]types.Tally{}, Balances: map[string]string{}}
	s.Require().NoError(k.Tallies.Walk(ctx, nil, func(key collections.Pair[uint64, string], t types.Tally) (bool, error) {
		st.Tallies[fmt.Sprintf("%d/%s", key.K1(), key.K2())] = t
		return false, nil
	}))
	st.TasksByDeadline = keys(s, ctx, k.TasksByDeadline)
	st.TasksByService = multiKeys(s, ctx, k.Tasks.Indexes.ByService)
	st.TasksByServiceStatus = multiKeys(s, ctx, k.Tasks.Indexes.ByServiceStatus)
	s.Require().NoError(k.OptIns.Indexes.ByOperator.Walk(ctx, nil, func(operator string, serviceID uint64) (bool, error) {
		st.OperatorServices = append(st.OperatorServices, collections.Join(operator, serviceID))
		return false, nil
	}))
	for a, c := range bank.Balances {
		st.Balances[a] = c.String()
	}
	st.Store, err = avstest.RawStore(ctx, k.Schema, key)
	s.Require().NoError(err)
	return st
}

func keys[K any](s *KeeperTestSuite, ctx context.Context, ks collections.KeySet[K]) []K {
	var out []K
	s.Require().NoError(ks.Walk(ctx, nil, func(k K) (bool, error) {
		out = append(out, k)
		return false, nil
	}))
	return out
}

// multiKeys returns every (reference, primary key) entry of an index.
func multiKeys[R, P, V any](s *KeeperTestSuite, ctx context.Context, m *indexes.Multi[R, P, V]) []collections.Pair[R, P] {
	var out []collections.Pair[R, P]
	s.Require().NoError(m.Walk(ctx, nil, func(ref R, pk P) (bool, error) {
		out = append(out, collections.Join(ref, pk))
		return false, nil
	}))
	return out
}

// has reports whether an index holds (ref, pk).
func has[R, P, V any](s *KeeperTestSuite, m *indexes.Multi[R, P, V], ref R, pk P) (bool, error) {
	for _, k := range multiKeys(s, s.ctx, m) {
		if reflect.DeepEqual(k, collections.Join(ref, pk)) {
			return true, nil
		}
	}
	return false, nil
}

// operatorIndexed reports whether the opt-ins' operator index holds
// (operator, service).
func (s *KeeperTestSuite) operatorIndexed(operator string, serviceID uint64) (bool, error) {
	found := false
	err := s.keeper.OptIns.Indexes.ByOperator.Walk(s.ctx, collections.NewPrefixedPairRange[string, uint64](operator),
		func(_ string, id uint64) (bool, error) {
			found = found || id == serviceID
			return found, nil
		})
	return found, err
}

// requireUnchanged checks that nothing in x/avs or the bank moved since before.
func (s *KeeperTestSuite) requireUnchanged(before moduleState) {
	s.Require().Equal(before, s.state(), "a refused message must not change state")
}

// fixedPower is a PowerSource giving each listed operator a set power in
// every service, whether opted in or not.
type fixedPower []types.OperatorPower

func (p fixedPower) OperatorPowers(context.Context, uint64) ([]types.OperatorPower, error) {
	return append([]types.OperatorPower(nil), p...), nil
}

// usePowerSource rewires the keeper to p (every copy of it, the servers'
// included, shares the setting).
func (s *KeeperTestSuite) usePowerSource(p keeper.PowerSource) {
	s.keeper.SetPowerSource(p)
}

// env is a second, independent keeper on its own store, built like SetupTest
// builds the suite's, but with no genesis imported yet.
type env struct {
	key       *storetypes.KVStoreKey
	ctx       sdk.Context
	bank      *avstest.Bank
	keeper    keeper.Keeper
	msgServer types.MsgServer
}

func (s *KeeperTestSuite) newEnv() env {
	key := storetypes.NewKVStoreKey(types.StoreKey)
	testCtx := testutil.DefaultContextWithDB(s.T(), key, storetypes.NewTransientStoreKey("transient_test"))
	encCfg := moduletestutil.MakeTestEncodingConfig(avs.AppModuleBasic{})
	authority, err := bech32.BytesToString(authtypes.NewModuleAddress("gov"))
	s.Require().NoError(err)
	bank := avstest.NewBank()
	k := keeper.NewKeeper(encCfg.Codec, runtime.NewKVStoreService(key), bech32, bank, authority)
	return env{key: key, ctx: testCtx.Ctx.WithBlockHeight(s.ctx.BlockHeight()), bank: bank, keeper: k, msgServer: keeper.NewMsgServerImpl(k)}
}

// Helpers for the commitment, reward, slashing, liveness and treasury tests.

// stakeStart is the block time the stake tests start from.
var stakeStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func stake(n int64) sdk.Coin { return sdk.NewInt64Coin(denom, n) }

// startClock pins the block time, so that unbonding and jail times are exact.
func (s *KeeperTestSuite) startClock() {
	s.ctx = s.ctx.WithBlockTime(stakeStart)
}

// fund credits n of the stake denom to the account named name and returns
// its address. Never name an account "burned": it is the fake bank's burn
// address.
func (s *KeeperTestSuite) fund(name string, n int64) string {
	s.Require().NotEqual("burned", name)
	s.bank.Fund(acc(name), sdk.NewCoins(stake(n)))
	return addr(name)
}

// commit commits n from committer to operator in the service; it must succeed.
func (s *KeeperTestSuite) commit(committer, operator string, serviceID uint64, n int64) {
	_, err := s.msgServer.Commit(s.ctx, &types.MsgCommit{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: stake(n)})
	s.Require().NoError(err)
}

// fundAndCommit funds the account named name with n and commits it all.
func (s *KeeperTestSuite) fundAndCommit(name, operator string, serviceID uint64, n int64) string {
	a := s.fund(name, n)
	s.commit(a, operator, serviceID, n)
	return a
}

// uncommit must succeed and returns its response.
func (s *KeeperTestSuite) uncommit(committer, operator string, serviceID uint64, n int64) *types.MsgUncommitResponse {
	res, err := s.msgServer.Uncommit(s.ctx, &types.MsgUncommit{Committer: committer, Operator: operator, ServiceId: serviceID, Amount: stake(n)})
	s.Require().NoError(err)
	return res
}

// commitment returns a commitment, and whether it exists.
func (s *KeeperTestSuite) commitment(operator string, serviceID uint64, committer string) (types.Commitment, bool) {
	c, err := s.keeper.CommitmentsByPool.Get(s.ctx, collections.Join3(operator, serviceID, committer))
	if err != nil {
		return types.Commitment{}, false
	}
	return c, true
}

// committed returns what a commitment is worth, zero when there is none.
func (s *KeeperTestSuite) committed(operator string, serviceID uint64, committer string) int64 {
	c, ok := s.commitment(operator, serviceID, committer)
	if !ok {
		return 0
	}
	v, err := s.keeper.CommitmentValue(s.ctx, c)
	s.Require().NoError(err)
	return v.Int64()
}

// unbondingValue returns what an unbonding entry would be paid now.
func (s *KeeperTestSuite) unbondingValue(id uint64) int64 {
	e, err := s.keeper.Unbonding.Get(s.ctx, id)
	s.Require().NoError(err)
	v, err := s.keeper.UnbondingValue(s.ctx, e)
	s.Require().NoError(err)
	return v.Int64()
}

// pool returns an (operator, service) pool, zero when there is none.
func (s *KeeperTestSuite) pool(operator string, serviceID uint64) types.Pool {
	p, err := s.keeper.Pools.Get(s.ctx, collections.Join(operator, serviceID))
	if err != nil {
		return types.Pool{Operator: operator, ServiceId: serviceID, Total: sdkmath.ZeroInt(), Shares: sdkmath.ZeroInt(),
			RewardIndex: sdkmath.LegacyZeroDec(), Outstanding: sdkmath.ZeroInt()}
	}
	return p
}

// pendingRewards is what the Rewards query says committer may withdraw,
// summed over every page.
func (s *KeeperTestSuite) pendingRewards(committer string) int64 {
	var (
		total int64
		key   []byte
	)
	for {
		res, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: committer, Pagination: &query.PageRequest{Key: key}})
		s.Require().NoError(err)
		total += res.Rewards.Amount.Int64()
		if key = res.Pagination.NextKey; len(key) == 0 {
			return total
		}
	}
}

// pendingJoins returns every PendingJoin (L-2).
func (s *KeeperTestSuite) pendingJoins() []types.PendingJoin {
	var out []types.PendingJoin
	s.Require().NoError(s.keeper.PendingJoins.Walk(s.ctx, nil, func(_ collections.Triple[string, uint64, uint64], j types.PendingJoin) (bool, error) {
		out = append(out, j)
		return false, nil
	}))
	return out
}

// withdraw withdraws a committer's rewards; it must succeed.
func (s *KeeperTestSuite) withdraw(committer string) int64 {
	res, err := s.msgServer.WithdrawRewards(s.ctx, &types.MsgWithdrawRewards{Committer: committer})
	s.Require().NoError(err)
	return res.Amount.Amount.Int64()
}

// setParams changes the module params in place.
func (s *KeeperTestSuite) setParams(change func(*types.Params)) {
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	change(&p)
	s.Require().NoError(p.Validate())
	s.Require().NoError(s.keeper.Params.Set(s.ctx, p))
}

func (s *KeeperTestSuite) params() types.Params {
	p, err := s.keeper.Params.Get(s.ctx)
	s.Require().NoError(err)
	return p
}

// registerWithCommission registers name as an operator keeping commission.
func (s *KeeperTestSuite) registerWithCommission(name, commission string) string {
	a := addr(name)
	_, err := s.msgServer.RegisterOperator(s.ctx, &types.MsgRegisterOperator{Operator: a, Moniker: name, Commission: dec(commission)})
	s.Require().NoError(err)
	return a
}

// stakeManifest is an EXACT STAKE-weighted service with task timeout 20.
func stakeManifest(threshold string) types.ServiceManifest {
	m := defaultManifest("")
	m.Quorum = types.Quorum{Threshold: dec(threshold), Weighting: types.WEIGHTING_STAKE}
	m.TaskTimeout = 20
	return m
}

// payTask opens a task on the service paying fee (at least its fee per task).
func (s *KeeperTestSuite) payTask(serviceID uint64, fee int64) uint64 {
	res, err := s.msgServer.CreateTask(s.ctx, &types.MsgCreateTask{
		Creator: s.creator(), ServiceId: serviceID, Input: []byte("input"), Fee: stake(fee),
	})
	s.Require().NoError(err)
	return res.TaskId
}

// nextEpoch moves to the first height of the next epoch.
func (s *KeeperTestSuite) nextEpoch() {
	l := int64(s.params().EpochLength)
	s.ctx = s.ctx.WithBlockHeight((s.ctx.BlockHeight()/l + 1) * l)
}

// endBlockAt moves to height h (one second per block) and runs EndBlocker.
func (s *KeeperTestSuite) endBlockAt(h int64) {
	s.Require().GreaterOrEqual(h, s.ctx.BlockHeight())
	d := time.Duration(h-s.ctx.BlockHeight()) * time.Second
	s.ctx = s.ctx.WithBlockHeight(h).WithBlockTime(s.ctx.BlockTime().Add(d))
	s.Require().NoError(s.keeper.EndBlocker(s.ctx))
}

// requireBalanced checks the module account invariant and the share
// accounting's.
func (s *KeeperTestSuite) requireBalanced() {
	s.Require().NoError(s.keeper.CheckModuleBalance(s.ctx))
	s.Require().NoError(s.keeper.CheckShares(s.ctx))
}

// stakeState is state() plus the stake indexes it leaves out.
type stakeState struct {
	moduleState
	ByCommitter          []collections.Triple[string, string, uint64]
	ByService            []collections.Pair[uint64, collections.Triple[string, uint64, string]]
	UnbondingByTime      []collections.Pair[int64, uint64]
	UnbondingByPool      []collections.Pair[collections.Pair[string, uint64], uint64]
	UnbondingByCommitter []collections.Pair[string, uint64]
}

func (s *KeeperTestSuite) stakeState() stakeState {
	return stakeState{
		moduleState:          s.state(),
		ByCommitter:          keys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByCommitter.Keys),
		ByService:            multiKeys(s, s.ctx, s.keeper.CommitmentsByPool.Indexes.ByService),
		UnbondingByTime:      multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime),
		UnbondingByPool:      multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByPool),
		UnbondingByCommitter: multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByCommitter),
	}
}

// requireStakeUnchanged is requireUnchanged with the stake indexes too.
func (s *KeeperTestSuite) requireStakeUnchanged(before stakeState) {
	s.requireUnchanged(before.moduleState)
	s.Require().Equal(before, s.stakeState(), "a refused message must not change state")
}

// slashedEvents returns the EventOperatorSlashed events emitted on ctx.
func (s *KeeperTestSuite) slashedEvents(ctx sdk.Context) []*types.EventOperatorSlashed {
	var out []*types.EventOperatorSlashed
	for _, e := range s.typedEvents(ctx, &types.EventOperatorSlashed{}) {
		out = append(out, e.(*types.EventOperatorSlashed))
	}
	return out
}

// Helpers for the pruning tests (L-9).

// schedulePrune queues the settled tasks for pruning, as settlement does.
func (s *KeeperTestSuite) schedulePrune(ids ...uint64) {
	for _, id := range ids {
		t := s.task(id)
		s.Require().True(t.Settled, "task %d is not settled", id)
		s.Require().NoError(s.keeper.SchedulePrune(s.ctx, s.params(), t))
	}
}

// pruneAt moves to height h and runs PruneTasks alone (not EndBlocker), and
// returns the ids of the tasks it pruned, in the order of its events.
func (s *KeeperTestSuite) pruneAt(h int64) []uint64 {
	s.Require().GreaterOrEqual(h, s.ctx.BlockHeight())
	s.ctx = s.ctx.WithBlockHeight(h)
	ctx := s.withEvents()
	s.Require().NoError(s.keeper.PruneTasks(ctx, s.params()))
	var ids []uint64
	for _, e := range s.typedEvents(ctx, &types.EventTaskPruned{}) {
		ev := e.(*types.EventTaskPruned)
		s.Require().Equal(h, ev.Height)
		ids = append(ids, ev.TaskId)
	}
	return ids
}

// taskQueryErr returns the Task query's error for id, which must be gRPC
// NotFound.
func (s *KeeperTestSuite) taskQueryErr(id uint64) string {
	_, err := s.queryServer.Task(s.ctx, &types.QueryTaskRequest{TaskId: id})
	s.Require().Error(err)
	st, ok := status.FromError(err)
	s.Require().True(ok, "not a gRPC status: %v", err)
	s.Require().Equal(codes.NotFound, st.Code(), st.Message())
	return st.Message()
}
