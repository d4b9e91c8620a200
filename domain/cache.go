package domain

import (
	"container/list"
	"sort"
	"sync"
)

// stateCache keeps recently used aggregates in memory with the version they
// reflect, so a command reads only the events appended since. Each entry
// has a mutex: a command holds the entries of its streams while it decides
// and appends, so commands on one stream in one process run one at a time
// (they would conflict anyway) and never see each other's half-made state.
type stateCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	lru     *list.List // of *cacheEntry, most recent first
}

type cacheEntry struct {
	stream string
	mu     sync.Mutex
	state  aggregate
	// loaded is set once state has been read from the store.
	loaded bool
	users  int // guarded by stateCache.mu
}

func newStateCache(capacity int) *stateCache {
	return &stateCache{max: capacity, entries: map[string]*list.Element{}, lru: list.New()}
}

// acquire locks the entries of streams, in sorted order so that two
// commands over overlapping streams cannot deadlock. newState makes the
// empty state of a stream not yet cached. Release with release.
func (c *stateCache) acquire(streams []string, newState func(stream string) aggregate) []*cacheEntry {
	sorted := append([]string(nil), streams...)
	sort.Strings(sorted)
	byStream := make(map[string]*cacheEntry, len(streams))
	for _, s := range sorted {
		e := c.pin(s, newState)
		e.mu.Lock()
		byStream[s] = e
	}
	out := make([]*cacheEntry, len(streams))
	for i, s := range streams {
		out[i] = byStream[s]
	}
	return out
}

func (c *stateCache) pin(stream string, newState func(string) aggregate) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[stream]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		e.users++
		return e
	}
	e := &cacheEntry{stream: stream, state: newState(stream), users: 1}
	c.entries[stream] = c.lru.PushFront(e)
	c.evict()
	return e
}

// evict drops least recently used entries nobody holds while the cache is
// over its size.
func (c *stateCache) evict() {
	for el := c.lru.Back(); el != nil && len(c.entries) > c.max; {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); e.users == 0 {
			c.lru.Remove(el)
			delete(c.entries, e.stream)
		}
		el = prev
	}
}

// release unlocks entries. A broken entry (its state may no longer match
// the store) is replaced by an empty one before unlocking.
func (c *stateCache) release(entries []*cacheEntry, broken bool, newState func(string) aggregate) {
	for _, e := range entries {
		if broken {
			e.state, e.loaded = newState(e.stream), false
		}
		e.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		e.users--
	}
	c.evict()
}
