package esdb

import (
	"context"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// WaitForPosition blocks until the global log holds an event with a
// position greater than afterPosition, as domain.EventStore.WaitForPosition
// describes. Appends through this store wake it at once; appends by other
// processes reach it through a catch-up subscription to the log stream, or,
// while that is down, by reading the head every Options.PollInterval. It
// returns ctx.Err() when ctx ends first and ErrClosed when the store is
// closed.
func (s *Store) WaitForPosition(ctx context.Context, afterPosition int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	return s.notify.Wait(ctx, afterPosition, s.done, ErrClosed, 0, nil)
}

// watch keeps the notifier up to date with the log until Close: it follows
// a subscription to the log stream and, whenever that drops, reads the head
// and subscribes again after the poll interval.
func (s *Store) watch() {
	defer s.watcher.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for ctx.Err() == nil {
		s.follow(ctx)
		if h, err := s.readHead(ctx); err == nil {
			s.notify.Advance(h.Position)
		}
		select {
		case <-time.After(s.opts.PollInterval):
		case <-ctx.Done():
		}
	}
}

// follow subscribes to the log stream after the last known position and
// advances the notifier with every event until the subscription drops.
func (s *Store) follow(ctx context.Context) {
	pos, _ := s.notify.Current()
	from := esdbclient.StreamPosition(esdbclient.Start{})
	if pos > 0 {
		from = esdbclient.Revision(uint64(pos - 1)) // a subscription starts after the revision
	}
	sub, err := s.c.SubscribeToStream(ctx, s.names.log(), esdbclient.SubscribeToStreamOptions{From: from})
	if err != nil {
		return
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			return
		case ev.EventAppeared != nil:
			s.notify.Advance(int64(ev.EventAppeared.OriginalEvent().EventNumber) + 1)
		}
	}
}
