package keeper_test

import (
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// TestServicePowerSeeksOneOperator: a client reads one operator's power in a
// service with one page of Query/ServicePower keyed by the operator's
// address and limited to one row (the sidecar's idle check,
// chain.Client.OperatorStanding), whatever the operators around it.
func (s *KeeperTestSuite) TestServicePowerSeeksOneOperator() {
	id, ops := s.setupService(stakeManifest("0.51"), 5)
	for i, op := range ops {
		if i%2 == 1 {
			s.fundAndCommit(fmt.Sprintf("c%d", i), op, id, int64(100+i))
		}
	}
	outsider := s.registerOperator("outsider") // registered, not opted in

	seek := func(operator string) *types.QueryServicePowerResponse {
		res, err := s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{
			ServiceId: id, Pagination: &query.PageRequest{Key: []byte(operator), Limit: 1},
		})
		s.Require().NoError(err)
		return res
	}
	for i, op := range ops {
		res := seek(op)
		s.Require().Len(res.Current, 1, op)
		s.Require().Equal(op, res.Current[0].Operator)
		want := uint64(0)
		if i%2 == 1 {
			want = uint64(100 + i)
		}
		s.Require().Equal(want, res.Current[0].Power, op)
	}
	if res := seek(outsider); len(res.Current) > 0 {
		s.Require().NotEqual(outsider, res.Current[0].Operator)
	}
}
