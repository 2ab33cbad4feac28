package types

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// Bounds on a service manifest that do not depend on module params.
const (
	MaxServiceNameLength  = 64
	MaxConfigEntries      = 64
	MaxConfigBytes        = 8 << 10
	MaxAllowListHosts     = 32
	MaxTimeLimitMs        = 60_000
	MaxMemoryPages        = 65_536 // 4 GiB, the wasm32 maximum
	MaxMinOperators       = 1_000
	DefaultTimeLimitMs    = 5_000
	DefaultMemoryPages    = 256 // 16 MiB
	DefaultOutputBytesCap = 4 << 10
	MaxTriggers           = 8
	// MaxIBCChannels bounds each of ibc_request_channels and
	// ibc_result_channels: every completion pushes to each result channel.
	MaxIBCChannels = 8
	// MaxCronLength bounds a cron schedule string.
	MaxCronLength = 128
	// MaxEventFieldLength bounds an event trigger's type and each filter's key
	// and value.
	MaxEventFieldLength = 128
)

var (
	envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostRe   = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
)

// Validate checks everything in a manifest that needs no state beyond the
// module params: names, limits, quorum rule, aggregation, fee. That the
// handler address decodes and the component exists is checked by the msg
// server and the keeper.
func (m ServiceManifest) Validate(p Params) error {
	fail := func(format string, args ...any) error {
		return errorsmod.Wrapf(ErrInvalidManifest, format, args...)
	}
	if strings.TrimSpace(m.Name) == "" || len(m.Name) > MaxServiceNameLength {
		return fail("name must be 1 to %d characters", MaxServiceNameLength)
	}
	if !IsValidDigest(m.ComponentDigest) {
		return fail("component_digest %q is not a lower-case hex sha256", m.ComponentDigest)
	}
	if len(m.Config) > MaxConfigEntries {
		return fail("config has %d entries, at most %d allowed", len(m.Config), MaxConfigEntries)
	}
	configBytes := 0
	seen := make(map[string]bool, len(m.Config))
	for _, e := range m.Config {
		k, v := e.Key, e.Value
		if seen[k] {
			return fail("config key %q appears twice", k)
		}
		seen[k] = true
		if !envKeyRe.MatchString(k) {
			return fail("config key %q is not a valid environment variable name", k)
		}
		if strings.HasPrefix(strings.ToUpper(k), "AVS_") {
			return fail("config key %q: the AVS_ prefix is reserved for task context", k)
		}
		configBytes += len(k) + len(v)
	}
	if configBytes > MaxConfigBytes {
		return fail("config is %d bytes, at most %d allowed", configBytes, MaxConfigBytes)
	}

	l := m.Limits
	if l.TimeMs == 0 || l.TimeMs > MaxTimeLimitMs {
		return fail("limits.time_ms must be 1 to %d", MaxTimeLimitMs)
	}
	if l.MemoryPages == 0 || l.MemoryPages > MaxMemoryPages {
		return fail("limits.memory_pages must be 1 to %d", MaxMemoryPages)
	}
	if l.OutputBytes == 0 || l.OutputBytes > p.MaxResultSize {
		return fail("limits.output_bytes must be 1 to max_result_size (%d)", p.MaxResultSize)
	}
	if len(l.HttpAllowList) > MaxAllowListHosts {
		return fail("limits.http_allow_list has %d hosts, at most %d allowed", len(l.HttpAllowList), MaxAllowListHosts)
	}
	for _, h := range l.HttpAllowList {
		if !hostRe.MatchString(h) {
			return fail("limits.http_allow_list entry %q is not a host or host:port (no scheme, no path)", h)
		}
		if err := checkAllowListHost(h); err != nil {
			return fail("limits.http_allow_list entry %q: %s", h, err)
		}
	}

	q := m.Quorum
	if q.Threshold.IsNil() || !q.Threshold.IsPositive() || q.Threshold.GT(sdkmath.LegacyOneDec()) {
		return fail("quorum.threshold must be in (0, 1], got %s", decString(q.Threshold))
	}
	switch q.Weighting {
	case WEIGHTING_EQUAL, WEIGHTING_STAKE:
	default:
		return fail("unknown quorum.weighting %d", q.Weighting)
	}
	if q.MinOperators > MaxMinOperators {
		return fail("quorum.min_operators must be at most %d", MaxMinOperators)
	}
	if !q.Threshold.GT(HalfThreshold) {
		return errorsmod.Wrapf(ErrWeakThreshold, "quorum.threshold is %s: set it above 0.5 (for example 0.67), so that no two disjoint sets of operators can each make a quorum", q.Threshold)
	}
	if !m.MinSelfStake.IsNil() && m.MinSelfStake.IsNegative() {
		return fail("min_self_stake must not be negative, got %s", m.MinSelfStake)
	}

	a := m.Aggregation
	switch a.Mode {
	case AGGREGATION_MODE_EXACT:
		if (!a.AllowedSpread.IsNil() && !a.AllowedSpread.IsZero()) || (!a.SlashableSpread.IsNil() && !a.SlashableSpread.IsZero()) {
			return fail("aggregation spreads apply only to MEDIAN")
		}
	case AGGREGATION_MODE_MEDIAN:
		if a.AllowedSpread.IsNil() || a.AllowedSpread.IsNegative() || a.AllowedSpread.GT(sdkmath.LegacyOneDec()) {
			return fail("aggregation.allowed_spread must be in [0, 1] for MEDIAN, got %s", decString(a.AllowedSpread))
		}
		if !a.SlashableSpread.IsNil() && !a.SlashableSpread.IsZero() && a.SlashableSpread.LT(a.AllowedSpread) {
			return fail("aggregation.slashable_spread %s is below allowed_spread %s", a.SlashableSpread, a.AllowedSpread)
		}
	default:
		return fail("unknown aggregation.mode %d", a.Mode)
	}

	if m.TaskTimeout > p.MaxTaskTimeout {
		return fail("task_timeout %d exceeds max_task_timeout %d", m.TaskTimeout, p.MaxTaskTimeout)
	}
	if err := validateFee(m.FeePerTask); err != nil {
		return fail("fee_per_task: %s", err)
	}
	if !IsFree(m.FeePerTask) && m.FeePerTask.Denom != p.StakeDenom {
		return fail("fee_per_task must be in the stake denom %s (fees reward committers), got %s", p.StakeDenom, m.FeePerTask.Denom)
	}
	if !m.SlashFraction.IsNil() && (m.SlashFraction.IsNegative() || m.SlashFraction.GT(sdkmath.LegacyOneDec())) {
		return fail("slash_fraction must be in [0, 1], got %s", m.SlashFraction)
	}
	if len(m.Triggers) > MaxTriggers {
		return fail("%d triggers, at most %d allowed", len(m.Triggers), MaxTriggers)
	}
	for i, t := range m.Triggers {
		if err := t.Validate(); err != nil {
			return fail("triggers[%d]: %s", i, err)
		}
	}
	if len(m.Triggers) > 0 && IsFree(m.FeePerTask) {
		// The chain opens trigger tasks by itself: each one must be paid from
		// the treasury, or triggers mint unpaid work forever (H-5).
		return errorsmod.Wrapf(ErrFreeTrigger, "%d triggers with fee_per_task 0: set a fee and fund the treasury", len(m.Triggers))
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"ibc_request_channels", m.IbcRequestChannels}, {"ibc_result_channels", m.IbcResultChannels}} {
		if len(l.list) > MaxIBCChannels {
			return fail("%s has %d channels, at most %d allowed", l.name, len(l.list), MaxIBCChannels)
		}
		dup := make(map[string]bool, len(l.list))
		for _, ch := range l.list {
			if !channeltypes.IsValidChannelID(ch) {
				return fail("%s entry %.80q is not a channel identifier (channel-N)", l.name, ch)
			}
			if dup[ch] {
				return fail("%s lists %s twice", l.name, ch)
			}
			dup[ch] = true
		}
	}
	switch m.VoteMode {
	case VOTE_MODE_OPEN:
		if m.CommitBlocks != 0 {
			return fail("commit_blocks %d is for VOTE_MODE_COMMIT_REVEAL", m.CommitBlocks)
		}
	case VOTE_MODE_COMMIT_REVEAL:
		if m.CommitBlocks > p.MaxCommitBlocks {
			return fail("commit_blocks %d exceeds max_commit_blocks %d", m.CommitBlocks, p.MaxCommitBlocks)
		}
		if cb, timeout := m.CommitBlocksOr(p.MaxCommitBlocks), m.TimeoutOr(p.DefaultTaskTimeout); cb >= timeout {
			return fail("commit_blocks %d must be below the task timeout %d: the reveals need blocks of their own", cb, timeout)
		}
		for i, t := range m.Triggers {
			if t.GetEvent() != nil {
				// An event task is opened by its first vote, which carries the
				// input it read: a commitment cannot.
				return fail("triggers[%d]: an event trigger cannot open COMMIT_REVEAL tasks (their first vote opens them, in the clear)", i)
			}
		}
	default:
		return fail("unknown vote_mode %d", m.VoteMode)
	}
	switch m.Admission {
	case ADMISSION_OPEN, ADMISSION_ALLOWLIST:
	default:
		return fail("unknown admission %d", m.Admission)
	}
	if q.Weighting == WEIGHTING_EQUAL && m.Admission != ADMISSION_ALLOWLIST && (m.MinSelfStake.IsNil() || !m.MinSelfStake.IsPositive()) {
		return errorsmod.Wrap(ErrEqualWeightingOpen, "with WEIGHTING_EQUAL every opted-in operator has the same power, so anyone could register operators for free and take the quorum: "+
			"set admission to ADMISSION_ALLOWLIST (and list the operators), or set min_self_stake > 0 (each operator commits that much to itself), or use WEIGHTING_STAKE")
	}
	return nil
}

