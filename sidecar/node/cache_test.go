package node

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestM12CompilationCachePruned: files of wazero's disk cache older than the
// max age go at start, with the directories they leave empty; recent ones
// stay.
func TestM12CompilationCachePruned(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(rel string, age time.Duration) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
		require.NoError(t, os.Chtimes(p, now.Add(-age), now.Add(-age)))
		return p
	}
	oldVersion := write("wazero-v1.0.0-amd64-linux/aaaa", 40*24*time.Hour)
	stale := write("wazero-v1.12.0-amd64-linux/bbbb", 31*24*time.Hour)
	fresh := write("wazero-v1.12.0-amd64-linux/cccc", time.Hour)

	n, err := pruneCompilationCache(dir, CompilationCacheMaxAge, now)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoFileExists(t, oldVersion)
	require.NoDirExists(t, filepath.Dir(oldVersion), "an emptied directory goes too")
	require.NoFileExists(t, stale)
	require.FileExists(t, fresh)

	n, err = pruneCompilationCache(filepath.Join(dir, "missing"), CompilationCacheMaxAge, now)
	require.NoError(t, err)
	require.Zero(t, n)
}
