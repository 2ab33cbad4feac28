package store

import (
	"encoding/json"
	"fmt"
	"time"
)

var keyIdentity = []byte("identity")

// Identity names the chain a store's records belong to: task ids, the
// cursor and the votes sent mean nothing on another chain (H3: a devnet
// relaunched under the same chain id reused them, and voted old results on
// new tasks).
type Identity struct {
	ChainID string `json:"chain_id"`
	// GenesisHash is the hex sha256 of the genesis document
	// (chain.Client.GenesisHash); "" when the node could not serve it.
	GenesisHash string    `json:"genesis_hash,omitempty"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// ChainMismatchError is BindChain's refusal: the store belongs to Stored,
// the node serves Node. Nothing was changed.
type ChainMismatchError struct {
	Stored, Node Identity
}

func (e *ChainMismatchError) Error() string {
	return fmt.Sprintf("the data dir belongs to chain %q (genesis %s, first used %s) but the node serves chain %q (genesis %s); "+
		"nothing was deleted: point data_dir at another directory for this chain, "+
		"or, if the old chain is gone for good, remove the data dir deliberately and start again",
		e.Stored.ChainID, short(e.Stored.GenesisHash), e.Stored.RecordedAt.Format(time.RFC3339),
		e.Node.ChainID, short(e.Node.GenesisHash))
}

func short(hash string) string {
	switch {
	case hash == "":
		return "unknown"
	case len(hash) > 16:
		return hash[:16]
	default:
		return hash
	}
}

// Identity returns the chain the store was bound to, if any.
func (s *Store) Identity() (Identity, bool, error) {
	var id Identity
	ok, err := s.getJSON(keyIdentity, &id)
	return id, ok, err
}

// BindChain ties the store to the chain the node serves. On first use it
// records node (a store written before identities existed is bound to the
// chain it now meets); afterwards it returns a *ChainMismatchError when the
// chain id differs, or when both genesis hashes are known and differ. A
// genesis hash recorded as unknown is filled in once the node serves one.
func (s *Store) BindChain(node Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok, err := s.Identity()
	if err != nil {
		return fmt.Errorf("read the store's chain identity: %w", err)
	}
	if node.RecordedAt.IsZero() {
		node.RecordedAt = time.Now().UTC()
	}
	if !ok {
		return s.setIdentity(node)
	}
	if err := stored.check(node); err != nil {
		return err
	}
	if stored.GenesisHash == "" && node.GenesisHash != "" {
		stored.GenesisHash = node.GenesisHash
		return s.setIdentity(stored)
	}
	return nil
}

// CheckChain is BindChain without writing: nil when the store is unbound
// or bound to node's chain.
func (s *Store) CheckChain(node Identity) error {
	stored, ok, err := s.Identity()
	if err != nil || !ok {
		return err
	}
	return stored.check(node)
}

func (id Identity) check(node Identity) error {
	if id.ChainID != node.ChainID || (id.GenesisHash != "" && node.GenesisHash != "" && id.GenesisHash != node.GenesisHash) {
		return &ChainMismatchError{Stored: id, Node: node}
	}
	return nil
}

func (s *Store) setIdentity(id Identity) error {
	bz, err := json.Marshal(id)
	if err != nil {
		return err
	}
	return s.db.SetSync(keyIdentity, bz)
}
