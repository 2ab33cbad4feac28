package pipeline

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/avschain/avschain/x/avs/types"
)

// component returns a component's wasm, fetched once and checked against its
// digest. Concurrent callers of one digest share one download (M6).
func (p *Pipeline) component(ctx context.Context, digest string) ([]byte, error) {
	if wasm, ok := p.overrides[digest]; ok {
		return wasm, nil
	}
	if wasm, ok := p.components.get(digest); ok {
		return wasm, nil
	}
	v, err, _ := p.downloads.Do(digest, func() (any, error) {
		if wasm, ok := p.components.get(digest); ok {
			return wasm, nil
		}
		wasm, err := p.chain.ComponentCode(ctx, digest)
		if err != nil {
			return nil, fmt.Errorf("fetch component %s: %w", digest, err)
		}
		if got := types.Digest(wasm); got != digest {
			return nil, fmt.Errorf("component %s: the chain served bytes with digest %s", digest, got)
		}
		p.components.add(digest, wasm)
		return wasm, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// componentCache keeps components by digest up to a number of bytes, the
// least recently used going first (M12: the cache grew with every digest).
type componentCache struct {
	mu    sync.Mutex
	limit int64
	size  int64
	order *list.List // of *cached, most recently used first
	byKey map[string]*list.Element
}

type cached struct {
	digest string
	wasm   []byte
}

func newComponentCache(limit int64) *componentCache {
	return &componentCache{limit: limit, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *componentCache) get(digest string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[digest]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached).wasm, true
}

// add keeps wasm unless it alone is over the limit, evicting the least
// recently used components to make room.
func (c *componentCache) add(digest string, wasm []byte) {
	n := int64(len(wasm))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[digest]; ok || n > c.limit {
		return
	}
	for c.size+n > c.limit {
		last := c.order.Back()
		old := last.Value.(*cached)
		c.order.Remove(last)
		delete(c.byKey, old.digest)
		c.size -= int64(len(old.wasm))
	}
	c.byKey[digest] = c.order.PushFront(&cached{digest: digest, wasm: wasm})
	c.size += n
}
