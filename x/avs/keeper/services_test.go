package keeper_test

import (
	"fmt"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/testutil/avstest"
	"github.com/avschain/avschain/x/avs/types"
)

// roundTrip returns the manifest as the store gives it back (a nil decimal
// reads back as zero).
func (s *KeeperTestSuite) roundTrip(m types.ServiceManifest) types.ServiceManifest {
	bz, err := m.Marshal()
	s.Require().NoError(err)
	var out types.ServiceManifest
	s.Require().NoError(out.Unmarshal(bz))
	return out
}

func (s *KeeperTestSuite) TestCreateService() {
	var digest string
	maxResult := types.DefaultParams().MaxResultSize
	maxTimeout := types.DefaultParams().MaxTaskTimeout

	testCases := []struct {
		name     string
		malleate func(msg *types.MsgCreateService)
		expErr   *errorsmod.Error
		errText  string
	}{
		{name: "success: default manifest", malleate: func(*types.MsgCreateService) {}},
		{
			name: "success: MEDIAN, allow-list admission, contract handler, config, free, longest timeout",
			malleate: func(msg *types.MsgCreateService) {
				m := &msg.Manifest
				m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("0.01")}
				m.Admission = types.ADMISSION_ALLOWLIST
				m.HandlerContract = contractAddr("handler")
				m.Config = []types.ConfigEntry{{Key: "PAIR", Value: "ATOM/USD"}, {Key: "_debug", Value: "1"}}
				m.Limits.HttpAllowList = []string{"api.example.com", "203.0.113.7:8080"}
				m.FeePerTask = sdk.Coin{}
				m.TaskTimeout = maxTimeout
				m.Quorum.Threshold = sdkmath.LegacyOneDec()
				m.Quorum.MinOperators = 3
				m.Limits.OutputBytes = maxResult
			},
		},
		{
			name: "failure: unknown component",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.ComponentDigest = types.Digest([]byte("nothing stored"))
			},
			expErr: types.ErrComponentNotFound,
		},
		{
			name:     "failure: digest is not hex sha256",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.ComponentDigest = strings.ToUpper(digest) },
			expErr:   types.ErrInvalidManifest,
			errText:  "component_digest",
		},
		{
			name:     "failure: empty name",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Name = "" },
			expErr:   types.ErrInvalidManifest,
			errText:  "name",
		},
		{
			name:     "failure: blank name",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Name = "  \t" },
			expErr:   types.ErrInvalidManifest,
			errText:  "name",
		},
		{
			name: "failure: name too long",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Name = strings.Repeat("n", types.MaxServiceNameLength+1)
			},
			expErr:  types.ErrInvalidManifest,
			errText: "name",
		},
		{
			name:     "failure: threshold 0",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Threshold = sdkmath.LegacyZeroDec() },
			expErr:   types.ErrInvalidManifest,
			errText:  "threshold",
		},
		{
			name:     "failure: threshold 1.5",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Threshold = dec("1.5") },
			expErr:   types.ErrInvalidManifest,
			errText:  "threshold",
		},
		{
			name:     "failure: negative threshold",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Threshold = dec("-0.5") },
			expErr:   types.ErrInvalidManifest,
			errText:  "threshold",
		},
		{
			name:     "failure: no threshold",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Threshold = sdkmath.LegacyDec{} },
			expErr:   types.ErrInvalidManifest,
			errText:  "threshold",
		},
		{
			name:     "success: STAKE weighting",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Weighting = types.WEIGHTING_STAKE },
		},
		{
			name: "failure: fee not in the stake denom",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.FeePerTask = sdk.NewInt64Coin("uatom", 5)
			},
			expErr:  types.ErrInvalidManifest,
			errText: "stake denom",
		},
		{
			name:     "failure: slash fraction above 1",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.SlashFraction = sdkmath.LegacyNewDec(2) },
			expErr:   types.ErrInvalidManifest,
			errText:  "slash_fraction",
		},
		{
			name:     "failure: unknown weighting",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.Weighting = 7 },
			expErr:   types.ErrInvalidManifest,
			errText:  "weighting",
		},
		{
			name:     "failure: min_operators above the bound",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Quorum.MinOperators = types.MaxMinOperators + 1 },
			expErr:   types.ErrInvalidManifest,
			errText:  "min_operators",
		},
		{
			name: "failure: MEDIAN with a negative spread",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("-0.01")}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "allowed_spread",
		},
		{
			name: "failure: MEDIAN with a spread above 1",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: dec("1.01")}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "allowed_spread",
		},
		{
			name: "failure: MEDIAN without a spread",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "allowed_spread",
		},
		{
			name: "failure: EXACT with a spread",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_EXACT, AllowedSpread: dec("0.01")}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "only to MEDIAN",
		},
		{
			name:     "failure: unknown aggregation mode",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Aggregation.Mode = 9 },
			expErr:   types.ErrInvalidManifest,
			errText:  "aggregation.mode",
		},
		{
			name:     "failure: output_bytes above max_result_size",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.OutputBytes = maxResult + 1 },
			expErr:   types.ErrInvalidManifest,
			errText:  "output_bytes",
		},
		{
			name:     "failure: zero output_bytes",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.OutputBytes = 0 },
			expErr:   types.ErrInvalidManifest,
			errText:  "output_bytes",
		},
		{
			name:     "failure: zero time limit",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.TimeMs = 0 },
			expErr:   types.ErrInvalidManifest,
			errText:  "time_ms",
		},
		{
			name:     "failure: too many memory pages",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.MemoryPages = types.MaxMemoryPages + 1 },
			expErr:   types.ErrInvalidManifest,
			errText:  "memory_pages",
		},
		{
			name: "failure: config key is not an environment variable name",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Config = []types.ConfigEntry{{Key: "API-KEY", Value: "x"}}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "config key",
		},
		{
			name: "failure: config key starts with a digit",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Config = []types.ConfigEntry{{Key: "1KEY", Value: "x"}}
			},
			expErr: types.ErrInvalidManifest,
		},
		{
			name: "failure: config key given twice",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Config = []types.ConfigEntry{{Key: "PAIR", Value: "a"}, {Key: "PAIR", Value: "b"}}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "config key",
		},
		{
			name: "failure: reserved AVS_ config key",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Config = []types.ConfigEntry{{Key: "AVS_TASK_ID", Value: "1"}}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "reserved",
		},
		{
			name: "failure: reserved avs_ config key in lower case",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.Config = []types.ConfigEntry{{Key: "avs_task_id", Value: "1"}}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "reserved",
		},
		{
			name:     "failure: allow-list entry with a scheme",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.HttpAllowList = []string{"https://x"} },
			expErr:   types.ErrInvalidManifest,
			errText:  "http_allow_list",
		},
		{
			name:     "failure: allow-list entry with a path",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.HttpAllowList = []string{"x.com/api"} },
			expErr:   types.ErrInvalidManifest,
			errText:  "http_allow_list",
		},
		{
			name:     "failure: allow-list entry naming the cloud metadata address (H5)",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Limits.HttpAllowList = []string{"169.254.169.254"} },
			expErr:   types.ErrInvalidManifest,
			errText:  "169.254.169.254",
		},
		{
			name:     "failure: task_timeout above max_task_timeout",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.TaskTimeout = maxTimeout + 1 },
			expErr:   types.ErrInvalidManifest,
			errText:  "task_timeout",
		},
		{
			name: "failure: negative fee",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.FeePerTask = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-1)}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "fee_per_task",
		},
		{
			name: "failure: bad fee denom",
			malleate: func(msg *types.MsgCreateService) {
				msg.Manifest.FeePerTask = sdk.Coin{Denom: "u", Amount: sdkmath.OneInt()}
			},
			expErr:  types.ErrInvalidManifest,
			errText: "fee_per_task",
		},
		{
			name:     "failure: unknown admission",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.Admission = 5 },
			expErr:   types.ErrInvalidManifest,
			errText:  "admission",
		},
		{
			name:     "failure: handler contract is not an address",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.HandlerContract = "contract" },
			expErr:   types.ErrInvalidAddress,
			errText:  "handler_contract",
		},
		{
			name:     "failure: handler contract has another chain's prefix",
			malleate: func(msg *types.MsgCreateService) { msg.Manifest.HandlerContract = accOf("handler", 32).String() },
			expErr:   types.ErrInvalidAddress,
			errText:  "handler_contract",
		},
		{
			name:     "failure: owner is not an address",
			malleate: func(msg *types.MsgCreateService) { msg.Owner = "owner" },
			expErr:   types.ErrInvalidAddress,
			errText:  "owner",
		},
	}

	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			digest = s.storeComponent()
			msg := &types.MsgCreateService{Owner: addr("owner"), Manifest: defaultManifest(digest)}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			res, err := s.msgServer.CreateService(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.Require().Contains(err.Error(), tc.errText)
				s.Require().Nil(res)
				s.requireUnchanged(before)
				s.Require().Empty(ctx.EventManager().Events())
				return
			}
			s.Require().NoError(err)
			s.Require().Equal(uint64(1), res.ServiceId)
			q, err := s.queryServer.Service(s.ctx, &types.QueryServiceRequest{ServiceId: res.ServiceId})
			s.Require().NoError(err)
			s.Require().Equal(types.Service{
				Id: 1, Owner: msg.Owner, Manifest: s.roundTrip(msg.Manifest), Status: types.SERVICE_STATUS_ACTIVE,
				CreatedHeight: s.ctx.BlockHeight(), UpdatedHeight: s.ctx.BlockHeight(),
				Revision: 1, PendingSlashFraction: sdkmath.LegacyZeroDec(),
			}, q.Service)
			rev, err := s.queryServer.ServiceRevision(s.ctx, &types.QueryServiceRevisionRequest{ServiceId: 1, Revision: 1})
			s.Require().NoError(err)
			s.Require().Equal(q.Service.Manifest, rev.Manifest)
			evs := s.typedEvents(ctx, &types.EventServiceCreated{})
			s.Require().Equal([]any{&types.EventServiceCreated{ServiceId: 1, Owner: msg.Owner, ComponentDigest: digest}}, toAny(evs))

			// ids keep counting
			res2, err := s.msgServer.CreateService(s.ctx, msg)
			s.Require().NoError(err)
			s.Require().Equal(uint64(2), res2.ServiceId)
		})
	}
}

