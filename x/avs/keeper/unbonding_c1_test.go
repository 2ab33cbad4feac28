package keeper_test

import (
	"fmt"
	"sort"
	"time"

	"github.com/avschain/avschain/x/avs/types"
)

// C-1 (security review), unbonding releases: MatureUnbonding paid every due
// entry in one EndBlock, however many there were. It now stops after
// max_releases_per_block entries; the rest stay in the time index and go
// first in the next block. 1,000 entries due in one block with a budget of
// 300 are released over 4 blocks (300, 300, 300, 100), in maturity order
// (completion time, then id), each exactly once, each committer paid what
// it uncommitted, and the module balance invariant holds after every block.
func (s *KeeperTestSuite) TestC1UnbondingReleasesCarryOverInMaturityOrder() {
	const entries, budget, committers = 1000, 300, 10
	s.startClock()
	s.setParams(func(p *types.Params) { p.MaxReleasesPerBlock = budget })
	id, ops := s.setupService(defaultManifest(""), 1)
	who := make([]string, committers)
	for i := range who {
		who[i] = s.fundAndCommit(fmt.Sprintf("c%d", i), ops[0], id, 100_000)
	}
	type due struct {
		id  uint64
		at  time.Time
		who string
		amt int64
	}
	var all []due
	owed := map[string]int64{}
	for i := range entries {
		// completion times out of id order, several entries per instant
		s.ctx = s.ctx.WithBlockTime(stakeStart.Add(time.Duration((i*7)%250) * time.Millisecond))
		c, amt := who[i%committers], int64(1+i%13)
		res := s.uncommit(c, ops[0], id, amt)
		all = append(all, due{res.EntryId, res.CompletionTime, c, amt})
		owed[c] += amt
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].at.Equal(all[j].at) {
			return all[i].at.Before(all[j].at)
		}
		return all[i].id < all[j].id
	})
	s.requireBalanced()
	before := map[string]int64{}
	for _, c := range who {
		before[c] = s.balance(c).Int64()
	}

	// every entry is due from the first block on
	s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).WithBlockTime(all[len(all)-1].at)
	var released []uint64
	for block, want := range []int{300, 300, 300, 100, 0} {
		ctx := s.withEvents()
		s.Require().NoError(s.keeper.EndBlocker(ctx))
		evs := s.typedEvents(ctx, &types.EventUnbondingMatured{})
		s.Require().Len(evs, want, "block %d releases %d entries", block+1, want)
		for _, e := range evs {
			released = append(released, e.(*types.EventUnbondingMatured).EntryId)
		}
		s.Require().Len(multiKeys(s, s.ctx, s.keeper.Unbonding.Indexes.ByTime), entries-len(released), "the rest carry over")
		s.requireBalanced()
		s.ctx = s.ctx.WithBlockHeight(s.ctx.BlockHeight() + 1).WithBlockTime(s.ctx.BlockTime().Add(time.Second))
	}

	s.Require().Len(released, entries)
	for i, d := range all {
		s.Require().Equal(d.id, released[i], "release %d is the %d-th entry to mature", i, i)
	}
	for _, c := range who {
		s.Require().Equal(owed[c], s.balance(c).Int64()-before[c], "%s is paid what it uncommitted, once", c)
	}
	s.Require().Empty(s.unbondingPools())
}
