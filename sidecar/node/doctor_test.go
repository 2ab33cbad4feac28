package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/config"
	"github.com/avschain/avschain/x/avs/types"
)

// fakeDoctorChain is a healthy node and operator unless a test changes it.
type fakeDoctorChain struct {
	status      *coretypes.ResultStatus
	statusErr   error
	resultsErr  error
	registered  bool
	services    []uint64
	liveness    []types.OperatorLiveness
	balance     uint64
	accounts    map[string]bool
	minGas      sdk.DecCoins
	authz, fees bool
}

func healthyChain() *fakeDoctorChain {
	return &fakeDoctorChain{
		status: &coretypes.ResultStatus{
			NodeInfo: p2p.DefaultNodeInfo{Network: "avs-local-1", Other: p2p.DefaultNodeInfoOther{TxIndex: "on"}},
			SyncInfo: coretypes.SyncInfo{LatestBlockHeight: 100},
		},
		registered: true, services: []uint64{1, 2}, liveness: make([]types.OperatorLiveness, 2),
		balance: 1 << 40, accounts: map[string]bool{}, minGas: mustDecCoins("0.01uavs"),
		authz: true, fees: true,
	}
}

func (f *fakeDoctorChain) NodeStatus(context.Context) (*coretypes.ResultStatus, error) {
	return f.status, f.statusErr
}

func (f *fakeDoctorChain) BlockResults(context.Context, int64) (*coretypes.ResultBlockResults, error) {
	return &coretypes.ResultBlockResults{}, f.resultsErr
}

func (f *fakeDoctorChain) OperatorInfo(context.Context, string) (bool, []uint64, []types.OperatorLiveness, error) {
	return f.registered, f.services, f.liveness, nil
}

func (f *fakeDoctorChain) Balance(context.Context, string, string) (uint64, error) {
	return f.balance, nil
}

func (f *fakeDoctorChain) AccountExists(_ context.Context, a sdk.AccAddress) (bool, error) {
	missing := f.accounts[a.String()]
	return !missing, nil
}

func (f *fakeDoctorChain) MinGasPrices(context.Context) (sdk.DecCoins, error) { return f.minGas, nil }

func (f *fakeDoctorChain) VoteKeyGrants(context.Context, string, string, string) (bool, bool, error) {
	return f.authz, f.fees, nil
}

var _ DoctorChain = (*chain.Client)(nil)