func toAny[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// A service with a config must be written to state as the same bytes on every
// node (the config is a list, not a map, for that reason).
func (s *KeeperTestSuite) TestServiceEncodingIsDeterministic() {
	m := defaultManifest(s.storeComponent())
	m.Config = nil
	for i := 15; i >= 0; i-- {
		m.Config = append(m.Config, types.ConfigEntry{Key: fmt.Sprintf("KEY_%02d", i), Value: fmt.Sprintf("value %d", i)})
	}
	id := s.createService(m)
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	s.Require().Equal(m.Config, svc.Manifest.Config)

	// Two nodes building the same service write the same bytes: the raw
	// store of each, not the decoded structs (review M8), in every
	// collection the component and the service touched.
	other := s.newEnv()
	s.Require().NoError(other.keeper.InitGenesis(other.ctx, types.DefaultGenesis()))
	_, err = other.msgServer.StoreComponent(other.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: validWasm()})
	s.Require().NoError(err)
	_, err = other.msgServer.CreateService(other.ctx, &types.MsgCreateService{Owner: addr("owner"), Manifest: m})
	s.Require().NoError(err)
	svc2, err := other.keeper.Services.Get(other.ctx, id)
	s.Require().NoError(err)
	s.Require().Equal(svc, svc2)
	mine, err := avstest.RawStore(s.ctx, s.keeper.Schema, s.storeKey)
	s.Require().NoError(err)
	theirs, err := avstest.RawStore(other.ctx, other.keeper.Schema, other.key)
	s.Require().NoError(err)
	compared := 0
	for k, v := range theirs {
		if strings.HasPrefix(k, "services/") || strings.HasPrefix(k, "components/") {
			s.Require().Equal(mine[k], v, "stored bytes of %s", k)
			compared++
		}
	}
	s.Require().Equal(2, compared, "the component and the service, stored on both")
}

