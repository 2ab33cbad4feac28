package types_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

func dec(s string) sdkmath.LegacyDec { return sdkmath.LegacyMustNewDecFromStr(s) }

func TestWeightedMedian(t *testing.T) {
	testCases := []struct {
		name   string
		values []types.WeightedValue
		want   string
	}{
		{"odd count, equal power", []types.WeightedValue{{"a", dec("3"), 1}, {"b", dec("1"), 1}, {"c", dec("2"), 1}}, "2"},
		{"even count takes the lower median", []types.WeightedValue{{"a", dec("1"), 1}, {"b", dec("2"), 1}, {"c", dec("3"), 1}, {"d", dec("4"), 1}}, "2"},
		{"power moves the median", []types.WeightedValue{{"a", dec("1"), 1}, {"b", dec("2"), 1}, {"c", dec("9"), 5}}, "9"},
		{"outliers do not move it", []types.WeightedValue{{"a", dec("100"), 1}, {"b", dec("100.5"), 1}, {"c", dec("99.8"), 1}, {"d", dec("500"), 1}, {"e", dec("0"), 1}}, "100"},
		{"negative values", []types.WeightedValue{{"a", dec("-5"), 1}, {"b", dec("-1"), 1}, {"c", dec("-3"), 1}}, "-3"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			i := types.WeightedMedian(tc.values)
			require.Equal(t, dec(tc.want), tc.values[i].Value)
		})
	}
}

func TestSpreadAndThreshold(t *testing.T) {
	require.True(t, types.WithinSpread(dec("100.5"), dec("100"), dec("0.01")))
	require.True(t, types.WithinSpread(dec("101"), dec("100"), dec("0.01")), "the bound is inclusive")
	require.False(t, types.WithinSpread(dec("101.01"), dec("100"), dec("0.01")))
	require.True(t, types.WithinSpread(dec("0"), dec("0"), dec("0")))

	require.True(t, types.MeetsThreshold(2, 4, dec("0.5")), "exactly at the threshold")
	require.False(t, types.MeetsThreshold(2, 4, dec("0.51")), "just under")
	require.True(t, types.MeetsThreshold(3, 4, dec("0.75")))
	require.False(t, types.MeetsThreshold(0, 0, dec("0.5")), "no power never meets a threshold")
}

func TestParseNumericResult(t *testing.T) {
	d, err := types.ParseNumericResult([]byte(" 42.5\n"))
	require.NoError(t, err)
	require.Equal(t, dec("42.5"), d)
	for _, bad := range []string{"", "abc", "1e5", "4 2", "NaN"} {
		_, err := types.ParseNumericResult([]byte(bad))
		require.ErrorIs(t, err, types.ErrInvalidResult, bad)
	}
}

// At the limits a snapshot can reach (max_snapshot_operators' hard limit,
// each operator at MaxOperatorPower, 2^50), the power sum stays within a
// uint64 and the weighted median is still the lower median (review: uint64
// overflow in WeightedMedian).
func TestWeightedMedianAtThePowerLimits(t *testing.T) {
	p := types.DefaultParams()
	p.MaxSnapshotOperators = 1 << 14
	require.ErrorContains(t, p.Validate(), "exceeds the hard limit", "2^14 operators of 2^50 sum to 2^64, one past a uint64")
	p.MaxSnapshotOperators = 1<<14 - 1
	require.NoError(t, p.Validate())

	n := int(p.MaxSnapshotOperators)
	values := make([]types.WeightedValue, n)
	for i := range values {
		// listed in descending order: the sort must put them right
		values[i] = types.WeightedValue{Key: fmt.Sprintf("op%05d", i), Value: sdkmath.LegacyNewDec(int64(n - i)), Power: 1 << 50}
	}
	i := types.WeightedMedian(values)
	require.Equal(t, sdkmath.LegacyNewDec(int64(n/2+1)), values[i].Value, "16383 equal powers: the 8192nd smallest value")
	require.True(t, types.MeetsThreshold(uint64(n)<<50, uint64(n)<<50, dec("1")))
}