// validateFee accepts the zero coin (free) or a valid, non-negative coin.
func validateFee(c sdk.Coin) error {
	if c.Denom == "" && (c.Amount.IsNil() || c.Amount.IsZero()) {
		return nil
	}
	if err := sdk.ValidateDenom(c.Denom); err != nil {
		return err
	}
	if c.Amount.IsNil() || c.Amount.IsNegative() {
		return fmt.Errorf("amount must not be negative")
	}
	return nil
}

// ConfigMap returns the config entries as a map (keys are unique once validated).
func (m ServiceManifest) ConfigMap() map[string]string {
	out := make(map[string]string, len(m.Config))
	for _, e := range m.Config {
		out[e.Key] = e.Value
	}
	return out
}

// HalfThreshold is 1/2: a quorum threshold must be above it.
var HalfThreshold = sdkmath.LegacyNewDecWithPrec(5, 1)

// MinSelfStakeOr returns what an operator must commit to itself to count in
// this service's snapshots, given the module's min_operator_stake: the larger
// of the two under STAKE weighting, the manifest's own under EQUAL weighting
// (zero: no minimum).
func (m ServiceManifest) MinSelfStakeOr(moduleMin sdkmath.Int) sdkmath.Int {
	own := m.MinSelfStake
	if own.IsNil() {
		own = sdkmath.ZeroInt()
	}
	if m.Quorum.Weighting != WEIGHTING_STAKE || moduleMin.IsNil() {
		return own
	}
	return sdkmath.MaxInt(own, moduleMin)
}

