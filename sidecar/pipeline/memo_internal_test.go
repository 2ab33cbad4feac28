package pipeline

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoKeepsWhatItsLoadKeeps(t *testing.T) {
	errRead := errors.New("read failed")
	tests := []struct {
		name string
		keep bool
		err  error
		// loads is how many times two gets in a row load.
		loads int64
	}{
		{name: "kept: loaded once", keep: true, loads: 1},
		{name: "not kept: loaded again", keep: false, loads: 2},
		{name: "an error is never kept", keep: true, err: errRead, loads: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newMemo[int, string](nil)
			var loads atomic.Int64
			load := func() (string, bool, error) {
				loads.Add(1)
				return "v", tc.keep, tc.err
			}
			for range 2 {
				v, err := c.get(1, load)
				if tc.err != nil {
					require.ErrorIs(t, err, tc.err)
					require.Empty(t, v)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, "v", v)
			}
			require.Equal(t, tc.loads, loads.Load())
		})
	}
}

// TestMemoLoadsOnceForConcurrentGets: callers asking while a load runs
// share it, and those after it read the kept value (singleflight).
func TestMemoLoadsOnceForConcurrentGets(t *testing.T) {
	c := newMemo[int, string](nil)
	var loads atomic.Int64
	release := make(chan struct{})
	load := func() (string, bool, error) {
		loads.Add(1)
		<-release
		return "v", true, nil
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.get(1, load)
			if err == nil {
				got[i] = v
			}
		}()
	}
	close(release)
	wg.Wait()
	require.Equal(t, int64(1), loads.Load())
	for _, v := range got {
		require.Equal(t, "v", v)
	}
}

// TestMemoEvicts: keeping a key drops the kept keys evict names.
func TestMemoEvicts(t *testing.T) {
	c := newMemo[int, int](func(kept, added int) bool { return kept+2 <= added })
	var loads atomic.Int64
	load := func(v int) func() (int, bool, error) {
		return func() (int, bool, error) { loads.Add(1); return v, true, nil }
	}
	for _, k := range []int{1, 2, 3} {
		v, err := c.get(k, load(k*10))
		require.NoError(t, err)
		require.Equal(t, k*10, v)
	}
	_, ok := c.lookup(1)
	require.False(t, ok, "1 dropped when 3 was kept")
	for _, k := range []int{2, 3} {
		v, ok := c.lookup(k)
		require.True(t, ok)
		require.Equal(t, k*10, v)
	}
	require.Equal(t, int64(3), loads.Load())
}
