package keeper_test

import (
	"bytes"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

// pageItems is how many items each list query's test creates: more than the
// SDK's default page (query.DefaultLimit, 100).
const pageItems = 150

// pageSize is the page the tests walk with: it does not divide pageItems, so
// the last page is a short one.
const pageSize = 40

// lister reads one page of a list query, each item reduced to its key.
type lister func(page *query.PageRequest) ([]string, *query.PageResponse, error)

// keysOf reduces a page's items to their keys.
func keysOf[T any](items []T, key func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

func idKey(id uint64) string { return fmt.Sprintf("%020d", id) }

// requirePages checks a list query's pagination against want, its items in
// key order: the default page is the SDK's 100; next_key pages and
// offset/limit pages each give every item exactly once, in order; a reverse
// walk gives them backwards; count_total counts them; a page of
// types.MaxPageLimit is served and a larger one refused.
func (s *KeeperTestSuite) requirePages(want []string, list lister) {
	s.Require().Greater(len(want), int(query.DefaultLimit), "the test must create more items than a page")

	items, page, err := list(nil)
	s.Require().NoError(err)
	s.Require().Equal(want[:query.DefaultLimit], items, "the default page")
	s.Require().NotEmpty(page.NextKey)
	s.Require().Zero(page.Total, "the default page does not walk the list to count it")

	walk := func(reverse bool) []string {
		var (
			got []string
			key []byte
		)
		for pages := 0; ; pages++ {
			s.Require().LessOrEqual(pages, len(want)/pageSize+1, "the pages never end")
			items, page, err := list(&query.PageRequest{Key: key, Limit: pageSize, Reverse: reverse})
			s.Require().NoError(err)
			s.Require().LessOrEqual(len(items), pageSize)
			got = append(got, items...)
			if key = page.NextKey; len(key) == 0 {
				return got
			}
		}
	}
	s.Require().Equal(want, walk(false), "next_key pages")
	backwards := slices.Clone(want)
	slices.Reverse(backwards)
	s.Require().Equal(backwards, walk(true), "reverse next_key pages")

	var got []string
	for off := uint64(0); off < uint64(len(want)); off += pageSize {
		items, page, err := list(&query.PageRequest{Offset: off, Limit: pageSize, CountTotal: off == 0})
		s.Require().NoError(err)
		if off == 0 {
			s.Require().Equal(uint64(len(want)), page.Total)
		}
		got = append(got, items...)
	}
	s.Require().Equal(want, got, "offset/limit pages")

	items, _, err = list(&query.PageRequest{Limit: types.MaxPageLimit})
	s.Require().NoError(err)
	s.Require().Equal(want, items, "one page of the maximum")

	_, _, err = list(&query.PageRequest{Limit: types.MaxPageLimit + 1})
	s.Require().Equal(codes.InvalidArgument, status.Code(err), "over the maximum: %v", err)
	s.Require().ErrorContains(err, types.ErrPageLimit.Error())

	_, _, err = list(&query.PageRequest{Key: []byte{1}, Offset: 1})
	s.Require().Equal(codes.InvalidArgument, status.Code(err), "key and offset: %v", err)
}

// sortedAddrs returns the addresses in key order.
func sortedAddrs(addrs []string) []string {
	out := slices.Clone(addrs)
	slices.Sort(out)
	return out
}

func mustAddrBytes(a string) []byte {
	bz, err := bech32.StringToBytes(a)
	if err != nil {
		panic(err)
	}
	return bz
}

// byAddressBytes sorts addresses as a compact address key (raw bytes) does.
func byAddressBytes(addrs []string) []string {
	out := slices.Clone(addrs)
	slices.SortFunc(out, func(a, b string) int {
		return bytes.Compare(mustAddrBytes(a), mustAddrBytes(b))
	})
	return out
}

// TestL10ListQueriesPage pages through every x/avs list query.
func (s *KeeperTestSuite) TestL10ListQueriesPage() {
	testCases := []struct {
		name string
		// malleate builds the state and returns the expected keys, in order,
		// and the query.
		malleate func() ([]string, lister)
	}{
		{
			name: "Components",
			malleate: func() ([]string, lister) {
				var want []string
				for i := 0; i < pageItems; i++ {
					d := fmt.Sprintf("%064x", i*7919)
					s.Require().NoError(s.keeper.Components.Set(s.ctx, d, types.Component{Digest: d}))
					want = append(want, d)
				}
				slices.Sort(want)
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Components(s.ctx, &types.QueryComponentsRequest{Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Components, func(c types.Component) string { return c.Digest }), res.Pagination, nil
				}
			},
		},
		{
			name: "Services",
			malleate: func() ([]string, lister) {
				digest := s.storeComponent()
				var want []string
				for i := 0; i < pageItems; i++ {
					want = append(want, idKey(s.createService(defaultManifest(digest))))
				}
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Services(s.ctx, &types.QueryServicesRequest{Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Services, func(v types.Service) string { return idKey(v.Id) }), res.Pagination, nil
				}
			},
		},
		{
			name: "Operators",
			malleate: func() ([]string, lister) {
				var ops []string
				for i := 0; i < pageItems; i++ {
					ops = append(ops, s.registerOperator(fmt.Sprintf("op%d", i)))
				}
				return sortedAddrs(ops), func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Operators(s.ctx, &types.QueryOperatorsRequest{Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Operators, func(o types.Operator) string { return o.Address }), res.Pagination, nil
				}
			},
		},
		{
			name: "ServiceOperators: the service's only",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(defaultManifest(""), pageItems)
				other := s.createService(defaultManifest(""))
				s.optIn(ops[0], other)
				s.optIn(s.registerOperator("elsewhere"), other)
				return sortedAddrs(ops), func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.ServiceOperators(s.ctx, &types.QueryServiceOperatorsRequest{ServiceId: id, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Operators, func(o types.Operator) string { return o.Address }), res.Pagination, nil
				}
			},
		},
		{
			name: "Operator: its services",
			malleate: func() ([]string, lister) {
				digest := s.storeComponent()
				op := s.registerOperator("busy")
				idle := s.registerOperator("idle")
				var want []string
				for i := 0; i < pageItems; i++ {
					id := s.createService(defaultManifest(digest))
					s.optIn(op, id)
					if i%2 == 0 {
						s.optIn(idle, id)
					}
					want = append(want, idKey(id))
				}
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: op, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					s.Require().Equal(op, res.Operator.Address)
					return keysOf(res.ServiceIds, idKey), res.Pagination, nil
				}
			},
		},
		{
			name: "Tasks: the service's only",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(defaultManifest(""), 1)
				other := s.createService(defaultManifest(""))
				s.optIn(ops[0], other)
				var want []string
				for i := 0; i < pageItems; i++ {
					want = append(want, idKey(s.createTask(id)))
					if i%3 == 0 {
						s.createTask(other)
					}
				}
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Tasks, func(t types.Task) string { return idKey(t.Id) }), res.Pagination, nil
				}
			},
		},
		{
			name: "Tasks: of one status",
			malleate: func() ([]string, lister) {
				id, ops := s.exactService("0.51", 0, 1)
				var want []string
				for i := 0; i < pageItems+pageItems/3; i++ {
					t := s.createTask(id)
					if i%4 == 0 {
						s.mustVote(ops[0], t, "A") // completed: not listed
						continue
					}
					want = append(want, idKey(t))
				}
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Tasks(s.ctx, &types.QueryTasksRequest{ServiceId: id, Status: types.TASK_STATUS_PENDING, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Tasks, func(t types.Task) string { return idKey(t.Id) }), res.Pagination, nil
				}
			},
		},
		{
			name: "TaskVotes: the task's only",
			malleate: func() ([]string, lister) {
				id, _ := s.setupService(defaultManifest(""), 1)
				task, other := s.createTask(id), s.createTask(id)
				var voters []string
				for i := 0; i < pageItems; i++ {
					v := addr(fmt.Sprintf("voter%d", i))
					voters = append(voters, v)
					s.Require().NoError(s.keeper.Votes.Set(s.ctx, collections.Join(task, v), types.Vote{TaskId: task, Operator: v, Digest: "d"}))
					if i%5 == 0 {
						s.Require().NoError(s.keeper.Votes.Set(s.ctx, collections.Join(other, v), types.Vote{TaskId: other, Operator: v, Digest: "d"}))
					}
				}
				return byAddressBytes(voters), func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.TaskVotes(s.ctx, &types.QueryTaskVotesRequest{TaskId: task, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Votes, func(v types.Vote) string { return v.Operator }), res.Pagination, nil
				}
			},
		},
		{
			name: "Commitments: the committer's only, by operator",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(stakeManifest("0.51"), pageItems)
				alice := s.fund("alice", 10*pageItems)
				for i, op := range ops {
					s.commit(alice, op, id, 10)
					if i%4 == 0 {
						s.fundAndCommit("bob", op, id, 5)
					}
				}
				return sortedAddrs(ops), func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: alice, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Commitments, func(c types.CommitmentView) string {
						s.Require().Equal(alice, c.Commitment.Committer)
						return c.Commitment.Operator
					}), res.Pagination, nil
				}
			},
		},
		{
			name: "Unbonding: the committer's only, by id",
			malleate: func() ([]string, lister) {
				s.startClock()
				id, ops := s.setupService(stakeManifest("0.51"), 1)
				alice := s.fundAndCommit("alice", ops[0], id, 10*pageItems)
				bob := s.fundAndCommit("bob", ops[0], id, 10*pageItems)
				var want []string
				for i := 0; i < pageItems; i++ {
					want = append(want, idKey(s.uncommit(alice, ops[0], id, 1).EntryId))
					if i%3 == 0 {
						s.uncommit(bob, ops[0], id, 1)
					}
				}
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.Unbonding(s.ctx, &types.QueryUnbondingRequest{Committer: alice, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Unbonding, func(e types.UnbondingEntry) string {
						s.Require().Equal(alice, e.Committer)
						return idKey(e.Id)
					}), res.Pagination, nil
				}
			},
		},
		{
			name: "OperatorCommitments: the operator's only, by service and committer",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(stakeManifest("0.51"), 2)
				other := s.createService(stakeManifest("0.51"))
				s.optIn(ops[0], other)
				var want []string
				for i := 0; i < pageItems; i++ {
					svc := []uint64{id, other}[i%2]
					c := s.fundAndCommit(fmt.Sprintf("c%d", i), ops[0], svc, 10)
					s.fundAndCommit(fmt.Sprintf("c%d", i), ops[1], id, 10)
					want = append(want, idKey(svc)+"/"+c)
				}
				slices.Sort(want)
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.OperatorCommitments(s.ctx, &types.QueryOperatorCommitmentsRequest{Operator: ops[0], Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					// the pools are those of the page's services, once each, in order
					var services, pools []uint64
					for _, c := range res.Commitments {
						if len(services) == 0 || services[len(services)-1] != c.ServiceId {
							services = append(services, c.ServiceId)
						}
					}
					for _, pool := range res.Pools {
						s.Require().Equal(ops[0], pool.Operator)
						pools = append(pools, pool.ServiceId)
					}
					s.Require().Equal(services, pools)
					return keysOf(res.Commitments, func(c types.Commitment) string {
						s.Require().Equal(ops[0], c.Operator)
						return idKey(c.ServiceId) + "/" + c.Committer
					}), res.Pagination, nil
				}
			},
		},
		{
			name: "ServiceCommitments: the service's only, by operator and committer",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(stakeManifest("0.51"), pageItems/2)
				other := s.createService(stakeManifest("0.51"))
				s.optIn(ops[0], other)
				var want []string
				for i := 0; i < pageItems; i++ {
					op := ops[i%len(ops)]
					c := s.fundAndCommit(fmt.Sprintf("c%d", i), op, id, 10)
					want = append(want, op+"/"+c)
					if i%3 == 0 {
						s.fundAndCommit(fmt.Sprintf("c%d", i), ops[0], other, 10)
					}
				}
				slices.Sort(want)
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.ServiceCommitments(s.ctx, &types.QueryServiceCommitmentsRequest{ServiceId: id, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Commitments, func(c types.Commitment) string {
						s.Require().Equal(id, c.ServiceId)
						return c.Operator + "/" + c.Committer
					}), res.Pagination, nil
				}
			},
		},
		{
			name: "ServicePower: the service's operators, by address, 0 for no stake",
			malleate: func() ([]string, lister) {
				id, ops := s.setupService(stakeManifest("0.51"), pageItems)
				other := s.createService(stakeManifest("0.51"))
				s.optIn(s.registerOperator("elsewhere"), other)
				var want []string
				for i, op := range ops {
					power := 0
					if i%3 != 0 {
						power = 10 + i
						s.fundAndCommit(fmt.Sprintf("c%d", i), op, id, int64(power))
					}
					want = append(want, fmt.Sprintf("%s=%d", op, power))
				}
				slices.Sort(want)
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{ServiceId: id, Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.Current, func(p types.OperatorPower) string {
						return fmt.Sprintf("%s=%d", p.Operator, p.Power)
					}), res.Pagination, nil
				}
			},
		},
		{
			name: "RemoteResults: by channel and sequence",
			malleate: func() ([]string, lister) {
				var want []string
				for i := 0; i < pageItems; i++ {
					r := types.RemoteResult{Channel: fmt.Sprintf("channel-%d", i%3), Sequence: uint64(i)}
					s.Require().NoError(s.keeper.RemoteResults.Set(s.ctx, collections.Join(r.Channel, r.Sequence), r))
					want = append(want, r.Channel+"/"+idKey(r.Sequence))
				}
				slices.Sort(want)
				return want, func(p *query.PageRequest) ([]string, *query.PageResponse, error) {
					res, err := s.queryServer.RemoteResults(s.ctx, &types.QueryRemoteResultsRequest{Pagination: p})
					if err != nil {
						return nil, nil, err
					}
					return keysOf(res.RemoteResults, func(r types.RemoteResult) string {
						return r.Channel + "/" + idKey(r.Sequence)
					}), res.Pagination, nil
				}
			},
		},
	}
	for _, tc := range testCases {
		s.Run(tc.name, func() {
			s.SetupTest()
			want, list := tc.malleate()
			s.requirePages(want, list)
		})
	}
}