// TestItem12DoctorFindsWhatStopsVoting: each condition that would stop the
// operator voting is one problem, with its severity and a fix; a healthy
// setup has none.
func TestItem12DoctorFindsWhatStopsVoting(t *testing.T) {
	chain.SetAddressPrefixes()
	opAddr := sdk.AccAddress(strings.Repeat("o", 20))
	voteAddr := sdk.AccAddress(strings.Repeat("v", 20))
	price := mustDecCoins("0.01uavs")

	for _, tc := range []struct {
		name     string
		malleate func(*fakeDoctorChain, *config.Config, *Subject)
		sev      Severity
		want     []string // in What and Fix
	}{
		{name: "wrong chain", sev: Fatal, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.status.NodeInfo.Network = "avs-2" },
			want: []string{`serves chain "avs-2" but chain_id is "avs-local-1"`, "point rpc_endpoints"}},
		{name: "node unreachable", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.statusErr = errors.New("connection refused") },
			want: []string{"answers /status: connection refused", "fix rpc_endpoints"}},
		{name: "catching up", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.status.SyncInfo.CatchingUp = true },
			want: []string{"catching up"}},
		{name: "no tx index", sev: Info, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.status.NodeInfo.Other.TxIndex = "off" },
			want: []string{"no tx index", "confirmed from block results"}},
		{name: "no block results", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.resultsErr = errors.New("discarded") },
			want: []string{"block results of height 100", "discard_abci_responses = false"}},
		{name: "not registered", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.registered, f.services = false, nil },
			want: []string{"not registered", "register-operator"}},
		{name: "opted in to nothing", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.services, f.liveness = nil, nil },
			want: []string{"opted in to no service", "avsd tx avs opt-in"}},
		{name: "services filter leaves one out", sev: Warn, malleate: func(_ *fakeDoctorChain, c *config.Config, _ *Subject) { c.Services = config.ServiceIDs{1} },
			want: []string{"opted in to service 2 but the services setting leaves it out", "count as missed", "add 2 to services", "opt-out 2"}},
		{name: "services lists one not opted in", sev: Info, malleate: func(_ *fakeDoctorChain, c *config.Config, _ *Subject) { c.Services = config.ServiceIDs{1, 2, 9} },
			want: []string{"services lists 9"}},
		{name: "jailed", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) {
			f.liveness[1] = types.OperatorLiveness{Jailed: true, WindowMissed: 50, WindowTasks: 80, JailedUntil: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
		}, want: []string{"jailed on service 2 (missed 50 of the last 80", "after 2030-01-02T03:04:05Z: avsd tx avs unjail 2"}},
		{name: "account missing", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.accounts[opAddr.String()] = true },
			want: []string{"does not exist on chain (never funded)", "avsd tx bank send"}},
		{name: "balance low", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) { f.balance = 10 },
			want: []string{"holds 10uavs, less than about 100 vote transactions cost", "avsd tx bank send <funded key> " + opAddr.String()}},
		{name: "gas price below the node's", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, _ *Subject) {
			f.minGas = mustDecCoins("0.05uavs")
		}, want: []string{"below the node's minimum-gas-prices", "insufficient fee", `set gas_prices to at least 0.050000000000000000uavs, or to ""`}},
		{name: "zero gas price, node asks one", sev: Warn, malleate: func(_ *fakeDoctorChain, _ *config.Config, s *Subject) { s.GasPrices = nil },
			want: []string{"gas prices 0 are below"}},
		{name: "vote key account missing", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, s *Subject) {
			s.Signer = voteAddr
			f.accounts[voteAddr.String()] = true
		}, want: []string{"the vote key's account " + voteAddr.String() + " does not exist", "avsd tx bank send <operator key> " + voteAddr.String()}},
		{name: "vote key without authz", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, s *Subject) { s.Signer, f.authz = voteAddr, false },
			want: []string{"has not authorized the vote key", "avsd tx authz grant " + voteAddr.String() + " generic --msg-type /avschain.avs.v1.MsgSubmitResults --from <operator key>"}},
		{name: "vote key without fee allowance", sev: Warn, malleate: func(f *fakeDoctorChain, _ *config.Config, s *Subject) { s.Signer, f.fees = voteAddr, false },
			want: []string{"no fee allowance", "avsd tx feegrant grant <operator key> " + voteAddr.String() + " --allowed-messages /cosmos.authz.v1beta1.MsgExec"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cfg := healthyChain(), config.Default()
			s := Subject{Operator: opAddr.String(), Signer: opAddr, GasPrices: price}
			require.Empty(t, Check(context.Background(), f, cfg, s), "healthy")

			tc.malleate(f, &cfg, &s)
			ps := Check(context.Background(), f, cfg, s)
			require.Len(t, ps, 1, "%v", ps)
			require.Equal(t, tc.sev, ps[0].Severity)
			require.Equal(t, tc.sev == Fatal, HasFatal(ps))
			for _, w := range tc.want {
				require.Contains(t, ps[0].String(), w)
			}
			require.NotContains(t, ps[0].String(), "\n", "one line")
		})
	}
}

func TestPaysMinimum(t *testing.T) {
	dec := func(s string) sdk.DecCoins {
		c, err := sdk.ParseDecCoins(s)
		require.NoError(t, err)
		return c
	}
	require.True(t, PaysMinimum(nil, nil))
	require.True(t, PaysMinimum(nil, dec("0uavs")))
	require.False(t, PaysMinimum(nil, dec("0.01uavs")))
	require.True(t, PaysMinimum(dec("0.01uavs"), dec("0.01uavs")))
	require.False(t, PaysMinimum(dec("0.009uavs"), dec("0.01uavs")))
	require.True(t, PaysMinimum(dec("1uatom"), dec("0.01uavs,0.5uatom")), "one denom suffices")
	require.False(t, PaysMinimum(dec("1uatom"), dec("0.01uavs")))
}

func mustDecCoins(s string) sdk.DecCoins {
	c, err := sdk.ParseDecCoins(s)
	if err != nil {
		panic(err)
	}
	return c
}
