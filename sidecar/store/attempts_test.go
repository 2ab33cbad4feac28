package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/store"
)

// TestH4AttemptsSurviveAReopen: the count of runs started and not finished
// is on disk before StartAttempt returns, and ClearAttempts resets it.
func TestH4AttemptsSurviveAReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir)
	require.NoError(t, err)
	for want := 1; want <= 2; want++ {
		n, err := s.StartAttempt("7")
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	require.NoError(t, s.Close()) // the process died during the run

	s, err = store.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	n, err := s.Attempts("7")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.StartAttempt("7")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.NoError(t, s.ClearAttempts("7"))
	n, err = s.Attempts("7")
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = s.Attempts("8")
	require.NoError(t, err)
	require.Zero(t, n, "other work has its own count")
}