// TestL10RewardsPages: Rewards sums one page of the committer's commitments
// (the page Commitments lists); the pages add up to what WithdrawRewards pays.
func (s *KeeperTestSuite) TestL10RewardsPages() {
	s.setParams(func(p *types.Params) { p.MaxSnapshotOperators = 2 * pageItems }) // every operator may vote
	id, ops := s.setupService(stakeManifest("0.51"), pageItems)
	alice := s.fund("alice", 10*pageItems)
	for _, op := range ops {
		s.commit(alice, op, id, 10)
	}
	s.nextEpoch() // commitments earn from the epoch after they were made (L-2)
	task := s.payTask(id, 1_000_000)
	for _, op := range ops {
		if s.mustVote(op, task, "A") == types.TASK_STATUS_COMPLETED {
			break
		}
	}

	var (
		total int64
		key   []byte
		pages int
	)
	for {
		page := &query.PageRequest{Key: key, Limit: pageSize}
		rres, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: alice, Pagination: page})
		s.Require().NoError(err)
		cres, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: alice, Pagination: page})
		s.Require().NoError(err)
		var sum int64
		for _, c := range cres.Commitments {
			sum += c.PendingRewards.Amount.Int64()
		}
		s.Require().Equal(sum, rres.Rewards.Amount.Int64(), "page %d", pages)
		s.Require().Equal(cres.Pagination.NextKey, rres.Pagination.NextKey)
		total += sum
		pages++
		if key = rres.Pagination.NextKey; len(key) == 0 {
			break
		}
	}
	s.Require().Equal((pageItems+pageSize-1)/pageSize, pages)
	s.Require().Positive(total)
	s.Require().Equal(total, s.withdraw(alice))

	_, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: alice, Pagination: &query.PageRequest{Limit: types.MaxPageLimit + 1}})
	s.Require().Equal(codes.InvalidArgument, status.Code(err))
}

