package localnet

import (
	"strings"
	"testing"
	"time"
)

// PollInterval is how long Poll waits between two calls of its condition.
const PollInterval = 300 * time.Millisecond

// Poll calls cond every PollInterval until it returns a nil error, and returns
// the value it returned then. cond runs on the caller's goroutine, so it may
// fail the test itself (when a process it waits for has exited, say).
//
// When timeout passes first, Poll fails the test with
// "WHAT: not within TIMEOUT: LAST ERROR", followed by what each diagnostics
// function returns (a log tail, say); they run only then.
func Poll[T any](t testing.TB, timeout time.Duration, what string, cond func() (T, error), diagnostics ...func() string) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := cond()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			msg := []string{what + ": not within " + timeout.String() + ": " + err.Error()}
			for _, d := range diagnostics {
				msg = append(msg, d())
			}
			t.Fatal(strings.Join(msg, "\n"))
			return v
		}
		time.Sleep(PollInterval)
	}
}