func (s *KeeperTestSuite) TestUpdateService() {
	var (
		id       uint64
		digestV2 string
	)
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUpdateService)
		expErr   *errorsmod.Error
	}{
		{name: "success: new component and name", malleate: func(*types.MsgUpdateService) {}},
		{
			name:     "success: same component, new quorum",
			malleate: func(msg *types.MsgUpdateService) { msg.Manifest.ComponentDigest = s.storeComponent() },
		},
		{
			name:     "failure: not the owner",
			malleate: func(msg *types.MsgUpdateService) { msg.Owner = addr("stranger") },
			expErr:   types.ErrNotServiceOwner,
		},
		{
			name:     "failure: owner is not an address",
			malleate: func(msg *types.MsgUpdateService) { msg.Owner = "owner" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgUpdateService) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
		{
			name:     "failure: invalid manifest",
			malleate: func(msg *types.MsgUpdateService) { msg.Manifest.Quorum.Threshold = dec("1.5") },
			expErr:   types.ErrInvalidManifest,
		},
		{
			name:     "failure: unknown component",
			malleate: func(msg *types.MsgUpdateService) { msg.Manifest.ComponentDigest = types.Digest([]byte("x")) },
			expErr:   types.ErrComponentNotFound,
		},
		{
			name:     "failure: bad handler contract",
			malleate: func(msg *types.MsgUpdateService) { msg.Manifest.HandlerContract = "handler" },
			expErr:   types.ErrInvalidAddress,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id = s.createService(defaultManifest(""))
			res, err := s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: paddedWasm(8)})
			s.Require().NoError(err)
			digestV2 = res.Digest
			s.ctx = s.ctx.WithBlockHeight(20)

			m := defaultManifest(digestV2)
			m.Name = "price-feed-v2"
			m.Quorum.Threshold = dec("0.75")
			msg := &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: m}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err = s.msgServer.UpdateService(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			svc, err := s.keeper.Services.Get(s.ctx, id)
			s.Require().NoError(err)
			s.Require().Equal(s.roundTrip(msg.Manifest), svc.Manifest)
			s.Require().Equal(int64(10), svc.CreatedHeight)
			s.Require().Equal(int64(20), svc.UpdatedHeight)
			s.Require().Equal(addr("owner"), svc.Owner)
			evs := s.typedEvents(ctx, &types.EventServiceUpdated{})
			s.Require().Equal(uint64(2), svc.Revision)
			s.Require().Equal([]any{&types.EventServiceUpdated{ServiceId: id, ComponentDigest: msg.Manifest.ComponentDigest, Revision: 2}}, toAny(evs))
		})
	}
}

