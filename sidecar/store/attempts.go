package store

import (
	"encoding/binary"
	"errors"
)

// prefixAttempts counts, per unit of work, the runs of its component started
// and not finished: a run that takes the process down (the kernel's OOM
// killer, a runtime crash) leaves its count behind, so that a restart can
// tell a poison task from one to run again (reliability review H4).
const prefixAttempts = "attempts/"

// StartAttempt records that a run of the work's component starts and returns
// how many runs have started without finishing, this one included. The count
// must survive the crash the run may cause, which is the process's: the
// write is in the operating system's hands (leveldb's journal, written with
// write(2)) before it returns, so it survives the process; it is not synced
// (an fsync a task was 13 % of a sidecar's CPU under load, issue #16), since a
// machine crash that loses it costs one more attempt, nothing else.
func (s *Store) StartAttempt(k string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.attempts(k)
	if err != nil {
		return 0, err
	}
	n++
	bz := make([]byte, 4)
	binary.BigEndian.PutUint32(bz, uint32(n))
	if err := s.db.Set(key(prefixAttempts, k), bz); err != nil {
		return 0, err
	}
	return n, nil
}

// Attempts returns how many runs of the work's component started without
// finishing.
func (s *Store) Attempts(k string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts(k)
}

func (s *Store) attempts(k string) (int, error) {
	bz, err := s.db.Get(key(prefixAttempts, k))
	if err != nil || bz == nil {
		return 0, err
	}
	if len(bz) != 4 {
		return 0, errors.New("corrupt attempt count " + k)
	}
	return int(binary.BigEndian.Uint32(bz)), nil
}

// ClearAttempts records that the work's runs finished (the process survived
// them). The delete is not synced: a count a crash brings back is one crash
// too many for that work, never a lost result, since the outcome the run
// produced was recorded first.
func (s *Store) ClearAttempts(k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Delete(key(prefixAttempts, k))
}
