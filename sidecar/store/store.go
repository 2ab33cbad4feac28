// Package store is the sidecar's embedded key-value store (goleveldb): the
// block cursor, the work found in blocks read but not yet handled, and per
// unit of work (a task by id, or an event a trigger matched) whether it was
// executed and whether its vote was sent, so that a restart neither loses nor
// repeats work. Work is keyed by a string: a task's decimal id, or
// "event/service/height/tx_hash/index".
//
// A COMMIT_REVEAL task (issue #20) is voted in two stages, each sent,
// pending and submitted on its own: the commit under CommitKey(id)
// ("commit/" and the id) and the reveal, which is the task's vote, under the
// task's key. The salt the commitment hides the outcome with is kept under
// the task's key (SetSalt) from before the commit is sent until the task is
// pruned: the reveal after a restart needs it.
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

	"github.com/avschain/avschain/x/avs/types"
)

var (
	keyCursor       = []byte("cursor")
	prefixExecuted  = "executed/"
	prefixSubmitted = "submitted/"
	prefixPending   = "pending/"
	prefixInbox     = "inbox/"
	prefixSalt      = "salt/"
	// commitStage prefixes a task's key to name its commit stage (CommitKey).
	commitStage = "commit/"
)

// Execution is what running a task's component produced.
type Execution struct {
	Result []byte `json:"result,omitempty"`
	// Error is set when the component failed; Failure then is the reason
	// voted (none: the error was not the component's, no vote is sent).
	Error   string              `json:"error,omitempty"`
	Failure types.FailureReason `json:"failure,omitempty"`
	// ExtraGas is the vote's extra gas (a handler contract to pay for).
	ExtraGas uint64 `json:"extra_gas,omitempty"`
	// CommitDeadline is, for a COMMIT_REVEAL task, its
	// commit_deadline_height (0: an OPEN task, voted in the clear): a
	// restart then commits and reveals the outcome instead of voting it.
	CommitDeadline int64 `json:"commit_deadline,omitempty"`
}

// Pending records a vote in a broadcast transaction not yet known to be
// included. The transaction carries a timeout height, so once the chain is
// past it the vote can be sent again without risk of counting twice.
type Pending struct {
	TxHash        string `json:"tx_hash"`
	TimeoutHeight int64  `json:"timeout_height"`
	Result        []byte `json:"result"`
	// TaskID or Event names what the vote is on (records written before
	// event triggers carry neither: their key is the task id).
	TaskID uint64          `json:"task_id,omitempty"`
	Event  *types.EventRef `json:"event,omitempty"`
	// Failure is the vote's failure reason (a failure vote has no result).
	Failure types.FailureReason `json:"failure,omitempty"`
	// ExtraGas is the vote's extra gas (a handler contract to pay for), so
	// that a vote sent again after a restart still carries it.
	ExtraGas uint64 `json:"extra_gas,omitempty"`
	// SentHeight is the chain's latest height when the transaction was
	// signed: it can be included from the next block on, so confirming it
	// reads the blocks from SentHeight+1 to TimeoutHeight. Zero in records
	// written before it existed.
	SentHeight int64 `json:"sent_height,omitempty"`
	// Deadline is the vote's deadline height (0: unknown), so that a vote
	// sent again after a restart keeps its place in the queue.
	Deadline int64 `json:"deadline,omitempty"`
	// Commitment makes the record a COMMIT_REVEAL task's commit; Salt, a
	// reveal (the vote of such a task). See types.TaskResult.
	Commitment []byte `json:"commitment,omitempty"`
	Salt       []byte `json:"salt,omitempty"`
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
func (s *Store) SetCursor(height int64) error { return s.Advance(height, nil) }

// Advance records, in one write, that every block up to height was read and
// the work found in it (by key) still to be done: it is handed out again by
// Inbox after a restart until Done is called for it.
func (s *Store) Advance(height int64, work map[string][]byte) error {
	bz := make([]byte, 8)
	binary.BigEndian.PutUint64(bz, uint64(height))
	b := s.db.NewBatch()
	defer b.Close()
	for k, v := range work {
		if err := b.Set(key(prefixInbox, k), v); err != nil {
			return err
		}
	}
	if err := b.Set(keyCursor, bz); err != nil {
		return err
	}
	return b.WriteSync()
}

// Inbox returns the work recorded by Advance and not yet done, by key.
func (s *Store) Inbox() (map[string][]byte, error) {
	it, err := dbm.IteratePrefix(s.db, []byte(prefixInbox))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string][]byte{}
	for ; it.Valid(); it.Next() {
		out[string(it.Key()[len(prefixInbox):])] = append([]byte(nil), it.Value()...)
	}
	return out, it.Error()
}

// Done removes a unit of work from the inbox. The delete is not synced: if a
// crash loses it, the work is handed out again and found executed or voted.
func (s *Store) Done(k string) error { return s.db.Delete(key(prefixInbox, k)) }

// WorkKey names a unit of work: a task's decimal id, or for an event-trigger
// vote (ev set) "event/" and the event's key.
func WorkKey(taskID uint64, ev *types.EventRef) string {
	if ev != nil {
		return "event/" + ev.Key()
	}
	return strconv.FormatUint(taskID, 10)
}

