package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

func TestDigest(t *testing.T) {
	d := types.Digest([]byte("abc"))
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d)
	require.True(t, types.IsValidDigest(d))
	require.False(t, types.IsValidDigest("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"))
	require.False(t, types.IsValidDigest("abc"))
}

func TestVoteDigest(t *testing.T) {
	tests := []struct {
		name    string
		result  []byte
		failure types.FailureReason
		want    string
	}{
		{name: "result", result: []byte("abc"), want: types.Digest([]byte("abc"))},
		{name: "empty result", result: nil, want: types.Digest(nil)},
		{name: "failure", failure: types.FAILURE_REASON_TRAP, want: types.FailureDigest},
		{name: "failure ignores its result", result: []byte("abc"), failure: types.FAILURE_REASON_TIME, want: types.FailureDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, types.VoteDigest(tc.result, tc.failure))
		})
	}
}
