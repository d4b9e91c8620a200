// Package headwatch tells the goroutines waiting in an event store's
// WaitForPosition that the global log has grown. Every adapter uses it.
package headwatch

import (
	"context"
	"sync"
	"time"
)

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

// Wait blocks until the notifier knows of a position greater than after.
// It returns ctx.Err() when ctx ends first and closedErr when done is
// closed first. When poll is not nil it is called every interval, to learn
// of commits made elsewhere (its error ends the wait).
func (n *Notifier) Wait(ctx context.Context, after int64, done <-chan struct{}, closedErr error,
	interval time.Duration, poll func(context.Context) error) error {
	var tick <-chan time.Time
	if poll != nil {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		pos, advanced := n.Current()
		if pos > after {
			return nil
		}
		select {
		case <-advanced:
		case <-tick:
			if err := poll(ctx); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return closedErr
		}
	}
}