// CommitKey names the commit stage of a COMMIT_REVEAL task: its own
// submitted mark and pending record, apart from the reveal's (the task's
// key, WorkKey(taskID, nil)).
func CommitKey(taskID uint64) string { return commitStage + strconv.FormatUint(taskID, 10) }

func key(prefix, k string) []byte { return []byte(prefix + k) }

func (s *Store) getJSON(key []byte, v any) (bool, error) {
	bz, err := s.db.Get(key)
	if err != nil || bz == nil {
		return false, err
	}
	return true, json.Unmarshal(bz, v)
}

// setJSON writes v unsynced: it survives the process (leveldb has written it
// to its journal file when Set returns), and the next synced write (the vote
// recorded as pending, a batch a transaction) makes it durable with everything
// before it, the journal being one sequential file.
func (s *Store) setJSON(key []byte, v any) error {
	bz, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Set(key, bz)
}

// Executed returns the recorded execution of a unit of work, if any.
func (s *Store) Executed(k string) (Execution, bool, error) {
	var e Execution
	ok, err := s.getJSON(key(prefixExecuted, k), &e)
	return e, ok, err
}

// SetExecuted records an execution. Lost to a machine crash before the vote
// is recorded as pending, the work runs again: a deterministic component gives
// the same vote, and the chain keeps one vote per operator and task.
func (s *Store) SetExecuted(k string, e Execution) error {
	return s.setJSON(key(prefixExecuted, k), e)
}

// Salt returns the salt saved for a unit of work (a COMMIT_REVEAL task), if
// any.
func (s *Store) Salt(k string) ([]byte, bool, error) {
	bz, err := s.db.Get(key(prefixSalt, k))
	if err != nil || bz == nil {
		return nil, false, err
	}
	return bz, true, nil
}

// SetSalt saves the salt of a COMMIT_REVEAL task's commitment. It must be
// on disk whenever the commitment can be on chain, or the reveal is lost:
// written before the commit is queued, it is in the operating system's
// hands when SetSalt returns (it survives the process, SIGKILL included),
// and the commit's pending record, synced before the commit is broadcast,
// makes it durable against a machine crash too (leveldb's journal is one
// sequential file). A salt lost with a commit never sent costs nothing: a new
// one is drawn for a new commitment.
func (s *Store) SetSalt(k string, salt []byte) error {
	return s.db.Set(key(prefixSalt, k), salt)
}

// Submitted reports whether a vote is known to be on chain (or definitively
// refused); it is never sent again.
func (s *Store) Submitted(k string) (bool, error) {
	return s.db.Has(key(prefixSubmitted, k))
}

// MarkSubmitted records a vote as done and drops its pending record and its
// saved work: work that led to a vote stays saved until this point.
func (s *Store) MarkSubmitted(k string, txHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(key(prefixSubmitted, k), []byte(txHash)); err != nil {
		return err
	}
	if err := b.Delete(key(prefixPending, k)); err != nil {
		return err
	}
	if err := b.Delete(key(prefixInbox, k)); err != nil {
		return err
	}
	return b.WriteSync()
}

// MarkSubmittedBatch is MarkSubmitted for the votes of one transaction, in
// one synced write (one fsync per transaction, not one per vote).
func (s *Store) MarkSubmittedBatch(keys []string, txHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		if err := b.Set(key(prefixSubmitted, k), []byte(txHash)); err != nil {
			return err
		}
		if err := b.Delete(key(prefixPending, k)); err != nil {
			return err
		}
		if err := b.Delete(key(prefixInbox, k)); err != nil {
			return err
		}
	}
	return b.WriteSync()
}

// SetPending records that a vote went out in a transaction, synced.
func (s *Store) SetPending(k string, p Pending) error {
	return s.SetPendingBatch(map[string]Pending{k: p})
}

// SetPendingBatch records the votes of one transaction as pending, by key,
// in one synced write.
func (s *Store) SetPendingBatch(pending map[string]Pending) error {
	b := s.db.NewBatch()
	defer b.Close()
	for k, p := range pending {
		bz, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.Set(key(prefixPending, k), bz); err != nil {
			return err
		}
	}
	return b.WriteSync()
}

// ClearPending forgets a pending record (its transaction can no longer land).
func (s *Store) ClearPending(k string) error {
	return s.db.DeleteSync(key(prefixPending, k))
}

// ClearPendingBatch forgets the pending records of keys in one synced write.
func (s *Store) ClearPendingBatch(keys []string) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		if err := b.Delete(key(prefixPending, k)); err != nil {
			return err
		}
	}
	return b.WriteSync()
}

// PendingVotes returns every pending record by key. Records written before
// keys named events get their TaskID from the key.
func (s *Store) PendingVotes() (map[string]Pending, error) {
	it, err := dbm.IteratePrefix(s.db, []byte(prefixPending))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]Pending{}
	for ; it.Valid(); it.Next() {
		k := string(it.Key()[len(prefixPending):])
		var p Pending
		if err := json.Unmarshal(it.Value(), &p); err != nil {
			return nil, fmt.Errorf("corrupt pending record %q: %w", k, err)
		}
		if p.TaskID == 0 && p.Event == nil {
			id, err := strconv.ParseUint(k, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("corrupt pending key %q", k)
			}
			p.TaskID = id
		}
		out[k] = p
	}
	return out, it.Error()
}
