package node

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/config"
)

func TestRelayHeights(t *testing.T) {
	in := make(chan int64)
	out := make(chan int64, 1)
	reported := make(chan int64, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		relayHeights(ctx, in, out, func(h int64) { reported <- h })
	}()

	in <- 5
	require.EqualValues(t, 5, <-reported)
	require.EqualValues(t, 5, <-out, "passed on to the submitter")

	// The submitter has not taken 6 yet: 7 is reported but not passed on,
	// and the watcher is not held up.
	in <- 6
	require.EqualValues(t, 6, <-reported)
	in <- 7
	require.EqualValues(t, 7, <-reported)
	cancel()
	<-done
	require.Len(t, out, 1)
	require.EqualValues(t, 6, <-out)
}

func TestNewRefusesAnUnusableConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Concurrency = 0
	cfg.RPCEndpoints = nil
	_, err := New(cfg)
	require.ErrorContains(t, err, "concurrency")
	require.ErrorContains(t, err, "rpc_endpoints")

	n, err := New(config.Default())
	require.NoError(t, err)
	require.NotNil(t, n.Metrics())
}
