package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
)

// DefaultGenesis returns the genesis state of a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextServiceId: 1, NextTaskId: 1}
}

// Validate checks the genesis state before it is imported: params, and that
// every record is unique and refers to records that exist.
func (gs GenesisState) Validate() error {
	fail := func(format string, args ...any) error {
		return errorsmod.Wrapf(ErrInvalidGenesis, format, args...)
	}
	if err := gs.Params.Validate(); err != nil {
		return fail("%s", err)
	}
	components := make(map[string]bool, len(gs.Components))
	for _, c := range gs.Components {
		if !IsValidDigest(c.Component.Digest) {
			return fail("component digest %q is not a hex sha256", c.Component.Digest)
		}
		if components[c.Component.Digest] {
			return fail("component %s appears twice", c.Component.Digest)
		}
		if len(c.CodeGzip) == 0 {
			return fail("component %s has no code", c.Component.Digest)
		}
		components[c.Component.Digest] = true
	}
	if gs.NextServiceId == 0 || gs.NextTaskId == 0 {
		return fail("next_service_id and next_task_id start at 1")
	}
	services := make(map[uint64]Service, len(gs.Services))
	for _, s := range gs.Services {
		if s.Id == 0 || s.Id >= gs.NextServiceId {
			return fail("service id %d outside [1, next_service_id %d)", s.Id, gs.NextServiceId)
		}
		if _, dup := services[s.Id]; dup {
			return fail("service %d appears twice", s.Id)
		}
		if s.Owner == "" {
			return fail("service %d has no owner", s.Id)
		}
		if err := s.Manifest.Validate(gs.Params); err != nil {
			return fail("service %d: %s", s.Id, err)
		}
		if !components[s.Manifest.ComponentDigest] {
			return fail("service %d uses unknown component %s", s.Id, s.Manifest.ComponentDigest)
		}
		services[s.Id] = s
	}
	operators := make(map[string]bool, len(gs.Operators))
	for _, o := range gs.Operators {
		if o.Address == "" || operators[o.Address] {
			return fail("operator %q is empty or appears twice", o.Address)
		}
		operators[o.Address] = true
	}
	seenPair := func(kind string, list []ServiceOperator, needOperator bool) error {
		seen := make(map[string]bool, len(list))
		for _, p := range list {
			if _, ok := services[p.ServiceId]; !ok {
				return fail("%s entry names unknown service %d", kind, p.ServiceId)
			}
			if needOperator && !operators[p.Operator] {
				return fail("%s entry names unknown operator %s", kind, p.Operator)
			}
			key := fmt.Sprintf("%d/%s", p.ServiceId, p.Operator)
			if seen[key] {
				return fail("%s entry %s appears twice", kind, key)
			}
			seen[key] = true
		}
		return nil
	}
	if err := seenPair("opt-in", gs.OptIns, true); err != nil {
		return err
	}
	if err := seenPair("allowlist", gs.Allowlist, false); err != nil {
		return err
	}
	tasks := make(map[uint64]bool, len(gs.Tasks))
	for _, t := range gs.Tasks {
		if t.Id == 0 || t.Id >= gs.NextTaskId {
			return fail("task id %d outside [1, next_task_id %d)", t.Id, gs.NextTaskId)
		}
		if tasks[t.Id] {
			return fail("task %d appears twice", t.Id)
		}
		if _, ok := services[t.ServiceId]; !ok {
			return fail("task %d names unknown service %d", t.Id, t.ServiceId)
		}
		if t.Status == TASK_STATUS_UNSPECIFIED {
			return fail("task %d has no status", t.Id)
		}
		tasks[t.Id] = true
	}
	votes := make(map[string]bool, len(gs.Votes))
	for _, v := range gs.Votes {
		if !tasks[v.TaskId] {
			return fail("vote names unknown task %d", v.TaskId)
		}
		key := fmt.Sprintf("%d/%s", v.TaskId, v.Operator)
		if votes[key] {
			return fail("vote %s appears twice", key)
		}
		votes[key] = true
	}
	pools := map[string]sdkmath.Int{}
	for _, c := range gs.Commitments {
		if _, ok := services[c.ServiceId]; !ok || !operators[c.Operator] {
			return fail("commitment of %s names unknown operator %s or service %d", c.Committer, c.Operator, c.ServiceId)
		}
		if c.Amount.IsNil() || c.Amount.IsNegative() {
			return fail("commitment of %s to %s has a negative amount", c.Committer, c.Operator)
		}
		key := fmt.Sprintf("%s/%d", c.Operator, c.ServiceId)
		if _, ok := pools[key]; !ok {
			pools[key] = sdkmath.ZeroInt()
		}
		pools[key] = pools[key].Add(c.Amount)
	}
	for _, p := range gs.Pools {
		key := fmt.Sprintf("%s/%d", p.Operator, p.ServiceId)
		sum, ok := pools[key]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		if p.Total.IsNil() || !p.Total.Equal(sum) {
			return fail("pool %s total %s is not the sum of its commitments %s", key, p.Total, sum)
		}
		delete(pools, key)
	}
	for key, sum := range pools {
		if sum.IsPositive() {
			return fail("commitments to %s have no pool", key)
		}
	}
	for _, e := range gs.Unbonding {
		if e.Id >= gs.NextUnbondingId {
			return fail("unbonding entry %d is not below next_unbonding_id %d", e.Id, gs.NextUnbondingId)
		}
	}
	for _, s := range gs.Snapshots {
		if _, ok := services[s.ServiceId]; !ok {
			return fail("snapshot names unknown service %d", s.ServiceId)
		}
		var total uint64
		for _, p := range s.Powers {
			total += p.Power
		}
		if total != s.Total {
			return fail("snapshot %d/%d total %d is not the sum of its powers %d", s.ServiceId, s.Epoch, s.Total, total)
		}
	}
	return nil
}
