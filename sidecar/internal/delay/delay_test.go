package delay_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/internal/delay"
)

func TestDueInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := delay.New[string]()
		require.Nil(t, q.Next(), "an empty queue never fires")
		q.Add("b", 2*time.Second)
		q.Add("a", time.Second)
		q.Add("a2", time.Second)
		<-q.Added()
		require.Empty(t, q.Due(), "nothing is due yet")

		start := time.Now()
		<-q.Next()
		require.Equal(t, time.Second, time.Since(start))
		require.Equal(t, []string{"a", "a2"}, q.Due(), "due values in order of arrival")
		require.Equal(t, 1, q.Len())

		<-q.Next()
		require.Equal(t, 2*time.Second, time.Since(start))
		require.Equal(t, []string{"b"}, q.Due())
		require.Zero(t, q.Len())
	})
}
