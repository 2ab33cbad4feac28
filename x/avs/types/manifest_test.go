package types_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

func validManifest() types.ServiceManifest {
	return types.ServiceManifest{
		Name:            "square",
		ComponentDigest: types.Digest([]byte("x")),
		Limits:          types.Limits{TimeMs: 1000, MemoryPages: 16, OutputBytes: 64},
		Quorum:          types.Quorum{Threshold: sdkmath.LegacyNewDecWithPrec(67, 2), Weighting: types.WEIGHTING_EQUAL},
		Aggregation:     types.Aggregation{Mode: types.AGGREGATION_MODE_EXACT},
		FeePerTask:      sdk.NewInt64Coin(types.DefaultStakeDenom, 100),
		Admission:       types.ADMISSION_ALLOWLIST,
	}
}

// TestH6EqualWeightingNeedsAllowlistOrSelfStake: EQUAL weighting gives every
// opted-in operator the same power, so it is refused where anyone may opt in
// without stake (H-6); TestM6ThresholdAboveHalf: a threshold of at most one
// half is refused in both modes (M-6).
func TestH6M6ManifestQuorumRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		malleate func(*types.ServiceManifest)
		expErr   error // nil: valid
		errText  string
	}{
		{"EQUAL with an allow-list", func(*types.ServiceManifest) {}, nil, ""},
		{"EQUAL, OPEN: refused", func(m *types.ServiceManifest) { m.Admission = types.ADMISSION_OPEN }, types.ErrEqualWeightingOpen, "ADMISSION_ALLOWLIST"},
		{"EQUAL, OPEN with min_self_stake", func(m *types.ServiceManifest) {
			m.Admission, m.MinSelfStake = types.ADMISSION_OPEN, sdkmath.NewInt(1)
		}, nil, ""},
		{"STAKE, OPEN", func(m *types.ServiceManifest) {
			m.Admission, m.Quorum.Weighting = types.ADMISSION_OPEN, types.WEIGHTING_STAKE
		}, nil, ""},
		{"negative min_self_stake", func(m *types.ServiceManifest) { m.MinSelfStake = sdkmath.NewInt(-1) }, types.ErrInvalidManifest, "min_self_stake"},
		{"threshold 0.5: refused", func(m *types.ServiceManifest) { m.Quorum.Threshold = sdkmath.LegacyNewDecWithPrec(5, 1) }, types.ErrWeakThreshold, "above 0.5"},
		{"threshold 0.3: refused", func(m *types.ServiceManifest) { m.Quorum.Threshold = sdkmath.LegacyNewDecWithPrec(3, 1) }, types.ErrWeakThreshold, "above 0.5"},
		{"MEDIAN at 0.5: refused", func(m *types.ServiceManifest) {
			m.Quorum.Threshold = sdkmath.LegacyNewDecWithPrec(5, 1)
			m.Aggregation = types.Aggregation{Mode: types.AGGREGATION_MODE_MEDIAN, AllowedSpread: sdkmath.LegacyNewDecWithPrec(1, 2)}
		}, types.ErrWeakThreshold, "above 0.5"},
		{"threshold a hair above 0.5", func(m *types.ServiceManifest) {
			m.Quorum.Threshold = sdkmath.LegacyMustNewDecFromStr("0.500000000000000001")
		}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validManifest()
			tc.malleate(&m)
			err := m.Validate(types.DefaultParams())
			if tc.expErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.expErr)
			require.Contains(t, err.Error(), tc.errText)
		})
	}
}

func TestMinSelfStakeOr(t *testing.T) {
	m := validManifest()
	param := sdkmath.NewInt(1_000_000)
	require.True(t, m.MinSelfStakeOr(param).IsZero(), "EQUAL without its own minimum: none")
	m.MinSelfStake = sdkmath.NewInt(5)
	require.Equal(t, int64(5), m.MinSelfStakeOr(param).Int64(), "EQUAL: the manifest's alone")
	m.Quorum.Weighting = types.WEIGHTING_STAKE
	require.Equal(t, param, m.MinSelfStakeOr(param), "STAKE: never below the module's")
	m.MinSelfStake = sdkmath.NewInt(3_000_000)
	require.Equal(t, int64(3_000_000), m.MinSelfStakeOr(param).Int64(), "STAKE: a service may ask more")
}