// Upgrading a service's component leaves open tasks on the digest they began with.
func (s *KeeperTestSuite) TestUpdateServiceKeepsOpenTasksOnTheirComponent() {
	id, _ := s.setupService(defaultManifest(""), 1)
	oldDigest := types.Digest(validWasm())
	t1 := s.createTask(id)

	res, err := s.msgServer.StoreComponent(s.ctx, &types.MsgStoreComponent{Sender: addr("uploader"), Wasm: paddedWasm(8)})
	s.Require().NoError(err)
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: addr("owner"), ServiceId: id, Manifest: defaultManifest(res.Digest)})
	s.Require().NoError(err)
	t2 := s.createTask(id)

	s.Require().Equal(oldDigest, s.task(t1).ComponentDigest)
	s.Require().Equal(res.Digest, s.task(t2).ComponentDigest)
}

func (s *KeeperTestSuite) TestSetServiceStatus() {
	var id uint64
	testCases := []struct {
		name      string
		malleate  func(msg *types.MsgSetServiceStatus)
		expErr    *errorsmod.Error
		expStatus types.ServiceStatus
	}{
		{name: "success: pause", malleate: func(*types.MsgSetServiceStatus) {}, expStatus: types.SERVICE_STATUS_PAUSED},
		{
			name: "success: resume a paused service",
			malleate: func(msg *types.MsgSetServiceStatus) {
				_, err := s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
				s.Require().NoError(err)
				msg.Status = types.SERVICE_STATUS_ACTIVE
			},
			expStatus: types.SERVICE_STATUS_ACTIVE,
		},
		{
			name:     "failure: unknown status",
			malleate: func(msg *types.MsgSetServiceStatus) { msg.Status = 7 },
			expErr:   types.ErrInvalidRequest,
		},
		{
			name:     "failure: not the owner",
			malleate: func(msg *types.MsgSetServiceStatus) { msg.Owner = addr("stranger") },
			expErr:   types.ErrNotServiceOwner,
		},
		{
			name:     "failure: owner is not an address",
			malleate: func(msg *types.MsgSetServiceStatus) { msg.Owner = "owner" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgSetServiceStatus) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id = s.createService(defaultManifest(""))
			msg := &types.MsgSetServiceStatus{Owner: addr("owner"), ServiceId: id, Status: types.SERVICE_STATUS_PAUSED}
			tc.malleate(msg)
			before := s.state()
			s.ctx = s.ctx.WithBlockHeight(12)

			_, err := s.msgServer.SetServiceStatus(s.ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			svc, err := s.keeper.Services.Get(s.ctx, id)
			s.Require().NoError(err)
			s.Require().Equal(tc.expStatus, svc.Status)
			s.Require().Equal(int64(12), svc.UpdatedHeight)
		})
	}
}