// queryGas is the gas a query reads on a fresh meter.
func (s *KeeperTestSuite) queryGas(q func() error) storetypes.Gas {
	saved := s.ctx
	defer func() { s.ctx = saved }()
	s.ctx = s.ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
	s.Require().NoError(q())
	return s.ctx.GasMeter().GasConsumed()
}

// TestL10QueriesReadOnlyTheirPage: the queries the review named (Commitments
// walking every unbonding entry, ServiceCommitments filtering every
// commitment, ServicePower walking every opt-in), and the other stake
// queries, cost the same for a default page whether the list they page holds
// 150 or 450 items and whatever else is in the store: they read their page
// through an index or prefix, not the table.
func (s *KeeperTestSuite) TestL10QueriesReadOnlyTheirPage() {
	type namedQuery struct {
		name string
		run  func(w world) error
	}
	queries := []namedQuery{
		{"Commitments", func(w world) error {
			_, err := s.queryServer.Commitments(s.ctx, &types.QueryCommitmentsRequest{Committer: w.alice})
			return err
		}},
		{"Unbonding", func(w world) error {
			_, err := s.queryServer.Unbonding(s.ctx, &types.QueryUnbondingRequest{Committer: w.alice})
			return err
		}},
		{"Rewards", func(w world) error {
			_, err := s.queryServer.Rewards(s.ctx, &types.QueryRewardsRequest{Committer: w.alice})
			return err
		}},
		{"ServiceCommitments", func(w world) error {
			_, err := s.queryServer.ServiceCommitments(s.ctx, &types.QueryServiceCommitmentsRequest{ServiceId: w.service})
			return err
		}},
		{"ServicePower", func(w world) error {
			_, err := s.queryServer.ServicePower(s.ctx, &types.QueryServicePowerRequest{ServiceId: w.service})
			return err
		}},
		{"OperatorCommitments", func(w world) error {
			_, err := s.queryServer.OperatorCommitments(s.ctx, &types.QueryOperatorCommitmentsRequest{Operator: w.ops[0]})
			return err
		}},
		{"Operator", func(w world) error {
			_, err := s.queryServer.Operator(s.ctx, &types.QueryOperatorRequest{Address: w.ops[0]})
			return err
		}},
	}
	gas := func(items, unrelated int) map[string]storetypes.Gas {
		s.SetupTest()
		w := s.buildWorld(items, unrelated)
		out := map[string]storetypes.Gas{}
		for _, q := range queries {
			out[q.name] = s.queryGas(func() error { return q.run(w) })
		}
		return out
	}
	small, large := gas(pageItems, 0), gas(3*pageItems, 2*pageItems)
	for _, q := range queries {
		s.Require().Positive(small[q.name], q.name)
		s.Require().Equal(small[q.name], large[q.name], "%s: gas for a default page grew with the store", q.name)
	}
}

