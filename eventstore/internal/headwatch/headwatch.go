// Package headwatch tells the goroutines waiting in an event store's
// WaitForPosition that the global log has grown. Every adapter uses it.
package headwatch

import "sync"

// Notifier knows the last position of the log it has been told of. Each
// advance closes the current channel and makes a new one, so any number of
// waiters wake at once. It is safe for concurrent use.
type Notifier struct {
	mu  sync.Mutex
	pos int64
	ch  chan struct{}
}

// New returns a notifier that knows of the log up to pos.
func New(pos int64) *Notifier {
	return &Notifier{pos: pos, ch: make(chan struct{})}
}

// Advance records that the log holds position pos and wakes every waiter
// when that is news.
func (n *Notifier) Advance(pos int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos <= n.pos {
		return
	}
	n.pos = pos
	close(n.ch)
	n.ch = make(chan struct{})
}

// Current returns the last known position and a channel closed on the next
// advance.
func (n *Notifier) Current() (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pos, n.ch
}
