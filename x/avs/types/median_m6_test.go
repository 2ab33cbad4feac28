package types_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/avschain/avschain/x/avs/types"
)

// TestM6MedianWithinHonestValues is the MEDIAN property (security review
// M-6): when operators holding more than threshold of the power are honest
// and vote values within a narrow band, whatever the others vote, and in
// whatever order, every median the tally may take (at any point of the
// voting once MedianReady holds) lies within [min honest, max honest]. Some
// operators of either kind may stay silent.
func TestM6MedianWithinHonestValues(t *testing.T) {
	for seed := uint64(1); seed <= 2000; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15))
		n := 1 + rng.IntN(12)
		equal := rng.IntN(2) == 0
		threshold := sdkmath.LegacyNewDecWithPrec(int64(51+rng.IntN(50)), 2) // 0.51 .. 1.00
		ops := make([]types.WeightedValue, n)
		var total uint64
		for i := range ops {
			p := uint64(1)
			if !equal {
				p = 1 + rng.Uint64N(1000)
			}
			ops[i] = types.WeightedValue{Key: fmt.Sprintf("op%02d", i), Power: p}
			total += p
		}
		// honest: a random set holding more than threshold of the power
		perm := rng.Perm(n)
		honest := make(map[string]bool)
		var honestPower uint64
		for _, i := range perm {
			if moreThan(honestPower, total, threshold) {
				break
			}
			honest[ops[i].Key] = true
			honestPower += ops[i].Power
		}
		if !moreThan(honestPower, total, threshold) {
			continue // every operator honest and still not above: nothing to test
		}
		for i := range ops {
			if honest[ops[i].Key] {
				ops[i].Value = sdkmath.LegacyNewDec(100).Add(sdkmath.LegacyNewDecWithPrec(int64(rng.IntN(1000)), 3)) // [100, 101)
			} else {
				ops[i].Value = adversarial(rng)
			}
		}
		lo, hi := honestRange(ops, honest)

		order := rng.Perm(n)
		var present []types.WeightedValue
		for _, i := range order {
			if rng.IntN(5) == 0 {
				continue // silent
			}
			present = append(present, ops[i])
			if !types.MedianReady(present, total, threshold) {
				continue
			}
			values := slices.Clone(present)
			m := values[types.WeightedMedian(values)].Value
			require.True(t, m.GTE(lo) && m.LTE(hi), "seed %d: median %s outside the honest values [%s, %s] (threshold %s, %d operators, %d present)",
				seed, m, lo, hi, threshold, n, len(present))
		}
	}
}

// TestM6MedianFirstVotersCannotChoose: the review's case, EQUAL weights, 5
// operators, threshold 0.6: two attackers voting 110 first, then one honest
// 100, is not enough power present to take a median (3 of 5 < 0.8); with a
// second honest 100 the median is 100.
func TestM6MedianFirstVotersCannotChoose(t *testing.T) {
	threshold := sdkmath.LegacyNewDecWithPrec(6, 1)
	require.Equal(t, "0.800000000000000000", types.MedianQuorum(threshold).String())
	require.Equal(t, "0.670000000000000000", types.MedianQuorum(sdkmath.LegacyNewDecWithPrec(67, 2)).String(), "from 2/3 up, the threshold itself")
	votes := []types.WeightedValue{
		{Key: "a1", Value: sdkmath.LegacyNewDec(110), Power: 1},
		{Key: "a2", Value: sdkmath.LegacyNewDec(110), Power: 1},
		{Key: "h1", Value: sdkmath.LegacyNewDec(100), Power: 1},
	}
	require.False(t, types.MedianReady(votes, 5, threshold))
	votes = append(votes, types.WeightedValue{Key: "h2", Value: sdkmath.LegacyNewDec(100), Power: 1})
	require.True(t, types.MedianReady(votes, 5, threshold))
	require.Equal(t, "100.000000000000000000", votes[types.WeightedMedian(votes)].Value.String())
}

func moreThan(power, total uint64, threshold sdkmath.LegacyDec) bool {
	return sdkmath.LegacyNewDecFromInt(sdkmath.NewIntFromUint64(power)).GT(threshold.MulInt(sdkmath.NewIntFromUint64(total)))
}

func honestRange(ops []types.WeightedValue, honest map[string]bool) (lo, hi sdkmath.LegacyDec) {
	first := true
	for _, o := range ops {
		if !honest[o.Key] {
			continue
		}
		if first || o.Value.LT(lo) {
			lo = o.Value
		}
		if first || o.Value.GT(hi) {
			hi = o.Value
		}
		first = false
	}
	return lo, hi
}

// adversarial is any value: far below, far above, just outside or inside the
// honest band, or equal to its edges.
func adversarial(rng *rand.Rand) sdkmath.LegacyDec {
	switch rng.IntN(5) {
	case 0:
		return sdkmath.LegacyNewDec(-1_000_000 + rng.Int64N(1_000_000))
	case 1:
		return sdkmath.LegacyNewDec(1_000_000 + rng.Int64N(1_000_000))
	case 2:
		return sdkmath.LegacyNewDecWithPrec(int64(99_000+rng.IntN(3_000)), 3) // 99 .. 102
	case 3:
		return sdkmath.LegacyNewDec(100)
	default:
		return sdkmath.LegacyNewDec(110)
	}
}
