package projections

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/domain"
)

// RelayOptions configure a Relay. The zero value is a sensible default.
type RelayOptions struct {
	// Logger receives errors; slog.Default() when nil.
	Logger *slog.Logger
	// BatchSize is how many events one read of the log returns; 1,000
	// when zero.
	BatchSize int
	// RetryDelay is the pause after a failed read or publish; 1 s when
	// zero.
	RetryDelay time.Duration
}

// Relay tails the global log of an event store in commit order and
// publishes every event on Topic (see NewMessage). Exactly one relay may
// publish a given store's log at a time. A Relay is safe for concurrent use;
// Run is called once.
type Relay struct {
	store     domain.EventStore
	publisher message.Publisher
	log       *slog.Logger
	batch     int
	delay     time.Duration
	position  atomic.Int64
	events    *prometheus.CounterVec
}

// NewRelay returns a relay that reads store and publishes on publisher.
func NewRelay(store domain.EventStore, publisher message.Publisher, opts RelayOptions) *Relay {
	r := &Relay{store: store, publisher: publisher, log: opts.Logger, batch: opts.BatchSize, delay: opts.RetryDelay,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_events_appended_total",
			Help: "Events appended to the store since the process started, counted as the relay publishes them, by type.",
		}, []string{"type"})}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.batch <= 0 {
		r.batch = 1000
	}
	if r.delay <= 0 {
		r.delay = time.Second
	}
	return r
}

// Position returns the position of the last event published.
func (r *Relay) Position() int64 { return r.position.Load() }

// Run publishes every event after position from, in order, and then each
// new one as it is committed, until ctx is done; it then returns nil. A
// failed read or publish is logged and retried after RetryDelay, from the
// first event not yet published, so a consumer may see an event twice but
// never misses one.
func (r *Relay) Run(ctx context.Context, from int64) error {
	pos := from
	r.position.Store(pos)
	for ctx.Err() == nil {
		next, err := r.step(ctx, pos)
		pos = next
		if err == nil || ctx.Err() != nil {
			continue
		}
		r.log.Error("relay: cannot publish the log; retrying", "after_position", pos, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(r.delay):
		}
	}
	return nil
}

// step publishes the next batch of events after pos, or waits for one, and
// returns the position of the last event published.
func (r *Relay) step(ctx context.Context, pos int64) (int64, error) {
	events, err := r.store.ReadAll(ctx, pos, r.batch)
	if err != nil {
		return pos, err
	}
	if len(events) == 0 {
		return pos, r.store.WaitForPosition(ctx, pos)
	}
	msgs := make([]*message.Message, len(events))
	prev := pos
	for i, e := range events {
		if msgs[i], err = NewMessage(e, prev); err != nil {
			return pos, err
		}
		prev = e.Position
	}
	for _, m := range msgs {
		m.Metadata.Set(MetaBatchLast, strconv.FormatInt(prev, 10))
	}
	if err := r.publisher.Publish(Topic, msgs...); err != nil {
		return pos, fmt.Errorf("publish: %w", err)
	}
	for _, e := range events {
		r.events.WithLabelValues(e.Type).Inc()
	}
	r.position.Store(prev)
	return prev, nil
}
