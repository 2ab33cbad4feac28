package types

import (
	"bytes"
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/bech32"
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
		if err := validatePendingSlash(s); err != nil {
			return fail("%s", err)
		}
		services[s.Id] = s
	}
	revisions, err := gs.validateRevisions(services, components)
	if err != nil {
		return err
	}
	operators := make(map[string]bool, len(gs.Operators))
	for _, o := range gs.Operators {
		if o.Address == "" || operators[o.Address] {
			return fail("operator %q is empty or appears twice", o.Address)
		}
		if o.Commission.IsNil() || o.Commission.IsNegative() || o.Commission.GT(sdkmath.LegacyOneDec()) {
			// a negative commission pays committers more than the share (L-3)
			return fail("operator %s commission %s is not in [0, 1]", o.Address, o.Commission)
		}
		if !o.PendingCommissionAt.IsZero() && (o.PendingCommission.IsNil() || o.PendingCommission.IsNegative() || o.PendingCommission.GT(sdkmath.LegacyOneDec())) {
			return fail("operator %s pending commission %s is not in [0, 1]", o.Address, o.PendingCommission)
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
		if !revisions[revisionKey{t.ServiceId, t.ServiceRevision}] {
			// its votes are tallied by that revision's rules (H-3)
			return fail("task %d names revision %d of service %d, which is not stored", t.Id, t.ServiceRevision, t.ServiceId)
		}
		if t.Status == TASK_STATUS_UNSPECIFIED {
			return fail("task %d has no status", t.Id)
		}
		if !isBech32(t.Creator) {
			// its refund would fail in EndBlock (L-3)
			return fail("task %d creator %q is not an address", t.Id, t.Creator)
		}
		tasks[t.Id] = true
	}
	snapshots := make(map[string]bool, len(gs.Snapshots))
	for _, s := range gs.Snapshots {
		snapshots[fmt.Sprintf("%d/%d", s.ServiceId, s.Epoch)] = true
	}
	for _, t := range gs.Tasks {
		// votes on a pending task are weighed by its snapshot (L-3)
		if t.Status == TASK_STATUS_PENDING && !snapshots[fmt.Sprintf("%d/%d", t.ServiceId, t.Epoch)] {
			return fail("pending task %d has no power snapshot for service %d epoch %d", t.Id, t.ServiceId, t.Epoch)
		}
	}
	for _, tr := range gs.Treasuries {
		if _, ok := services[tr.ServiceId]; !ok {
			return fail("treasury names unknown service %d", tr.ServiceId)
		}
		if tr.Amount.IsNil() || tr.Amount.IsNegative() {
			return fail("treasury of service %d is negative or missing", tr.ServiceId)
		}
	}
	eventTasks := make(map[uint64]bool)
	for _, t := range gs.Tasks {
		eventTasks[t.Id] = t.Origin.IsEventOrigin()
	}
	votes := make(map[string]bool, len(gs.Votes))
	for _, v := range gs.Votes {
		if !tasks[v.TaskId] {
			return fail("vote names unknown task %d", v.TaskId)
		}
		// a vote on an event task is tallied with the input it read (M-3)
		if eventTasks[v.TaskId] != (v.InputDigest != "") || (v.InputDigest != "" && !IsValidDigest(v.InputDigest)) {
			return fail("vote of %s on task %d: input_digest %q must be a hex sha256 on an event task and empty on another", v.Operator, v.TaskId, v.InputDigest)
		}
		if !isBech32(v.Operator) {
			return fail("vote on task %d: operator %q is not an address", v.TaskId, v.Operator)
		}
		// state keeps a vote's digest as the result's (issue #16)
		if want := VoteDigest(v.Result, v.Failure); v.Digest != want {
			return fail("vote of %s on task %d: digest %q is not its result's (%q)", v.Operator, v.TaskId, v.Digest, want)
		}
		key := fmt.Sprintf("%d/%s", v.TaskId, v.Operator)
		if votes[key] {
			return fail("vote %s appears twice", key)
		}
		votes[key] = true
	}
	byID := make(map[uint64]Task, len(gs.Tasks))
	for _, t := range gs.Tasks {
		byID[t.Id] = t
	}
	commits := make(map[string]bool, len(gs.VoteCommits))
	for _, c := range gs.VoteCommits {
		key := fmt.Sprintf("%d/%s", c.TaskId, c.Operator)
		t, ok := byID[c.TaskId]
		switch {
		case !ok:
			return fail("vote commit names unknown task %d", c.TaskId)
		case !t.IsCommitReveal():
			return fail("vote commit %s: task %d is not COMMIT_REVEAL", key, c.TaskId)
		case !isBech32(c.Operator):
			return fail("vote commit on task %d: operator %q is not an address", c.TaskId, c.Operator)
		case len(c.Commitment) != CommitmentSize:
			return fail("vote commit %s: commitment of %d bytes, want %d", key, len(c.Commitment), CommitmentSize)
		case votes[key]:
			return fail("vote commit %s: a vote on the task by the operator is also there (a reveal spends its commitment)", key)
		case commits[key]:
			return fail("vote commit %s appears twice", key)
		}
		commits[key] = true
	}
	earners := make(map[string]bool, len(gs.OperatorRewards))
	for _, r := range gs.OperatorRewards {
		switch {
		case !isBech32(r.Operator):
			return fail("operator reward of %q: not an address", r.Operator)
		case earners[r.Operator]:
			return fail("operator reward of %s appears twice", r.Operator)
		case r.Amount.IsNil() || !r.Amount.IsPositive():
			return fail("operator reward of %s must be positive", r.Operator)
		}
		earners[r.Operator] = true
	}
	unpaid := make(map[uint64]bool, len(gs.UnpaidTasks))
	for _, id := range gs.UnpaidTasks {
		t, ok := byID[id]
		switch {
		case !ok:
			return fail("unpaid task %d is not a task", id)
		case unpaid[id]:
			return fail("unpaid task %d appears twice", id)
		case t.Status != TASK_STATUS_COMPLETED && t.Status != TASK_STATUS_FAILED, t.Settled:
			return fail("unpaid task %d is %s (settled %t): only a decided task not yet settled awaits its payout", id, t.Status, t.Settled)
		}
		unpaid[id] = true
	}
	if err := gs.validateShares(services, operators, fail); err != nil {
		return err
	}
	if err := gs.validateIBC(byID, fail); err != nil {
		return err
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
	for _, a := range gs.EpochAnswers {
		// kept under the operator's raw address bytes (issue #16)
		if !isBech32(a.Operator) {
			return fail("epoch answers of service %d epoch %d: operator %q is not an address", a.ServiceId, a.Epoch, a.Operator)
		}
	}
	liveness := make(map[string]bool, len(gs.OperatorLiveness))
	for _, l := range gs.OperatorLiveness {
		key := fmt.Sprintf("%d/%s", l.ServiceId, l.Operator)
		if _, ok := services[l.ServiceId]; !ok || !operators[l.Operator] || liveness[key] {
			return fail("operator liveness %s names an unknown service or operator, or appears twice", key)
		}
		if l.Liveness.WindowMissed > l.Liveness.WindowTasks {
			return fail("operator liveness %s: window_missed %d > window_tasks %d", key, l.Liveness.WindowMissed, l.Liveness.WindowTasks)
		}
		liveness[key] = true
	}
	return gs.validatePruning(tasks)
}

// validateIBC checks the IBC records: a packet still owed an acknowledgement
// is the request that opened its task (acknowledged when the task ends), one
// per task; a remote or pushed result appears once per (channel, sequence).
func (gs GenesisState) validateIBC(tasks map[uint64]Task, fail func(string, ...any) error) error {
	owed := make(map[uint64]bool, len(gs.IbcPackets))
	for _, p := range gs.IbcPackets {
		t, ok := tasks[p.TaskId]
		ref := fmt.Sprintf("%s/%d", p.Packet.DestinationChannel, p.Packet.Sequence)
		switch {
		case !ok:
			return fail("IBC packet names unknown task %d", p.TaskId)
		case owed[p.TaskId]:
			return fail("IBC packet of task %d appears twice", p.TaskId)
		case t.Origin.Kind != ORIGIN_KIND_IBC || t.Origin.Ref != ref:
			return fail("IBC packet %s did not open task %d (origin %s %q)", ref, p.TaskId, t.Origin.Kind, t.Origin.Ref)
		}
		owed[p.TaskId] = true
	}
	for kind, list := range map[string][]RemoteResult{"remote result": gs.RemoteResults, "pushed result": gs.PushedResults} {
		seen := make(map[string]bool, len(list))
		for _, r := range list {
			key := fmt.Sprintf("%s/%d", r.Channel, r.Sequence)
			if seen[key] {
				return fail("%s %s appears twice", kind, key)
			}
			seen[key] = true
		}
	}
	return nil
}

// revisionKey is a (service, revision) pair.
type revisionKey struct{ service, revision uint64 }

// validatePendingSlash checks a service's revision and its pending
// slash_fraction raise: above the current fraction, at most 1.
func validatePendingSlash(s Service) error {
	if s.Revision == 0 {
		return fmt.Errorf("service %d has no revision (revisions start at 1)", s.Id)
	}
	if s.PendingSlashAt.IsZero() {
		if !s.PendingSlashFraction.IsNil() && !s.PendingSlashFraction.IsZero() {
			return fmt.Errorf("service %d has a pending slash_fraction %s without its time", s.Id, s.PendingSlashFraction)
		}
		return nil
	}
	current := sdkmath.LegacyZeroDec()
	if !s.Manifest.SlashFraction.IsNil() {
		current = s.Manifest.SlashFraction
	}
	if p := s.PendingSlashFraction; p.IsNil() || !p.GT(current) || p.GT(sdkmath.LegacyOneDec()) {
		return fmt.Errorf("service %d pending slash_fraction %s is not in (%s, 1]", s.Id, p, current)
	}
	return nil
}

// validateRevisions checks the stored service revisions (H-3): each names a
// service, at most its revision, once, with a valid manifest of a known
// component; every service's current revision is stored and is its manifest.
// It returns the (service, revision) pairs stored.
func (gs GenesisState) validateRevisions(services map[uint64]Service, components map[string]bool) (map[revisionKey]bool, error) {
	fail := func(format string, args ...any) error {
		return errorsmod.Wrapf(ErrInvalidGenesis, format, args...)
	}
	revisions := make(map[revisionKey]bool, len(gs.ServiceRevisions))
	current := make(map[uint64]ServiceManifest, len(services))
	for _, r := range gs.ServiceRevisions {
		s, ok := services[r.ServiceId]
		if !ok {
			return nil, fail("service revision names unknown service %d", r.ServiceId)
		}
		if r.Revision == 0 || r.Revision > s.Revision {
			return nil, fail("revision %d of service %d is above the service's revision %d, or 0", r.Revision, r.ServiceId, s.Revision)
		}
		key := revisionKey{r.ServiceId, r.Revision}
		if revisions[key] {
			return nil, fail("service revision %d/%d appears twice", r.ServiceId, r.Revision)
		}
		if err := r.Manifest.Validate(gs.Params); err != nil {
			return nil, fail("service %d revision %d: %s", r.ServiceId, r.Revision, err)
		}
		if !components[r.Manifest.ComponentDigest] {
			return nil, fail("service %d revision %d uses unknown component %s", r.ServiceId, r.Revision, r.Manifest.ComponentDigest)
		}
		revisions[key] = true
		if r.Revision == s.Revision {
			current[r.ServiceId] = r.Manifest
		}
	}
	for _, s := range gs.Services {
		m, ok := current[s.Id]
		if !ok {
			return nil, fail("service %d revision %d is not stored", s.Id, s.Revision)
		}
		a, err := m.Marshal()
		if err != nil {
			return nil, err
		}
		b, err := s.Manifest.Marshal()
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(a, b) {
			return nil, fail("service %d revision %d is not the service's manifest", s.Id, s.Revision)
		}
	}
	return revisions, nil
}

// validatePruning checks the tombstones and the pruned tasks' event
// references: each names an issued id that is no longer a task, once.
func (gs GenesisState) validatePruning(tasks map[uint64]bool) error {
	fail := func(format string, args ...any) error {
		return errorsmod.Wrapf(ErrInvalidGenesis, format, args...)
	}
	pruned := func(kind string, id uint64) error {
		if id == 0 || id >= gs.NextTaskId {
			return fail("%s names task %d outside [1, next_task_id %d)", kind, id, gs.NextTaskId)
		}
		if tasks[id] {
			return fail("%s names task %d, which is not pruned", kind, id)
		}
		return nil
	}
	tombstones := make(map[uint64]bool, len(gs.PrunedTasks))
	for _, p := range gs.PrunedTasks {
		if err := pruned("pruned_tasks", p.TaskId); err != nil {
			return err
		}
		if tombstones[p.TaskId] {
			return fail("pruned task %d appears twice", p.TaskId)
		}
		if p.Height <= 0 {
			return fail("pruned task %d has height %d", p.TaskId, p.Height)
		}
		tombstones[p.TaskId] = true
	}
	events := make(map[string]bool, len(gs.PrunedEventRefs))
	for _, t := range gs.Tasks {
		if t.Origin.IsEventOrigin() {
			events[strings.TrimPrefix(t.Origin.Ref, EventRefPrefix)] = true
		}
	}
	for _, r := range gs.PrunedEventRefs {
		if err := pruned("pruned_event_refs", r.TaskId); err != nil {
			return err
		}
		if r.Event == "" || events[r.Event] {
			return fail("pruned event ref %q is empty or appears twice", r.Event)
		}
		events[r.Event] = true
	}
	return nil
}

// validateShares checks the share accounting of the commitment and unbonding
// pools: amounts are not negative, a pool's tokens never exceed its shares
// and it has no tokens without shares, and the shares of its current
// generation's holders add up to its shares. Every record appears once.
func (gs GenesisState) validateShares(services map[uint64]Service, operators map[string]bool, fail func(string, ...any) error) error {
	negative := func(x sdkmath.Int) bool { return x.IsNil() || x.IsNegative() }
	checkPool := func(kind, key string, tokens, shares, held sdkmath.Int) error {
		if negative(tokens) || negative(shares) {
			return fail("%s %s has negative or missing tokens or shares", kind, key)
		}
		if tokens.GT(shares) {
			return fail("%s %s holds %s tokens for %s shares: tokens never exceed shares", kind, key, tokens, shares)
		}
		if !shares.Equal(held) {
			return fail("%s %s has %s shares, its holders %s", kind, key, shares, held)
		}
		return nil
	}

	type poolGen struct {
		key        string
		generation uint64
	}
	held := map[poolGen]sdkmath.Int{}
	add := func(k poolGen, x sdkmath.Int) {
		if v, ok := held[k]; ok {
			held[k] = v.Add(x)
		} else {
			held[k] = x
		}
	}
	commitments := make(map[string]bool, len(gs.Commitments))
	for _, c := range gs.Commitments {
		if _, ok := services[c.ServiceId]; !ok || !operators[c.Operator] {
			return fail("commitment of %s names unknown operator %s or service %d", c.Committer, c.Operator, c.ServiceId)
		}
		key := fmt.Sprintf("%s/%d", c.Operator, c.ServiceId)
		if commitments[key+"/"+c.Committer] {
			return fail("commitment of %s to %s appears twice", c.Committer, key)
		}
		commitments[key+"/"+c.Committer] = true
		if negative(c.Shares) || negative(c.Unclaimed) || c.RewardIndex.IsNil() || c.RewardIndex.IsNegative() {
			return fail("commitment of %s to %s has negative or missing shares, unclaimed or reward index", c.Committer, key)
		}
		if !c.PendingShares.IsNil() && (c.PendingShares.IsNegative() || c.PendingShares.GT(c.Shares)) {
			return fail("commitment of %s to %s has pending shares %s outside [0, shares]", c.Committer, key, c.PendingShares)
		}
		add(poolGen{key, c.Generation}, c.Shares)
	}
	ends := make(map[poolGen]bool, len(gs.PoolGenerationEnds))
	for _, e := range gs.PoolGenerationEnds {
		k := poolGen{fmt.Sprintf("%s/%d", e.Operator, e.ServiceId), e.Generation}
		if ends[k] {
			return fail("end of generation %d of pool %s appears twice", e.Generation, k.key)
		}
		if e.RewardIndex.IsNil() || e.RewardIndex.IsNegative() {
			return fail("end of generation %d of pool %s has a negative reward index", e.Generation, k.key)
		}
		ends[k] = true
	}
	joins := make(map[string]bool, len(gs.PendingJoins))
	for _, j := range gs.PendingJoins {
		k := fmt.Sprintf("%s/%d/%d", j.Operator, j.ServiceId, j.Epoch)
		if joins[k] {
			return fail("pending join %s appears twice", k)
		}
		if j.Holders == 0 || j.RewardIndex.IsNil() || j.RewardIndex.IsNegative() {
			return fail("pending join %s has no holders or a negative reward index", k)
		}
		joins[k] = true
	}
	pools := make(map[string]Pool, len(gs.Pools))
	for _, p := range gs.Pools {
		key := fmt.Sprintf("%s/%d", p.Operator, p.ServiceId)
		if _, dup := pools[key]; dup {
			return fail("pool %s appears twice", key)
		}
		pools[key] = p
		sum, ok := held[poolGen{key, p.Generation}]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		if err := checkPool("pool", key, p.Total, p.Shares, sum); err != nil {
			return err
		}
		if negative(p.Outstanding) || p.RewardIndex.IsNil() || p.RewardIndex.IsNegative() {
			return fail("pool %s has negative or missing outstanding rewards or reward index", key)
		}
		if !p.PendingShares.IsNil() && (p.PendingShares.IsNegative() || p.PendingShares.GT(p.Shares)) {
			return fail("pool %s has pending shares %s outside [0, shares]", key, p.PendingShares)
		}
	}
	for k, sum := range held {
		p, ok := pools[k.key]
		if !ok {
			if sum.IsPositive() {
				return fail("commitments to %s have no pool", k.key)
			}
			continue
		}
		if k.generation > p.Generation || (k.generation < p.Generation && !ends[k]) {
			return fail("commitments to %s of generation %d: the pool is at generation %d and that generation has no end", k.key, k.generation, p.Generation)
		}
	}

	type unbondingKey struct {
		key        string
		generation uint64
	}
	entryShares := map[unbondingKey]sdkmath.Int{}
	entryIDs := make(map[uint64]bool, len(gs.Unbonding))
	for _, e := range gs.Unbonding {
		if e.Id >= gs.NextUnbondingId {
			return fail("unbonding entry %d is not below next_unbonding_id %d", e.Id, gs.NextUnbondingId)
		}
		if entryIDs[e.Id] {
			return fail("unbonding entry %d appears twice", e.Id)
		}
		entryIDs[e.Id] = true
		if !isBech32(e.Committer) {
			// its release would fail in EndBlock (L-3)
			return fail("unbonding entry %d committer %q is not an address", e.Id, e.Committer)
		}
		if negative(e.Shares) || negative(e.Amount) {
			return fail("unbonding entry %d has negative or missing shares or amount", e.Id)
		}
		k := unbondingKey{fmt.Sprintf("%s/%d/%d", e.Operator, e.ServiceId, e.Epoch), e.Generation}
		if v, ok := entryShares[k]; ok {
			entryShares[k] = v.Add(e.Shares)
		} else {
			entryShares[k] = e.Shares
		}
	}
	unbonding := make(map[string]bool, len(gs.UnbondingPools))
	for _, u := range gs.UnbondingPools {
		key := fmt.Sprintf("%s/%d/%d", u.Operator, u.ServiceId, u.Epoch)
		if unbonding[key] {
			return fail("unbonding pool %s appears twice", key)
		}
		unbonding[key] = true
		if u.Shares.IsNil() || !u.Shares.IsPositive() {
			return fail("unbonding pool %s has no shares: it would have been removed", key)
		}
		sum, ok := entryShares[unbondingKey{key, u.Generation}]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		if err := checkPool("unbonding pool", key, u.Total, u.Shares, sum); err != nil {
			return err
		}
	}
	return nil
}

// isBech32 reports whether s is a bech32 address, whatever its prefix (the
// app sets the prefix; genesis validation does not depend on it).
func isBech32(s string) bool {
	_, bz, err := bech32.DecodeAndConvert(s)
	return err == nil && len(bz) > 0
}
