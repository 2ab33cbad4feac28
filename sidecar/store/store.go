// Package store is the sidecar's embedded key-value store (goleveldb): the
// block cursor, and per task whether it was executed and whether its vote was
// sent, so that a restart neither loses nor repeats work.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	dbm "github.com/cosmos/cosmos-db"
)

var (
	keyCursor       = []byte("cursor")
	prefixExecuted  = "executed/"
	prefixSubmitted = "submitted/"
	prefixPending   = "pending/"
)

// Execution is what running a task's component produced.
type Execution struct {
	Result []byte `json:"result,omitempty"`
	// Error is set when the component failed: no vote is sent for it.
	Error string `json:"error,omitempty"`
}

// Pending records a vote in a broadcast transaction not yet known to be
// included. The transaction carries a timeout height, so once the chain is
// past it the vote can be sent again without risk of counting twice.
type Pending struct {
	TxHash        string `json:"tx_hash"`
	TimeoutHeight int64  `json:"timeout_height"`
	Result        []byte `json:"result"`
}

// Store is safe for concurrent use.
type Store struct {
	mu sync.Mutex
	db dbm.DB
}

// Open opens (or creates) the store in dir.
func Open(dir string) (*Store, error) {
	db, err := dbm.NewGoLevelDB("sidecar", filepath.Clean(dir), nil)
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// OpenMemory returns a store that lives in memory (tests, exec).
func OpenMemory() *Store { return &Store{db: dbm.NewMemDB()} }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Cursor returns the last fully processed height (0 when none).
func (s *Store) Cursor() (int64, error) {
	bz, err := s.db.Get(keyCursor)
	if err != nil || bz == nil {
		return 0, err
	}
	if len(bz) != 8 {
		return 0, errors.New("corrupt cursor")
	}
	return int64(binary.BigEndian.Uint64(bz)), nil
}

// SetCursor records that every block up to height was processed.
func (s *Store) SetCursor(height int64) error {
	bz := make([]byte, 8)
	binary.BigEndian.PutUint64(bz, uint64(height))
	return s.db.SetSync(keyCursor, bz)
}

func taskKey(prefix string, id uint64) []byte { return []byte(prefix + strconv.FormatUint(id, 10)) }

func (s *Store) getJSON(key []byte, v any) (bool, error) {
	bz, err := s.db.Get(key)
	if err != nil || bz == nil {
		return false, err
	}
	return true, json.Unmarshal(bz, v)
}

func (s *Store) setJSON(key []byte, v any) error {
	bz, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.SetSync(key, bz)
}

// Executed returns the recorded execution of a task, if any.
func (s *Store) Executed(id uint64) (Execution, bool, error) {
	var e Execution
	ok, err := s.getJSON(taskKey(prefixExecuted, id), &e)
	return e, ok, err
}

// SetExecuted records a task's execution.
func (s *Store) SetExecuted(id uint64, e Execution) error {
	return s.setJSON(taskKey(prefixExecuted, id), e)
}

// Submitted reports whether a task's vote is known to be on chain (or
// definitively refused); it is never sent again.
func (s *Store) Submitted(id uint64) (bool, error) {
	return s.db.Has(taskKey(prefixSubmitted, id))
}

// MarkSubmitted records a task's vote as done and drops its pending record.
func (s *Store) MarkSubmitted(id uint64, txHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(taskKey(prefixSubmitted, id), []byte(txHash)); err != nil {
		return err
	}
	if err := b.Delete(taskKey(prefixPending, id)); err != nil {
		return err
	}
	return b.WriteSync()
}

// SetPending records that a task's vote went out in a transaction.
func (s *Store) SetPending(id uint64, p Pending) error {
	return s.setJSON(taskKey(prefixPending, id), p)
}

// ClearPending forgets a pending record (its transaction can no longer land).
func (s *Store) ClearPending(id uint64) error {
	return s.db.DeleteSync(taskKey(prefixPending, id))
}

// PendingVotes returns every pending record by task id.
func (s *Store) PendingVotes() (map[uint64]Pending, error) {
	it, err := dbm.IteratePrefix(s.db, []byte(prefixPending))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[uint64]Pending{}
	for ; it.Valid(); it.Next() {
		id, err := strconv.ParseUint(string(it.Key()[len(prefixPending):]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("corrupt pending key %q", it.Key())
		}
		var p Pending
		if err := json.Unmarshal(it.Value(), &p); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, it.Error()
}
