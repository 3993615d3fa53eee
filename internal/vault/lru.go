package vault

import (
	"container/list"
	"sync"
)

// lru is a bounded, least-recently-used cache from wrapped record keys to
// unwrapped ones. It is safe for concurrent use.
type lru struct {
	mu    sync.Mutex
	limit int
	order *list.List // of *lruEntry, most recently used first
	items map[string]*list.Element
}

// lruEntry is one cached record key.
type lruEntry struct {
	key string
	val *recordKey
}

// newLRU returns an empty cache holding at most limit entries.
func newLRU(limit int) *lru {
	return &lru{limit: limit, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the entry for key and marks it recently used, or nil.
func (c *lru) get(key []byte) *recordKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[string(key)]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry).val
}

// add caches val under key, evicting the least recently used entry when
// the cache is full. An entry already present for key is kept.
func (c *lru) add(key string, val *recordKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, val: val})
	for c.order.Len() > c.limit {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry).key)
	}
}

// remove drops the entry for key, if any.
func (c *lru) remove(key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(key)]; ok {
		c.order.Remove(el)
		delete(c.items, string(key))
	}
}

// len returns the number of cached entries.
func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
