package projections

import "sync"

// scratchPool keeps the lists that past queries filled, for the next
// query to fill again: a query over a million events fills megabytes of
// them, and allocating them afresh for each query brings the collector
// round sooner. A query takes a *T with get, owns it alone, and gives it
// back with put when done; a T it gets may be new (zero) or hold a past
// query's lists.
type scratchPool[T any] struct{ pool sync.Pool }

// get returns a scratch no other query holds.
func (p *scratchPool[T]) get() *T {
	if s, ok := p.pool.Get().(*T); ok {
		return s
	}
	return new(T)
}

// put gives s back for a later query; the caller no longer uses it.
func (p *scratchPool[T]) put(s *T) { p.pool.Put(s) }