func (s *KeeperTestSuite) TestTransferService() {
	var id uint64
	newOwner := contractAddr("dao-contract")
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgTransferService)
		expErr   *errorsmod.Error
	}{
		{name: "success: to a contract address", malleate: func(*types.MsgTransferService) {}},
		{
			name:     "failure: new owner is not an address",
			malleate: func(msg *types.MsgTransferService) { msg.NewOwner = "dao" },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: new owner has another chain's prefix",
			malleate: func(msg *types.MsgTransferService) { msg.NewOwner = accOf("dao", 32).String() },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: not the owner",
			malleate: func(msg *types.MsgTransferService) { msg.Owner = addr("stranger") },
			expErr:   types.ErrNotServiceOwner,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgTransferService) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			id = s.createService(defaultManifest(""))
			msg := &types.MsgTransferService{Owner: addr("owner"), ServiceId: id, NewOwner: newOwner}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err := s.msgServer.TransferService(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			svc, err := s.keeper.Services.Get(s.ctx, id)
			s.Require().NoError(err)
			s.Require().Equal(newOwner, svc.Owner)
			evs := s.typedEvents(ctx, &types.EventServiceTransferred{})
			s.Require().Equal([]any{&types.EventServiceTransferred{ServiceId: id, OldOwner: addr("owner"), NewOwner: newOwner}}, toAny(evs))
		})
	}
}

// After a transfer the old owner is refused everywhere and the new owner, a
// 32-byte contract address, has full control.
func (s *KeeperTestSuite) TestTransferServiceHandsOverControl() {
	id := s.createService(defaultManifest(""))
	oldOwner, newOwner := addr("owner"), contractAddr("dao-contract")
	_, err := s.msgServer.TransferService(s.ctx, &types.MsgTransferService{Owner: oldOwner, ServiceId: id, NewOwner: newOwner})
	s.Require().NoError(err)

	m := defaultManifest(types.Digest(validWasm()))
	m.Name = "renamed"
	before := s.state()
	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: oldOwner, ServiceId: id, Manifest: m})
	s.Require().ErrorIs(err, types.ErrNotServiceOwner)
	_, err = s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: oldOwner, ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
	s.Require().ErrorIs(err, types.ErrNotServiceOwner)
	_, err = s.msgServer.TransferService(s.ctx, &types.MsgTransferService{Owner: oldOwner, ServiceId: id, NewOwner: oldOwner})
	s.Require().ErrorIs(err, types.ErrNotServiceOwner)
	_, err = s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: oldOwner, ServiceId: id, Add: []string{addr("op1")}})
	s.Require().ErrorIs(err, types.ErrNotServiceOwner)
	s.requireUnchanged(before)

	_, err = s.msgServer.UpdateService(s.ctx, &types.MsgUpdateService{Owner: newOwner, ServiceId: id, Manifest: m})
	s.Require().NoError(err)
	_, err = s.msgServer.SetServiceStatus(s.ctx, &types.MsgSetServiceStatus{Owner: newOwner, ServiceId: id, Status: types.SERVICE_STATUS_PAUSED})
	s.Require().NoError(err)
	_, err = s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: newOwner, ServiceId: id, Add: []string{addr("op1")}})
	s.Require().NoError(err)
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	s.Require().Equal("renamed", svc.Manifest.Name)
	s.Require().Equal(types.SERVICE_STATUS_PAUSED, svc.Status)
	s.Require().Equal(newOwner, svc.Owner)
}

