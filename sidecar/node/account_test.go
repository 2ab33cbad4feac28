package node

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/metrics"
	"github.com/avschain/avschain/x/avs/types"
)

type fakeAccountChain struct {
	balance uint64
	ids     []uint64
	live    []types.OperatorLiveness
	err     error
}

func (f fakeAccountChain) Balance(context.Context, string, string) (uint64, error) {
	return f.balance, f.err
}

func (f fakeAccountChain) OperatorInfo(context.Context, string) (bool, []uint64, []types.OperatorLiveness, error) {
	return true, f.ids, f.live, nil
}

func (f fakeAccountChain) Params(context.Context) (types.Params, error) {
	p := types.DefaultParams()
	p.JailThreshold = 40
	return p, nil
}

// TestM11AccountPollerReportsBalanceJailAndMisses: the poller reports what
// /healthz and the alerts need: balance, jailed services, the worst
// window's misses against the threshold.
func TestM11AccountPollerReportsBalanceJailAndMisses(t *testing.T) {
	m := metrics.New()
	c := fakeAccountChain{
		balance: 12345, ids: []uint64{3, 5, 8},
		live: []types.OperatorLiveness{{WindowMissed: 2}, {WindowMissed: 41, Jailed: true}, {WindowMissed: 7}},
	}
	require.NoError(t, pollAccount(context.Background(), c, "avs1op", "uavs", m))
	p := m.Status()
	require.True(t, p.AccountRead)
	require.EqualValues(t, 12345, p.Balance)
	require.Equal(t, "uavs", p.BalanceDenom)
	require.Equal(t, []uint64{5}, p.JailedServices)
	require.EqualValues(t, 41, p.Missed)
	require.EqualValues(t, 40, p.JailThreshold)

	// A failed read reports nothing: the last values stay.
	c.err = errors.New("unavailable")
	require.Error(t, pollAccount(context.Background(), c, "avs1op", "uavs", m))
	require.EqualValues(t, 12345, m.Status().Balance)
}
