package watcher_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/chain"
	"github.com/avschain/avschain/sidecar/store"
	"github.com/avschain/avschain/sidecar/watcher"
)

// slowSubscribe is a source whose websocket subscription fails only after
// its caller has given up (a dial that does not watch ctx).
type slowSubscribe struct{ *fakeSource }

func (s slowSubscribe) Subscribe(ctx context.Context) (<-chan chain.Notification, error) {
	<-ctx.Done()
	time.Sleep(time.Second)
	return nil, errors.New("dial timed out")
}

// Start owns the subscription loop: when it returns, the loop has ended and
// touches the source no more (node.Start closes the chain client then).
// synctest's clock: the sleeps cost no time.
func TestStartWaitsForTheSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := slowSubscribe{newFakeSource(t, 10)}
		st := store.OpenMemory()
		require.NoError(t, st.SetCursor(10))
		w, err := watcher.New(src, st, make(chan watcher.Work, 8), watcher.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Start(ctx) }()
		synctest.Wait() // subscribing
		cancel()
		require.NoError(t, <-done)
		src.mu.Lock()
		calls := src.nextRPC
		src.mu.Unlock()
		time.Sleep(time.Minute)
		src.mu.Lock()
		defer src.mu.Unlock()
		require.Equal(t, calls, src.nextRPC, "the subscription loop used the source after Start returned")
		require.Equal(t, 1, calls, "the failed subscription moved to the next endpoint before Start returned")
	})
}