func channels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "channel-" + strings.Repeat("1", i+1)
	}
	return out
}

// TestL4ManifestBounds: the manifest's IBC channel lists, cron strings and
// event filters are bounded in count and length, and channels are channel
// identifiers: the chain pushes to every result channel at each completion.
func TestL4ManifestBounds(t *testing.T) {
	long := strings.Repeat("a", types.MaxEventFieldLength+1)
	event := func(typ, key, value string) types.Trigger {
		return types.Trigger{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: typ,
			Attributes: []types.EventAttributeFilter{{Key: key, Value: value}}}}}
	}
	for _, tc := range []struct {
		name     string
		malleate func(*types.ServiceManifest)
		errText  string // empty: valid
	}{
		{"at the channel bounds", func(m *types.ServiceManifest) {
			m.IbcRequestChannels, m.IbcResultChannels = channels(types.MaxIBCChannels), channels(types.MaxIBCChannels)
		}, ""},
		{"too many request channels", func(m *types.ServiceManifest) { m.IbcRequestChannels = channels(types.MaxIBCChannels + 1) }, "ibc_request_channels has 9"},
		{"too many result channels", func(m *types.ServiceManifest) { m.IbcResultChannels = channels(types.MaxIBCChannels + 1) }, "ibc_result_channels has 9"},
		{"not a channel id", func(m *types.ServiceManifest) { m.IbcResultChannels = []string{"transfer"} }, "not a channel identifier"},
		{"huge channel id", func(m *types.ServiceManifest) {
			m.IbcRequestChannels = []string{"channel-" + strings.Repeat("9", 1<<16)}
		}, "not a channel identifier"},
		{"channel twice", func(m *types.ServiceManifest) { m.IbcResultChannels = []string{"channel-0", "channel-0"} }, "twice"},
		{"long cron", func(m *types.ServiceManifest) {
			m.Triggers = []types.Trigger{{Kind: &types.Trigger_Cron{Cron: &types.CronTrigger{Schedule: "* * * * *" + strings.Repeat(" ", types.MaxCronLength)}}}}
		}, "cron schedule is"},
		{"long event type", func(m *types.ServiceManifest) { m.Triggers = []types.Trigger{event(long, "k", "")} }, "event.type is"},
		{"long filter key", func(m *types.ServiceManifest) { m.Triggers = []types.Trigger{event("wasm-x", long, "")} }, "at most"},
		{"long filter value", func(m *types.ServiceManifest) { m.Triggers = []types.Trigger{event("wasm-x", "k", long)} }, "at most"},
		{"event at the bounds", func(m *types.ServiceManifest) {
			f := long[1:]
			m.Triggers = []types.Trigger{event(f, f, f)}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validManifest()
			tc.malleate(&m)
			err := m.Validate(types.DefaultParams())
			if tc.errText == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidManifest)
			require.Contains(t, err.Error(), tc.errText)
			require.Less(t, len(err.Error()), 400, "the error does not echo an unbounded string")
		})
	}
}

// TestH5FreeTriggerRefused: triggers of any kind need fee_per_task > 0.
func TestH5FreeTriggerRefused(t *testing.T) {
	m := validManifest()
	m.FeePerTask = sdk.Coin{}
	require.NoError(t, m.Validate(types.DefaultParams()), "a free service without triggers is fine")
	m.Triggers = []types.Trigger{{Kind: &types.Trigger_BlockInterval{BlockInterval: &types.BlockIntervalTrigger{Every: 1}}}}
	require.ErrorIs(t, m.Validate(types.DefaultParams()), types.ErrFreeTrigger)
}

