package node

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// CompilationCacheMaxAge is how long a file of wazero's on-disk compilation
// cache is kept after it was written: the cache is pruned of older files at
// start (review M12), so the code of components no longer run, and of wazero
// versions no longer used, does not pile up. A component still in use is
// compiled again once, at its next run.
const CompilationCacheMaxAge = 30 * 24 * time.Hour

// pruneCompilationCache removes the files under dir last written before
// now-maxAge, then the directories left empty, and returns how many files it
// removed. A missing dir is not an error.
func pruneCompilationCache(dir string, maxAge time.Duration, now time.Time) (int, error) {
	removed := 0
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if path != dir {
				dirs = append(dirs, path)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if now.Sub(info.ModTime()) > maxAge {
			if err := os.Remove(path); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // deepest first
		_ = os.Remove(dirs[i]) // fails, as it should, unless empty
	}
	return removed, err
}
