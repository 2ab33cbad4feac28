package chain_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/x/avs/types"
)

// servicePower answers Query/ServicePower as x/avs pages the opt-ins: by
// address, from the page key on.
type servicePower struct {
	types.UnimplementedQueryServer
	mu       sync.Mutex
	current  []types.OperatorPower // by address
	snapshot types.PowerSnapshot
	keys     []string
}

func (s *servicePower) ServicePower(_ context.Context, req *types.QueryServicePowerRequest) (*types.QueryServicePowerResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, string(req.Pagination.Key))
	res := &types.QueryServicePowerResponse{Epoch: 12, Snapshot: s.snapshot}
	for _, p := range s.current {
		if p.Operator >= string(req.Pagination.Key) && uint64(len(res.Current)) < req.Pagination.Limit {
			res.Current = append(res.Current, p)
		}
	}
	return res, nil
}

// TestOperatorStanding: one page of one row from the operator's address;
// the row of the next operator is not taken for its own.
func TestOperatorStanding(t *testing.T) {
	srv := &servicePower{
		current: []types.OperatorPower{{Operator: "avs1a", Power: 0}, {Operator: "avs1c", Power: 5}},
		snapshot: types.PowerSnapshot{ServiceId: 3, Epoch: 12, Total: 5,
			Powers: []types.OperatorPower{{Operator: "avs1c", Power: 5}}},
	}
	c, err := chain.Dial("test", []string{"http://127.0.0.1:1"}, []string{serveGRPC(t, srv)})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()

	st, err := c.OperatorStanding(ctx, 3, "avs1c")
	require.NoError(t, err)
	require.Equal(t, chain.Standing{Epoch: 12, Taken: true, InSnapshot: true, Power: 5}, st)

	st, err = c.OperatorStanding(ctx, 3, "avs1b") // not opted in: avs1c's row comes back
	require.NoError(t, err)
	require.Equal(t, chain.Standing{Epoch: 12, Taken: true}, st)

	srv.mu.Lock()
	srv.snapshot = types.PowerSnapshot{} // not taken yet this epoch
	srv.mu.Unlock()
	st, err = c.OperatorStanding(ctx, 3, "avs1c")
	require.NoError(t, err)
	require.Equal(t, chain.Standing{Epoch: 12, Power: 5}, st)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	require.Equal(t, []string{"avs1c", "avs1b", "avs1c"}, srv.keys)
}
