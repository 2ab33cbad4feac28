package types_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

// A commitment binds every part: changing any one of them changes it, and
// the length prefixes keep a byte moved from one part to the next from
// giving the same hash.
func TestVoteCommitmentBindsEveryPart(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, types.CommitmentSize)
	base := types.VoteCommitment("avs-1", 7, "avs1op", []byte("81"), 0, salt)
	require.Len(t, base, types.CommitmentSize)
	require.Equal(t, base, types.VoteCommitment("avs-1", 7, "avs1op", []byte("81"), 0, salt), "deterministic")
	for name, other := range map[string][]byte{
		"chain id":                  types.VoteCommitment("avs-2", 7, "avs1op", []byte("81"), 0, salt),
		"task id":                   types.VoteCommitment("avs-1", 8, "avs1op", []byte("81"), 0, salt),
		"operator":                  types.VoteCommitment("avs-1", 7, "avs1oq", []byte("81"), 0, salt),
		"result":                    types.VoteCommitment("avs-1", 7, "avs1op", []byte("82"), 0, salt),
		"failure":                   types.VoteCommitment("avs-1", 7, "avs1op", nil, types.FAILURE_REASON_TRAP, salt),
		"salt":                      types.VoteCommitment("avs-1", 7, "avs1op", []byte("81"), 0, bytes.Repeat([]byte{2}, types.CommitmentSize)),
		"a byte moved across parts": types.VoteCommitment("avs-1", 7, "avs1o", []byte("p81"), 0, salt),
	} {
		require.NotEqual(t, base, other, name)
	}
}

func TestCommitRevealPhases(t *testing.T) {
	task := types.Task{CreatedHeight: 10, CommitDeadlineHeight: 13, DeadlineHeight: 20}
	require.True(t, task.CommitsOpen(13))
	require.False(t, task.CommitsOpen(14))
	require.False(t, task.RevealsOpen(13))
	require.True(t, task.RevealsOpen(14))
	task.CommitsClosedHeight = 11 // the quorum committed at 11
	require.True(t, task.CommitsOpen(11), "the rest of the closing block")
	require.False(t, task.CommitsOpen(12))
	require.False(t, task.RevealsOpen(11))
	require.True(t, task.RevealsOpen(12))
	open := types.Task{CreatedHeight: 10, DeadlineHeight: 20}
	require.False(t, open.CommitsOpen(11))
	require.False(t, open.RevealsOpen(11))
}

func TestCommitRevealManifestRules(t *testing.T) {
	p := types.DefaultParams()
	for _, tc := range []struct {
		name string
		edit func(*types.ServiceManifest)
		want string // "" = valid
	}{
		{"commit-reveal with the default phase", func(m *types.ServiceManifest) { m.VoteMode = types.VOTE_MODE_COMMIT_REVEAL }, ""},
		{"commit-reveal, 3 blocks", func(m *types.ServiceManifest) {
			m.VoteMode, m.CommitBlocks = types.VOTE_MODE_COMMIT_REVEAL, 3
		}, ""},
		{"commit_blocks over max_commit_blocks", func(m *types.ServiceManifest) {
			m.VoteMode, m.CommitBlocks = types.VOTE_MODE_COMMIT_REVEAL, p.MaxCommitBlocks+1
		}, "commit_blocks 11 exceeds max_commit_blocks 10"},
		{"no block left for the reveals", func(m *types.ServiceManifest) {
			m.VoteMode, m.CommitBlocks, m.TaskTimeout = types.VOTE_MODE_COMMIT_REVEAL, 5, 5
		}, "commit_blocks 5 must be below the task timeout 5"},
		{"the default phase against a short timeout", func(m *types.ServiceManifest) {
			m.VoteMode, m.TaskTimeout = types.VOTE_MODE_COMMIT_REVEAL, 4
		}, "commit_blocks 10 must be below the task timeout 4"},
		{"commit_blocks on an OPEN service", func(m *types.ServiceManifest) { m.CommitBlocks = 2 }, "commit_blocks 2 is for VOTE_MODE_COMMIT_REVEAL"},
		{"an unknown mode", func(m *types.ServiceManifest) { m.VoteMode = 7 }, "unknown vote_mode 7"},
		{"an event trigger", func(m *types.ServiceManifest) {
			m.VoteMode = types.VOTE_MODE_COMMIT_REVEAL
			m.Triggers = []types.Trigger{{Kind: &types.Trigger_Event{Event: &types.EventTrigger{Type: "transfer"}}}}
		}, "an event trigger cannot open COMMIT_REVEAL tasks"},
	} {
		m := validManifest()
		tc.edit(&m)
		err := m.Validate(p)
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, types.ErrInvalidManifest, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}
