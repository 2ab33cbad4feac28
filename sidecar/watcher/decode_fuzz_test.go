package watcher_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/sidecar/watcher"
	"github.com/avschain/avschain/x/avs/types"
)

// FuzzDecodeWork: the inbox is read back from disk after a restart, so its
// bytes may be anything a crash or an older version left. Any bytes decode
// to work that names a task or an event, or fail with ErrCorruptWork (the
// pipeline drops that item), never a panic; decoded work saves again as the
// watcher saves it (json.Marshal) and reads back the same, under the same
// key (tests review M6).
func FuzzDecodeWork(f *testing.F) {
	for _, w := range []watcher.Work{
		{ID: 7, ServiceID: 2, Height: 41},
		{ID: 8, ServiceID: 2},
		{ServiceID: 3, Height: 5, BlockTime: time.Date(2025, 6, 1, 12, 0, 5, 0, time.UTC),
			Event: &types.EventRef{ServiceId: 3, Height: 5, TxHash: "AB12", EventIndex: 4, Input: []byte(`{"trigger":"event"}`)}},
	} {
		bz, err := json.Marshal(w)
		require.NoError(f, err)
		f.Add(bz)
	}
	f.Add([]byte(`{"service_id":2,"height":41}`))
	f.Add([]byte(`{"id":-1}`))
	f.Add([]byte(`{"id":1,"block_time":"2025-06-01T12:00:05+01:00"}`))
	f.Add([]byte(`{"event":{"service_id":"3","input":"!"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, bz []byte) {
		w, err := watcher.DecodeWork(bz)
		if err != nil {
			require.ErrorIs(t, err, watcher.ErrCorruptWork)
			require.Equal(t, watcher.Work{}, w)
			return
		}
		require.True(t, w.ID != 0 || w.Event != nil, "work names a task or an event")
		require.Nil(t, w.Created, "the created event is never read from disk")
		saved, err := json.Marshal(w)
		require.NoError(t, err, "decoded work can be saved again")
		back, err := watcher.DecodeWork(saved)
		require.NoError(t, err)
		require.Equal(t, w.Key(), back.Key())
		require.Equal(t, [3]int64{int64(w.ID), int64(w.ServiceID), w.Height}, [3]int64{int64(back.ID), int64(back.ServiceID), back.Height})
		require.True(t, w.BlockTime.Equal(back.BlockTime), "block time %s, read back %s", w.BlockTime, back.BlockTime)
		// proto.Equal: an empty input ("") reads back as none, the same EventRef on the chain
		require.True(t, proto.Equal(w.Event, back.Event), "event %v, read back %v", w.Event, back.Event)
		again, err := json.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(saved), string(again), "saving is a fixed point")
	})
}
