package types_test

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

// H-4: a cron schedule fires at the same block time on every validator,
// whatever the host's time zone (robfig keeps a plain spec in time.Local and
// then follows the zone of the time it is given, UTC block time; ParseCron
// pins UTC anyway); time-zone prefixes, which load the host's tz data, are
// refused; a malformed spec ("TZ=UTC" without a space panicked in robfig)
// never panics.
func TestH4CronIsUTCWhateverTheHostZone(t *testing.T) {
	local := time.Local
	t.Cleanup(func() { time.Local = local })
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var nexts []int64
	for _, zone := range []*time.Location{time.UTC, time.FixedZone("east", 5*3600), time.FixedZone("west", -8*3600)} {
		time.Local = zone // a validator in another zone
		next, ok := types.CronNext("0 9 * * *", now)
		require.True(t, ok)
		nexts = append(nexts, next)
		daily, ok := types.CronNext("@daily", now)
		require.True(t, ok)
		require.Equal(t, time.Date(2030, 1, 3, 0, 0, 0, 0, time.UTC).UnixNano(), daily, "zone %s", zone)
	}
	require.Equal(t, time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC).UnixNano(), nexts[0])
	require.Equal(t, nexts[0], nexts[1])
	require.Equal(t, nexts[0], nexts[2])

	for _, spec := range []string{"TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=UTC 0 9 * * *", "TZ=UTC", "CRON_TZ="} {
		_, err := types.ParseCron(spec)
		require.ErrorContains(t, err, "time zones are refused", spec)
		trig := types.Trigger{Kind: &types.Trigger_Cron{Cron: &types.CronTrigger{Schedule: spec}}}
		require.Error(t, trig.Validate(), spec)
	}
}

// FuzzParseCron: no spec panics, and what parses runs on UTC.
func FuzzParseCron(f *testing.F) {
	for _, seed := range []string{"* * * * *", "0 9 * * 1-5", "@every 1h", "@daily", "TZ=UTC", "TZ=", "CRON_TZ=x 1 2 3 4 5", "*/0 * * * *", "1-0 * * * *", "", " ", "@", "60 * * * *"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := types.ParseCron(spec)
		if err != nil {
			return
		}
		require.False(t, strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="))
		if spec, ok := s.(*cron.SpecSchedule); ok {
			require.Equal(t, time.UTC, spec.Location)
		}
	})
}