func (s *KeeperTestSuite) TestUpdateAllowlist() {
	var id uint64
	op1, op2, op3 := addr("op1"), addr("op2"), addr("op3")
	testCases := []struct {
		name     string
		malleate func(msg *types.MsgUpdateAllowlist)
		expErr   *errorsmod.Error
		expIn    []string
		expOut   []string
	}{
		{name: "success: add two", malleate: func(*types.MsgUpdateAllowlist) {}, expIn: []string{op1, op2}, expOut: []string{op3}},
		{
			name: "success: remove one, add another",
			malleate: func(msg *types.MsgUpdateAllowlist) {
				_, err := s.msgServer.UpdateAllowlist(s.ctx, &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Add: []string{op1, op2}})
				s.Require().NoError(err)
				msg.Add, msg.Remove = []string{op3}, []string{op1}
			},
			expIn:  []string{op2, op3},
			expOut: []string{op1},
		},
		{
			name:     "success: removing an absent entry is a no-op",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.Add, msg.Remove = nil, []string{op3} },
			expOut:   []string{op1, op2, op3},
		},
		{
			name:     "failure: nothing to add or remove",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.Add = nil },
			expErr:   types.ErrInvalidRequest,
		},
		{
			name:     "failure: bad address in add",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.Add = append(msg.Add, "op3") },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: bad address in remove",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.Remove = []string{acc("op3").String()} },
			expErr:   types.ErrInvalidAddress,
		},
		{
			name:     "failure: not the owner",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.Owner = op1 },
			expErr:   types.ErrNotServiceOwner,
		},
		{
			name:     "failure: unknown service",
			malleate: func(msg *types.MsgUpdateAllowlist) { msg.ServiceId = 99 },
			expErr:   types.ErrServiceNotFound,
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			m := defaultManifest("")
			m.Admission = types.ADMISSION_ALLOWLIST
			id = s.createService(m)
			msg := &types.MsgUpdateAllowlist{Owner: addr("owner"), ServiceId: id, Add: []string{op1, op2}}
			tc.malleate(msg)
			before := s.state()

			ctx := s.withEvents()
			_, err := s.msgServer.UpdateAllowlist(ctx, msg)
			if tc.expErr != nil {
				s.Require().ErrorIs(err, tc.expErr)
				s.requireUnchanged(before)
				return
			}
			s.Require().NoError(err)
			for _, a := range tc.expIn {
				has, err := s.keeper.Allowlist.Has(s.ctx, collections.Join(id, a))
				s.Require().NoError(err)
				s.Require().True(has, a)
			}
			for _, a := range tc.expOut {
				has, err := s.keeper.Allowlist.Has(s.ctx, collections.Join(id, a))
				s.Require().NoError(err)
				s.Require().False(has, a)
			}
			evs := s.typedEvents(ctx, &types.EventAllowlistUpdated{})
			s.Require().Len(evs, 1)
			ev := evs[0].(*types.EventAllowlistUpdated)
			s.Require().Equal(id, ev.ServiceId)
			s.Require().ElementsMatch(msg.Add, ev.Added)
			s.Require().ElementsMatch(msg.Remove, ev.Removed)
		})
	}
}
