package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Work records are kept until the deadline of their task has passed: a vote
// after it is refused, so nothing is left to remember (reliability review
// M12). The deadline of each unit of work is indexed by height so that
// pruning is a range scan:
//
//	deadline/<height, 20 digits>/<work key>  (empty value)
//	deadlineof/<work key>                    height (8 bytes, big-endian)
const (
	prefixDeadline   = "deadline/"
	prefixDeadlineOf = "deadlineof/"
)

// pruneChunk bounds the keys one Prune batch deletes.
const pruneChunk = 1000

func deadlineKey(height int64, k string) []byte {
	return fmt.Appendf(nil, "%s%020d/%s", prefixDeadline, height, k)
}

// SetDeadline records the last height at which a vote on the work counts
// (a task's deadline_height; for an event, an estimate). A later call moves
// it (an event task's deadline grows once confirmed). Not synced: a lost
// index entry costs only that the work's records are never pruned.
func (s *Store) SetDeadline(k string, height int64) error {
	if height < 0 {
		return fmt.Errorf("deadline %d of %s is negative", height, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok, err := s.deadline(k)
	if err != nil {
		return err
	}
	if ok && old == height {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if ok {
		if err := b.Delete(deadlineKey(old, k)); err != nil {
			return err
		}
	}
	bz := make([]byte, 8)
	binary.BigEndian.PutUint64(bz, uint64(height))
	if err := b.Set(key(prefixDeadlineOf, k), bz); err != nil {
		return err
	}
	if err := b.Set(deadlineKey(height, k), []byte{}); err != nil {
		return err
	}
	return b.Write()
}

// Deadline returns the deadline recorded for the work, if any.
func (s *Store) Deadline(k string) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline(k)
}

func (s *Store) deadline(k string) (int64, bool, error) {
	bz, err := s.db.Get(key(prefixDeadlineOf, k))
	if err != nil || bz == nil {
		return 0, false, err
	}
	if len(bz) != 8 {
		return 0, false, errors.New("corrupt deadline of " + k)
	}
	return int64(binary.BigEndian.Uint64(bz)), true, nil
}

// Prune forgets every unit of work whose deadline is below height: its
// execution, its submitted marks (a COMMIT_REVEAL task's commit's too), its
// salt, its attempt count, its saved work (the inbox) and its deadline. Pending records stay: they are the submitter's,
// and it clears them itself. It returns how many units were forgotten.
func (s *Store) Prune(height int64) (int, error) {
	if height <= 0 {
		return 0, nil
	}
	end := deadlineKey(height, "")
	total := 0
	for {
		keys, err := s.expired(end)
		if err != nil {
			return total, err
		}
		if len(keys) == 0 {
			return total, nil
		}
		if err := s.forget(keys); err != nil {
			return total, err
		}
		total += len(keys)
		if len(keys) < pruneChunk {
			return total, nil
		}
	}
}

// expired lists up to pruneChunk index keys below end (the iterator is
// closed before anything is deleted).
func (s *Store) expired(end []byte) ([][]byte, error) {
	it, err := s.db.Iterator([]byte(prefixDeadline), end)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var keys [][]byte
	for ; it.Valid() && len(keys) < pruneChunk; it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()...))
	}
	return keys, it.Error()
}

func (s *Store) forget(index [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, ik := range index {
		rest := strings.TrimPrefix(string(ik), prefixDeadline)
		_, k, ok := strings.Cut(rest, "/")
		if !ok {
			return fmt.Errorf("corrupt deadline index key %q", ik)
		}
		for _, dk := range [][]byte{
			ik, key(prefixDeadlineOf, k), key(prefixExecuted, k), key(prefixSubmitted, k),
			key(prefixAttempts, k), key(prefixInbox, k), key(prefixSalt, k), key(prefixSubmitted, commitStage+k),
		} {
			if err := b.Delete(dk); err != nil {
				return err
			}
		}
	}
	return b.Write()
}
