// Package appendqueue is the front of an event store's group commit: Append
// calls queue their appends for the store's one writer goroutine, which
// commits the appends that wait together in one transaction and answers
// each. It also keeps whether the store is closed. The SQLite and
// PostgreSQL adapters share it.
package appendqueue

import (
	"context"
	"sync"
	"time"

	"github.com/patentledger/ledger/domain"
)

// Caps of one group commit.
const (
	MaxAppends = 512
	MaxEvents  = 8192
)

// Request is one Append waiting for the writer.
type Request struct {
	Ctx     context.Context
	Appends []domain.StreamAppend // validated and normalised
	Events  int                   // the number of events of Appends
	Replies chan Reply            // the writer's answer; buffered, so that the writer never blocks
}

// NewRequest returns the request of validated appends, normalised
// (domain.NormalizeAppend).
func NewRequest(ctx context.Context, appends []domain.StreamAppend) *Request {
	r := &Request{Ctx: ctx, Replies: make(chan Reply, 1)}
	r.Appends, r.Events = domain.NormalizeAppend(appends, time.Now())
	return r
}

// Reply is the writer's answer to one Request.
type Reply struct {
	Res domain.AppendResult
	Err error
}

// Queue hands appends to a store's writer and tracks whether the store is
// closed. It is safe for concurrent use.
type Queue struct {
	errClosed error // what calls after Close return
	reqs      chan *Request

	mu      sync.RWMutex // guards closed against appends being queued
	closed  bool
	done    chan struct{} // closed by Close, to wake waiters
	stopped chan struct{} // closed when the writer returns; nil when none runs
}

// New returns an open queue whose calls after Close return errClosed.
func New(errClosed error) *Queue {
	return &Queue{errClosed: errClosed, reqs: make(chan *Request, MaxAppends), done: make(chan struct{})}
}

// Start runs write in a goroutine. write takes the requests of reqs,
// answers each (Answer, or Batch.Take), and returns once reqs is closed and empty.
func (q *Queue) Start(write func(reqs <-chan *Request)) {
	q.stopped = make(chan struct{})
	go func() {
		defer close(q.stopped)
		write(q.reqs)
	}()
}

// Append validates and normalises appends (domain.ValidateAppend,
// domain.NormalizeAppend), queues them for the writer and returns its
// reply. If ctx ends before the request is queued it returns ctx.Err() and
// nothing is written; once queued, the append completes. It returns the
// queue's closed error after Close.
func (q *Queue) Append(ctx context.Context, appends []domain.StreamAppend) (domain.AppendResult, error) {
	if err := domain.ValidateAppend(appends); err != nil {
		return domain.AppendResult{}, err
	}
	req := NewRequest(ctx, appends)
	if err := q.enqueue(ctx, req); err != nil {
		return domain.AppendResult{}, err
	}
	rep := <-req.Replies
	return rep.Res, rep.Err
}

// enqueue hands req to the writer unless the queue is closed or ctx ends
// first.
func (q *Queue) enqueue(ctx context.Context, req *Request) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return q.errClosed
	}
	select {
	case q.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CheckOpen returns the closed error after Close.
func (q *Queue) CheckOpen() error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return q.errClosed
	}
	return nil
}

// Done is closed by Close.
func (q *Queue) Done() <-chan struct{} { return q.done }

// Close stops accepting appends, closes Done and, when a writer runs,
// waits until it has answered every queued request and returned. It
// returns the closed error when the queue is closed already.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return q.errClosed
	}
	q.closed = true
	close(q.done)
	q.mu.Unlock()
	close(q.reqs) // no Append holds the read lock any more, so none sends
	if q.stopped != nil {
		<-q.stopped
	}
	return nil
}

// Answer sends every request of batch its reply.
func Answer(batch []*Request, replies []Reply) {
	for i, r := range batch {
		r.Replies <- replies[i]
	}
}

// FailAll answers with err every reply that had not failed on its own.
func FailAll(replies []Reply, err error) {
	for i := range replies {
		if replies[i].Err == nil {
			replies[i] = Reply{Err: err}
		}
	}
}

// Batch is a group commit being collected from the queue.
type Batch struct {
	Reqs   []*Request
	events int
}

// Full reports whether b has reached a cap.
func (b *Batch) Full() bool { return len(b.Reqs) >= MaxAppends || b.events >= MaxEvents }

// Take adds r to b, unless its context has ended: then r is answered with
// its context's error and left out, as it was not taken up.
func (b *Batch) Take(r *Request) {
	if err := r.Ctx.Err(); err != nil {
		r.Replies <- Reply{Err: err}
		return
	}
	b.Reqs = append(b.Reqs, r)
	b.events += r.Events
}

// Drain takes the requests queued on reqs until b is full.
func (b *Batch) Drain(reqs <-chan *Request) {
	for !b.Full() {
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			b.Take(r)
		default:
			return
		}
	}
}

// Await takes requests from reqs as they come until b holds target
// requests or is full, for at most d.
func (b *Batch) Await(reqs <-chan *Request, target int, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !b.Full() && len(b.Reqs) < target {
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			b.Take(r)
		case <-timer.C:
			return
		}
	}
}