// world is the state TestL10QueriesReadOnlyTheirPage queries.
type world struct {
	alice   string
	service uint64
	ops     []string
}

// buildWorld: alice commits to items operators of a service (and unbonds
// items times from the first); the first operator is opted in to items
// services; unrelated committers, unbonding entries, operators and opt-ins
// sit in another service. Every item has the same size, so that a page's
// gas does not depend on which items it holds.
func (s *KeeperTestSuite) buildWorld(items, unrelated int) world {
	s.startClock()
	s.creator()
	id := s.createService(stakeManifest("0.51"))
	ops := make([]string, items)
	for i := range ops {
		ops[i] = s.registerOperator(fmt.Sprintf("op%04d", i)) // monikers of one length
		s.optIn(ops[i], id)
	}
	alice := s.fund("alice", int64(1000*items))
	for _, op := range ops {
		s.commit(alice, op, id, 100)
	}
	for i := 0; i < items; i++ {
		s.uncommit(alice, ops[0], id, 1)
		s.commit(alice, ops[0], id, 1) // keep the commitment's size
	}
	svc, err := s.keeper.Services.Get(s.ctx, id)
	s.Require().NoError(err)
	digest := svc.Manifest.ComponentDigest
	for i := 0; i < items; i++ {
		s.optIn(ops[0], s.createService(withDigest(stakeManifest("0.51"), digest)))
	}
	elsewhere := s.createService(withDigest(stakeManifest("0.51"), digest))
	for i := 0; i < unrelated; i++ {
		op := s.registerOperator(fmt.Sprintf("other%d", i))
		s.optIn(op, elsewhere)
		c := s.fundAndCommit(fmt.Sprintf("bystander%d", i), op, elsewhere, 100)
		s.uncommit(c, op, elsewhere, 1)
	}
	return world{alice: alice, service: id, ops: ops}
}

func withDigest(m types.ServiceManifest, digest string) types.ServiceManifest {
	m.ComponentDigest = digest
	return m
}
