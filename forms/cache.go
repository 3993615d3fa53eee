package forms

import (
	"container/list"
	"fmt"
	"sync"
)

// Cache holds compiled validators by form-version id. Versions are
// immutable, so an entry never goes stale; the least recently used entries
// leave when the cache is full. Concurrent requests for one id compile it
// once.
type Cache struct {
	compiler *Compiler
	max      int

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry
	lru     *list.List               // front: most recently used
}

// cacheEntry is one version's validator, or the compilation in flight.
type cacheEntry struct {
	id   string
	done chan struct{} // closed when v and err are set
	v    Validator
	err  error
}

// NewCache returns a cache compiling with c and holding at most max
// validators (at least 1).
func NewCache(c *Compiler, max int) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{compiler: c, max: max, entries: make(map[string]*list.Element), lru: list.New()}
}

// Get returns the validator of the form version versionID, compiling the
// schema that schema returns when the cache does not hold it. Callers
// asking for the same id while it compiles wait for that compilation.
// Failures are not kept: the next Get tries again.
func (k *Cache) Get(versionID string, schema func() ([]byte, error)) (Validator, error) {
	k.mu.Lock()
	if el, ok := k.entries[versionID]; ok {
		k.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		k.mu.Unlock()
		<-e.done
		return e.v, e.err
	}
	e := &cacheEntry{id: versionID, done: make(chan struct{})}
	k.entries[versionID] = k.lru.PushFront(e)
	for k.lru.Len() > k.max {
		old := k.lru.Back()
		k.lru.Remove(old)
		delete(k.entries, old.Value.(*cacheEntry).id)
	}
	k.mu.Unlock()

	defer close(e.done)
	defer func() {
		if e.err != nil {
			k.forget(e)
		}
	}()
	e.err = fmt.Errorf("forms: compiling form version %s: panic", versionID) // replaced unless schema or Compile panics
	src, err := schema()
	if err != nil {
		e.err = fmt.Errorf("forms: loading the schema of form version %s: %w", versionID, err)
		return nil, e.err
	}
	v, err := k.compiler.Compile(src)
	if err != nil {
		e.err = fmt.Errorf("forms: compiling form version %s: %w", versionID, err)
		return nil, e.err
	}
	e.v, e.err = v, nil
	return v, nil
}

// Len returns how many validators the cache holds or is compiling.
func (k *Cache) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lru.Len()
}

// forget removes e, unless another entry has replaced it.
func (k *Cache) forget(e *cacheEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if el, ok := k.entries[e.id]; ok && el.Value.(*cacheEntry) == e {
		k.lru.Remove(el)
		delete(k.entries, e.id)
	}
}
