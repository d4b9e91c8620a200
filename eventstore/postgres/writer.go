package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

// Group commit caps: a batch stops growing at maxBatchAppends queued appends
// or once it holds maxBatchEvents events, whichever comes first. maxLinger
// bounds the wait for appenders expected back (see writer.collect).
const (
	maxBatchAppends = 512
	maxBatchEvents  = 8192
	maxLinger       = 500 * time.Microsecond
)

// appendRequest is one Append call waiting for the writer.
type appendRequest struct {
	ctx     context.Context
	appends []domain.StreamAppend // validated and normalized
	events  int
	reply   chan appendReply // buffered, so that the writer never blocks
}

// appendReply is the writer's answer to one appendRequest.
type appendReply struct {
	res domain.AppendResult
	err error
}

// writer runs the group commits of one Store.
type writer struct {
	pool    *pgxpool.Pool
	channel channel
	reqs    chan *appendRequest
	done    chan struct{} // closed when run returns
	last    int           // requests in the last batch; used by run only
}

// newWriter returns a writer that appends through pool and notifies on
// channel.
func newWriter(pool *pgxpool.Pool, channel channel) *writer {
	return &writer{pool: pool, channel: channel,
		reqs: make(chan *appendRequest, maxBatchAppends), done: make(chan struct{})}
}

// stop closes the queue and waits until run has committed every queued
// append and returned.
func (w *writer) stop() {
	close(w.reqs)
	<-w.done
}

// run commits batches of queued appends until the queue is closed and empty,
// telling notify of each commit.
func (w *writer) run(notify *headwatch.Notifier) {
	defer close(w.done)
	for first := range w.reqs {
		if batch := w.collect(first); len(batch) > 0 {
			w.commit(batch, notify)
		}
	}
}

// collect returns first and whatever else is queued, up to the batch caps.
// When fewer requests are queued than half the last batch held, the
// appenders that batch answered are likely on their way back, so collect
// waits up to maxLinger for as many requests as the last batch held.
func (w *writer) collect(first *appendRequest) []*appendRequest {
	b := &batch{}
	b.take(first)
	b.drain(w.reqs)
	if 2*len(b.reqs) < w.last {
		b.await(w.reqs, w.last, maxLinger)
	}
	w.last = len(b.reqs)
	return b.reqs
}

// batch is a group commit being collected.
type batch struct {
	reqs   []*appendRequest
	events int
}

// full reports whether b has reached a batch cap.
func (b *batch) full() bool {
	return len(b.reqs) >= maxBatchAppends || b.events >= maxBatchEvents
}

// take adds r to b, unless its context has ended: then r is answered with
// its context's error and left out, as it was not taken up.
func (b *batch) take(r *appendRequest) {
	if err := r.ctx.Err(); err != nil {
		r.reply <- appendReply{err: err}
		return
	}
	b.reqs = append(b.reqs, r)
	b.events += r.events
}

// drain takes the requests queued on reqs until b is full.
func (b *batch) drain(reqs <-chan *appendRequest) {
	for !b.full() {
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			b.take(r)
		default:
			return
		}
	}
}

// await takes requests from reqs as they come until b holds target
// requests or is full, for at most d.
func (b *batch) await(reqs <-chan *appendRequest, target int, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !b.full() && len(b.reqs) < target {
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			b.take(r)
		case <-timer.C:
			return
		}
	}
}

// commit writes batch in one transaction and answers every request. It first
// inserts every append that holds with one statement; when PostgreSQL
// refuses that insert, it redoes the batch with a savepoint per append so
// that the refused append fails alone. When the transaction itself fails,
// every append that had not failed on its own is answered with that failure.
func (w *writer) commit(batch []*appendRequest, notify *headwatch.Notifier) {
	ctx := context.Background() // an append taken up completes
	replies, head, err := w.attempt(ctx, batch, (*txn).writeAll)
	if errors.Is(err, errInsertRefused) {
		replies, head, err = w.attempt(ctx, batch, (*txn).writeEach)
	}
	if err != nil {
		failAll(replies, fmt.Errorf("postgres: append: %w", err))
	} else {
		notify.Advance(head)
	}
	for i, r := range batch {
		r.reply <- replies[i]
	}
}

// attempt runs batch in one transaction on a pooled connection with write,
// which fills the replies and ends the transaction. It returns the replies
// and the last position of the log after the transaction.
func (w *writer) attempt(ctx context.Context, batch []*appendRequest, write func(*txn, []*appendRequest, []appendReply) error) ([]appendReply, int64, error) {
	replies := make([]appendReply, len(batch))
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return replies, 0, err
	}
	// A connection left inside a transaction (a failed ROLLBACK below) is
	// destroyed, not reused, when released.
	defer conn.Release()
	t, err := begin(ctx, conn, w.channel, batch)
	if err == nil {
		err = write(t, batch, replies)
	}
	if err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return replies, 0, err
	}
	return replies, t.head.Position, nil
}

// failAll answers with err every reply that had not failed on its own.
func failAll(replies []appendReply, err error) {
	for i := range replies {
		if replies[i].err == nil {
			replies[i] = appendReply{err: err}
		}
	}
}
