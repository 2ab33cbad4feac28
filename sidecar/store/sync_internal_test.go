package store

import (
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"
)

// syncCountDB counts the synced writes made through it.
type syncCountDB struct {
	dbm.DB
	syncs int
}

func (d *syncCountDB) SetSync(k, v []byte) error { d.syncs++; return d.DB.SetSync(k, v) }
func (d *syncCountDB) DeleteSync(k []byte) error { d.syncs++; return d.DB.DeleteSync(k) }
func (d *syncCountDB) NewBatch() dbm.Batch       { return &syncCountBatch{Batch: d.DB.NewBatch(), db: d} }

type syncCountBatch struct {
	dbm.Batch
	db *syncCountDB
}

func (b *syncCountBatch) WriteSync() error { b.db.syncs++; return b.Batch.WriteSync() }

// A transaction of many votes costs one fsync to record as pending and one
// to record as submitted (M7: it was one per vote each).
func TestM7OneSyncedWritePerBatch(t *testing.T) {
	db := &syncCountDB{DB: dbm.NewMemDB()}
	s := &Store{db: db}
	pending := map[string]Pending{}
	var keys []string
	for _, k := range []string{"1", "2", "3", "4", "5"} {
		pending[k] = Pending{TxHash: "AA", TimeoutHeight: 25}
		keys = append(keys, k)
	}
	require.NoError(t, s.SetPendingBatch(pending))
	require.Equal(t, 1, db.syncs)
	require.NoError(t, s.MarkSubmittedBatch(keys, "AA"))
	require.Equal(t, 2, db.syncs)
	require.NoError(t, s.ClearPendingBatch(keys))
	require.Equal(t, 3, db.syncs)
}

// Running a task costs no fsync: the attempt before the run and the
// execution after it are written unsynced (they survive the process: see
// TestRecordsSurviveAKilledProcess); the vote's pending record is the synced
// write that makes them durable (issue #16: one fsync per batch).
func TestRunningATaskSyncsNothing(t *testing.T) {
	db := &syncCountDB{DB: dbm.NewMemDB()}
	s := &Store{db: db}
	n, err := s.StartAttempt("1")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.SetExecuted("1", Execution{Result: []byte("49")}))
	require.Equal(t, 0, db.syncs)
	require.NoError(t, s.SetPending("1", Pending{TxHash: "AA", TimeoutHeight: 25}))
	require.Equal(t, 1, db.syncs, "the pending vote is synced")
}
