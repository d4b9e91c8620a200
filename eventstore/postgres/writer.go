package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

// maxLinger bounds the wait for appenders expected back (see
// writer.collect).
const maxLinger = 500 * time.Microsecond

// writer runs the group commits of one Store.
type writer struct {
	pool    *pgxpool.Pool
	channel channel
	timeout time.Duration // bounds one commit's transaction
	last    int           // requests in the last batch; used by run only
}

// newWriter returns a writer that appends through pool, notifies on channel
// and gives up on a transaction after timeout.
func newWriter(pool *pgxpool.Pool, channel channel, timeout time.Duration) *writer {
	return &writer{pool: pool, channel: channel, timeout: timeout}
}

// run commits batches of the appends queued on reqs until reqs is closed
// and empty, telling notify of each commit.
func (w *writer) run(reqs <-chan *appendqueue.Request, notify *headwatch.Notifier) {
	for first := range reqs {
		if batch := w.collect(first, reqs); len(batch) > 0 {
			w.commit(batch, notify)
		}
	}
}

// collect returns first and whatever else is queued, up to the batch caps.
// When fewer requests are queued than half the last batch held, the
// appenders that batch answered are likely on their way back, so collect
// waits up to maxLinger for as many requests as the last batch held.
func (w *writer) collect(first *appendqueue.Request, reqs <-chan *appendqueue.Request) []*appendqueue.Request {
	b := &appendqueue.Batch{}
	b.Take(first)
	b.Drain(reqs)
	if 2*len(b.Reqs) < w.last {
		b.Await(reqs, w.last, maxLinger)
	}
	w.last = len(b.Reqs)
	return b.Reqs
}

// commit writes batch in one transaction and answers every request. It first
// inserts every append that holds with one statement; when PostgreSQL
// refuses that insert, it redoes the batch with a savepoint per append so
// that the refused append fails alone. When the transaction itself fails,
// every append that had not failed on its own is answered with that failure.
func (w *writer) commit(batch []*appendqueue.Request, notify *headwatch.Notifier) {
	// An append taken up completes, whatever its caller does, unless the
	// database stops answering.
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	replies, head, err := w.attempt(ctx, batch, (*txn).writeAll)
	if errors.Is(err, errInsertRefused) {
		replies, head, err = w.attempt(ctx, batch, (*txn).writeEach)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		appendqueue.FailAll(replies, fmt.Errorf("postgres: append: %w: %w",
			domain.Unavailable("the event store (PostgreSQL) did not answer within %s; retry later", w.timeout), err))
	case err != nil:
		appendqueue.FailAll(replies, fmt.Errorf("postgres: append: %w", unavailableWhenTransient(err)))
	default:
		notify.Advance(head)
	}
	appendqueue.Answer(batch, replies)
}

// attempt runs batch in one transaction on a pooled connection with write,
// which fills the replies and ends the transaction. It returns the replies
// and the last position of the log after the transaction.
func (w *writer) attempt(ctx context.Context, batch []*appendqueue.Request,
	write func(*txn, []*appendqueue.Request, []appendqueue.Reply) error) ([]appendqueue.Reply, int64, error) {
	replies := make([]appendqueue.Reply, len(batch))
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
