package localnet

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fatalRecorder is a testing.TB whose Fatal records the message and stops the
// calling goroutine, as testing.T's does.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) message() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

// runPoll runs Poll on its own goroutine (Fatal ends that goroutine) and
// returns its value and whether it returned normally.
func runPoll[T any](r *fatalRecorder, timeout time.Duration, cond func() (T, error), diagnostics ...func() string) (T, bool) {
	var (
		v        T
		returned bool
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		v = Poll(r, timeout, "the thing", cond, diagnostics...)
		returned = true
	}()
	<-done
	return v, returned
}

func TestPollReturnsTheFirstReadyValue(t *testing.T) {
	r := &fatalRecorder{TB: t}
	calls := 0
	v, ok := runPoll(r, time.Minute, func() (int, error) {
		calls++
		if calls < 3 {
			return calls, fmt.Errorf("only %d", calls)
		}
		return calls, nil
	})
	require.True(t, ok)
	require.Equal(t, 3, v)
	require.Empty(t, r.message())
}

func TestPollFailsAtItsDeadlineWithTheLastError(t *testing.T) {
	r := &fatalRecorder{TB: t}
	diagnosed := 0
	_, ok := runPoll(r, 0, func() (int, error) { return 0, errors.New("still pending") },
		func() string { diagnosed++; return "log tail" })
	require.False(t, ok, "Poll must not return after its deadline")
	require.Equal(t, "the thing: not within 0s: still pending\nlog tail", r.message())
	require.Equal(t, 1, diagnosed, "diagnostics run once, at the deadline")
}
