package types

import (
	"math/big"
	"sort"
	"strings"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
)

// maxNumericResult bounds a MEDIAN vote's magnitude (exclusive). LegacyDec
// itself accepts up to 2^256, but the difference of two such votes then
// overflows and panics in WithinSpread; below 10^60 every sum, difference and
// spread product of two votes stays in range.
var maxNumericResult = sdkmath.LegacyNewDecFromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(60), nil))

// ParseNumericResult reads a MEDIAN vote: a decimal number, optionally with
// surrounding whitespace (a trailing newline from a component is common),
// whose absolute value is below 10^60.
func ParseNumericResult(b []byte) (sdkmath.LegacyDec, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return sdkmath.LegacyDec{}, errorsmod.Wrap(ErrInvalidResult, "MEDIAN result is empty")
	}
	d, err := sdkmath.LegacyNewDecFromStr(s)
	if err != nil {
		return sdkmath.LegacyDec{}, errorsmod.Wrapf(ErrInvalidResult, "MEDIAN result %q is not a decimal number", truncate(s, 64))
	}
	if d.Abs().GTE(maxNumericResult) {
		return sdkmath.LegacyDec{}, errorsmod.Wrapf(ErrInvalidResult, "MEDIAN result %q: magnitude must be below 1e60", truncate(s, 64))
	}
	return d, nil
}

// WeightedValue is one numeric vote with its power.
type WeightedValue struct {
	Key   string // the operator
	Value sdkmath.LegacyDec
	Power uint64
}

// WeightedMedian returns the index in values of the lower power-weighted
// median: the smallest value at which the cumulative power reaches half of the
// total. Ties in value are broken by key, so every node picks the same vote.
// values must not be empty; it is sorted in place.
func WeightedMedian(values []WeightedValue) int {
	sort.Slice(values, func(i, j int) bool {
		if !values[i].Value.Equal(values[j].Value) {
			return values[i].Value.LT(values[j].Value)
		}
		return values[i].Key < values[j].Key
	})
	var total uint64
	for _, v := range values {
		total += v.Power
	}
	var cum uint64
	for i, v := range values {
		cum += v.Power
		if cum >= total-cum { // 2·cum >= total, without overflow (I-1)
			return i
		}
	}
	return len(values) - 1
}

// MedianQuorum is the share of a task's power that must have voted before a
// MEDIAN is taken: max(threshold, 2·(1 − threshold)). Once that much has
// voted, and more than threshold of the power is honest, the power that is
// not (below 1 − threshold) is less than half of the votes present, so the
// weighted median of all of them lies within the honest values: voters who
// come first cannot choose it (M-6). Below a threshold of 2/3 it asks more
// than the threshold (2/3 asks exactly 2/3).
func MedianQuorum(threshold sdkmath.LegacyDec) sdkmath.LegacyDec {
	return sdkmath.LegacyMaxDec(threshold, sdkmath.LegacyOneDec().Sub(threshold).MulInt64(2))
}

// MedianReady reports whether the votes present carry enough of the task's
// total power for a MEDIAN to be taken over them (see MedianQuorum).
func MedianReady(values []WeightedValue, total uint64, threshold sdkmath.LegacyDec) bool {
	var voted uint64
	for _, v := range values {
		voted += v.Power
	}
	return MeetsThreshold(voted, total, MedianQuorum(threshold))
}

// WithinSpread reports whether |v - m| <= spread * |m|.
func WithinSpread(v, m, spread sdkmath.LegacyDec) bool {
	return v.Sub(m).Abs().LTE(spread.Mul(m.Abs()))
}

// MeetsThreshold reports whether power reaches threshold * total.
func MeetsThreshold(power, total uint64, threshold sdkmath.LegacyDec) bool {
	if total == 0 {
		return false
	}
	return sdkmath.LegacyNewDecFromInt(sdkmath.NewIntFromUint64(power)).
		GTE(threshold.MulInt(sdkmath.NewIntFromUint64(total)))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