// NextHeight is the first firing height at or after a height.
func TestBlockIntervalNextHeight(t *testing.T) {
	for _, tc := range []struct {
		b      types.BlockIntervalTrigger
		from   int64
		want   int64
		wantOK bool
	}{
		{types.BlockIntervalTrigger{Every: 3, Start: 12, End: 20}, 1, 12, true},
		{types.BlockIntervalTrigger{Every: 3, Start: 12, End: 20}, 13, 15, true},
		{types.BlockIntervalTrigger{Every: 3, Start: 12, End: 20}, 18, 18, true},
		{types.BlockIntervalTrigger{Every: 3, Start: 12, End: 20}, 19, 0, false},
		{types.BlockIntervalTrigger{Every: 1}, 7, 7, true},
		{types.BlockIntervalTrigger{Every: 1 << 63, Start: 5}, 5, 5, true},
		{types.BlockIntervalTrigger{Every: 1 << 63, Start: 5}, 6, 0, false},
		{types.BlockIntervalTrigger{Every: 1 << 62, Start: 1 << 62}, 1<<62 + 1, 0, false},
	} {
		got, ok := tc.b.NextHeight(tc.from)
		require.Equal(t, tc.wantOK, ok, "%+v from %d", tc.b, tc.from)
		require.Equal(t, tc.want, got, "%+v from %d", tc.b, tc.from)
	}
}

// TestH5AllowListRefusesPrivateTargets: an http_allow_list entry that names a
// loopback, private, link-local (metadata), CGNAT, unspecified, multicast or
// otherwise non-public IPv4 literal, or a numeric host that is not a dotted
// quad is refused with the entry named: every operator would be sent to its
// own internal network (SSRF, review H5). Public literals and names pass,
// localhost included: names are checked by each operator after resolution,
// and reach a private address only where the operator allowed the host.
func TestH5AllowListRefusesPrivateTargets(t *testing.T) {
	for _, tc := range []struct {
		entry string
		ok    bool
	}{
		{"prices.example.org", true},
		{"prices.example.org:8443", true},
		{"api.coingecko.com", true},
		{"8.8.8.8", true},
		{"1.1.1.1:443", true},
		{"100.128.0.1", true},    // just above CGNAT 100.64/10
		{"172.32.0.1", true},     // just above 172.16/12
		{"localhost:8080", true}, // a name: refused by each sidecar unless private-allowed
		{"127.0.0.1", false},
		{"127.0.0.1:26657", false},
		{"127.1.2.3", false},
		{"10.0.0.1:8080", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"127.1", false},      // inet_aton shorthand for 127.0.0.1
		{"2130706433", false}, // 127.0.0.1 as one number
		{"0x7f.0.0.1", false}, // hex octet
		{"010.0.0.1", false},  // leading zero: octal to some resolvers
	} {
		t.Run(tc.entry, func(t *testing.T) {
			m := validManifest()
			m.Limits.HttpAllowList = []string{"example.org", tc.entry}
			err := m.Validate(types.DefaultParams())
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidManifest)
			require.Contains(t, err.Error(), tc.entry, "the error names the entry")
		})
	}
}

// TestH5NonPublicAddr: the address policy the chain applies to allow-list
// literals and the sidecar applies to every address http_fetch dials.
func TestH5NonPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"93.184.215.14", true},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.0.1", false},
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"100.64.0.1", false},
		{"100.127.0.1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.251", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"192.0.0.1", false},
		{"198.18.0.1", false},
		{"::", false},
		{"::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:10.0.0.1", false},
		{"::127.0.0.1", false},        // IPv4-compatible (deprecated)
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", false},     // 6to4 of 127.0.0.1
		{"64:ff9b::808:808", true},    // NAT64 of 8.8.8.8
		{"::ffff:8.8.8.8", true},
	} {
		a := netip.MustParseAddr(tc.addr)
		require.Equal(t, !tc.public, types.NonPublicAddr(a), tc.addr)
	}
}