// Slashes reports whether the service slashes losing votes.
func (m ServiceManifest) Slashes() bool {
	return !m.SlashFraction.IsNil() && m.SlashFraction.IsPositive()
}

// SlashableSpread is the MEDIAN distance beyond which a vote is slashed.
func (a Aggregation) SlashableSpreadOrAllowed() sdkmath.LegacyDec {
	if a.SlashableSpread.IsNil() || a.SlashableSpread.IsZero() {
		return a.AllowedSpread
	}
	return a.SlashableSpread
}

// IsFree reports whether a fee is the zero coin.
func IsFree(c sdk.Coin) bool { return c.Amount.IsNil() || c.Amount.IsZero() }

// TimeoutOr returns the manifest's task timeout, or def when it names none.
func (m ServiceManifest) TimeoutOr(def uint64) uint64 {
	if m.TaskTimeout == 0 {
		return def
	}
	return m.TaskTimeout
}

func decString(d sdkmath.LegacyDec) string {
	if d.IsNil() {
		return "nothing"
	}
	return d.String()
}

// checkAllowListHost refuses an allow-list entry (already matching hostRe)
// that would send every operator's http_fetch into its own network: an IP
// literal that is not a public address. A numeric host must be a dotted
// quad in canonical form, since resolvers read "127.1", "2130706433" or
// "0x7f.0.0.1" as 127.0.0.1. Names, localhost included, are allowed: each
// operator checks the addresses a name resolves to before dialling and
// refuses non-public ones unless it listed the host in its own
// http_private_hosts (sidecar/executor) — how a devnet reaches a local
// price server.
func checkAllowListHost(entry string) error {
	host := entry
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if last == "" || last[0] < '0' || last[0] > '9' {
		return nil // a name: its last label (the TLD) is never numeric
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() {
		return fmt.Errorf("a numeric host must be an IPv4 address in dotted-quad form (a.b.c.d, no leading zeros)")
	}
	if NonPublicAddr(a) {
		return fmt.Errorf("%s is a loopback, private, link-local, shared or reserved address: name a public host", a)
	}
	return nil
}

// nonPublic lists the address ranges http_fetch never reaches (unless an
// operator allows a host explicitly): this network, RFC 1918 private,
// CGNAT shared space, loopback, link-local (cloud metadata at
// 169.254.169.254), IETF protocol assignments, benchmarking, multicast and
// reserved (with broadcast); in IPv6 the unspecified, loopback and
// IPv4-compatible block, the NAT64 local-use prefix, Teredo, unique-local,
// link-local, site-local and multicast.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
		"::/96", "64:ff9b:1::/48", "2001::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// NonPublicAddr reports whether a is not a public unicast address: one of
// the ranges in nonPublic, or an IPv6 address that embeds such an IPv4
// address (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16). The chain
// refuses such literals in an http_allow_list; the sidecar refuses to dial
// them for http_fetch.
func NonPublicAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return true
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return NonPublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return NonPublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
