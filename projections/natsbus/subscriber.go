package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subscriber feeds one node's projections from the stream. It implements
// message.Subscriber for Topic, so it plugs into projections'
// Runner.AddHandlers, which subscribes once per projection.
//
// The node has one durable consumer (Names.Durable), created when the
// subscriber is made, which starts with the events published from then on
// and later resumes after the last event the node acknowledged (or, after
// a process of the node was killed holding events it had not acknowledged,
// starts again with the events published from then on: see
// startConsumer). Until
// Close, the subscriber makes the consumer (and the stream) again within
// a few seconds whenever the server has lost it. The first Subscribe
// starts consuming it: one goroutine takes the messages the server pushes
// to the consumer's deliver subject, in its deliver group, decodes each
// with watermill-nats's NATSMarshaler, hands it, in stream order, to every
// subscription still open, and acknowledges it to the server once all of
// them have acknowledged it, or negatively acknowledges it (redelivered a
// second later) when one of them nacks it or goes away first. A
// subscription opened after the first receives the messages from then on.
// Delivery is at least once and in order except after a redelivery;
// projections skip what they have applied and read a gap straight from
// the store, which is exactly what they need.
//
// Two processes with the same node name share the consumer (it has a
// deliver group) and each gets part of the feed: both stay correct, by
// healing gaps from the store, but slower. Give every node its own name.
//
// Subscribe and Close are safe for concurrent use; Close may be called more
// than once (the watermill router closes its subscribers itself).
type Subscriber struct {
	nc             *nats.Conn
	ncClosed       chan struct{}      // closed once nc is closed (drained)
	deliverSubject string             // where the server pushes the consumer's messages
	deliverGroup   string             // the consumer's deliver group
	cancel         context.CancelFunc // ends the consumption
	subCtx         context.Context
	closing        chan struct{}
	log            *slog.Logger

	mu     sync.Mutex // guards the fields below
	outs   map[*output]struct{}
	sub    *nats.Subscription // of the deliver subject, from the first Subscribe on
	closed bool
	wg     sync.WaitGroup // the consumption and the watchers
}

var _ message.Subscriber = (*Subscriber)(nil)

// output is one subscription: a channel the fan-out alone sends on, and
// closes once, under mu.
type output struct {
	ctx    context.Context
	mu     sync.Mutex
	closed bool
	ch     chan *message.Message
}

// NewSubscriber creates or updates the durable consumer of node and returns
// a subscriber of it, on a connection of its own that Close drains. node
// names the node (a host name, say); it is cleaned as Names.Durable says.
// It returns an error when node is empty, the connection fails or the
// server refuses the consumer.
func (b *Bus) NewSubscriber(ctx context.Context, node string) (*Subscriber, error) {
	if node == "" {
		return nil, errors.New("natsbus: a subscriber needs a node name")
	}
	durable := b.names.Durable(node)
	if err := b.startConsumer(ctx, node); err != nil {
		return nil, err
	}
	ncClosed := make(chan struct{})
	nc, err := b.connect("projections "+node, nats.ClosedHandler(func(*nats.Conn) { close(ncClosed) }))
	if err != nil {
		return nil, err
	}
	subCtx, cancel := context.WithCancel(context.Background())
	s := &Subscriber{nc: nc, ncClosed: ncClosed, deliverSubject: b.names.DeliverSubject(node), deliverGroup: durable,
		cancel: cancel, subCtx: subCtx, closing: make(chan struct{}), log: b.cfg.Logger, outs: map[*output]struct{}{}}
	s.wg.Add(1)
	go s.keepConsumer(b, node)
	return s, nil
}

// consumerCheck is how often a Subscriber checks that its consumer exists.
const consumerCheck = 5 * time.Second

// startConsumer makes or updates the durable consumer of node for a
// subscriber starting: a node new to the stream gets one that starts with
// the events published from then on, a node that ran before resumes after
// the last event it acknowledged. But when the server still holds events
// it delivered to the node's previous process, which was killed before it
// acknowledged them, they would hold back delivery until their ack wait
// ends (MaxAckPending of them stop it altogether): the consumer is made
// again, starting with the events published from then on. Nothing is lost
// by that: once it has made its subscriber, a Pipeline catches its
// projections up from the store, to a head that holds every event
// published before the consumer was made again. The node holds its name's lease
// (Bus.ClaimNodeName), so no other process consumes meanwhile. Every
// consumer keeps the one deliver policy, which the server does not let an
// update change, so that builds before and after this one can each start
// on the other's consumer.
func (b *Bus) startConsumer(ctx context.Context, node string) error {
	durable := b.names.Durable(node)
	c, err := b.js.PushConsumer(ctx, b.names.Stream, durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return b.createConsumer(ctx, node)
	case err != nil:
		return fmt.Errorf("natsbus: consumer %s on %s: %w", durable, b.names.Stream, err)
	case c.CachedInfo().NumAckPending == 0:
		return b.createConsumer(ctx, node)
	}
	if err := b.js.DeleteConsumer(ctx, b.names.Stream, durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("natsbus: consumer %s on %s: %w", durable, b.names.Stream, err)
	}
	return b.createConsumer(ctx, node)
}

// createConsumer creates or updates the durable consumer of node.
func (b *Bus) createConsumer(ctx context.Context, node string) error {
	durable := b.names.Durable(node)
	_, err := b.js.CreateOrUpdatePushConsumer(ctx, b.names.Stream, jetstream.ConsumerConfig{
		Durable:           durable,
		Description:       "ledger projections of node " + node,
		DeliverSubject:    b.names.DeliverSubject(node),
		DeliverGroup:      durable,
		DeliverPolicy:     jetstream.DeliverNewPolicy,
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           b.cfg.AckWait,
		MaxDeliver:        -1,
		FilterSubject:     b.names.Subjects,
		ReplayPolicy:      jetstream.ReplayInstantPolicy,
		MaxAckPending:     b.cfg.MaxAckPending,
		InactiveThreshold: max(b.cfg.InactiveThreshold, 0),
	})
	if err != nil {
		return fmt.Errorf("natsbus: consumer %s on %s: %w", durable, b.names.Stream, err)
	}
	return nil
}

// keepConsumer checks every consumerCheck, until Close, that the node's
// consumer exists, and makes it again (and the stream, if need be) when
// the server has lost it: a server started again on empty storage, or a
// consumer removed by hand. The subscription on its deliver subject stays,
// so delivery resumes with the events published from then on; the
// projections read the ones before from the store when the next one
// arrives.
func (s *Subscriber) keepConsumer(b *Bus, node string) {
	defer s.wg.Done()
	tick := time.NewTicker(consumerCheck)
	defer tick.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-tick.C:
		}
		if !b.Connected() {
			continue // the bus's health says so; the check resumes once NATS is back
		}
		ctx, cancel := context.WithTimeout(s.subCtx, consumerCheck)
		if err := b.restoreConsumer(ctx, node); err != nil {
			b.cfg.Logger.Warn("natsbus: cannot check the node's consumer; retrying", "node", node, "error", err)
		}
		cancel()
	}
}

// restoreConsumer makes node's consumer, and the stream, again when the
// server does not have them.
func (b *Bus) restoreConsumer(ctx context.Context, node string) error {
	_, err := b.js.PushConsumer(ctx, b.names.Stream, b.names.Durable(node))
	if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	if err := b.ensureStream(ctx); err != nil {
		return err
	}
	return b.createConsumer(ctx, node)
}

// Subscribe returns the messages of topic, which must be Topic, until ctx is
// done or the subscriber is closed; the channel is closed then. Acknowledge
// each message (Ack or Nack) before the next one comes. It returns an error
// for another topic, after Close, or when consuming cannot start (for
// example when the node's consumer was deleted).
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != Topic {
		return nil, fmt.Errorf("natsbus: cannot subscribe to topic %q: only %q", topic, Topic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("natsbus: subscriber closed")
	}
	if s.sub == nil {
		sub, err := s.nc.QueueSubscribeSync(s.deliverSubject, s.deliverGroup)
		if err != nil {
			return nil, fmt.Errorf("natsbus: subscribe: %w", err)
		}
		s.sub = sub
		s.wg.Add(1)
		go s.consume(sub)
	}
	o := &output{ctx: ctx, ch: make(chan *message.Message)}
	s.outs[o] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.closing:
		}
		s.mu.Lock()
		delete(s.outs, o)
		s.mu.Unlock()
		o.close()
	}()
	return o.ch, nil
}

// nakDelay is how long the server waits before it delivers again a message
// the subscriber negatively acknowledged.
const nakDelay = time.Second

// consume takes the messages the server pushes to sub, one at a time, until
// Close: it hands each to every open subscription and acknowledges it to
// the server once all have acknowledged it, or negatively acknowledges it.
// A message that cannot be decoded is not of this ledger: it is terminated
// (never delivered again) and logged.
func (s *Subscriber) consume(sub *nats.Subscription) {
	defer s.wg.Done()
	var marshaler wmnats.NATSMarshaler
	for {
		m, err := sub.NextMsgWithContext(s.subCtx)
		if err != nil {
			return // Close ended the consumption, or the connection is closed
		}
		if handledControl(m) {
			continue
		}
		msg, err := marshaler.Unmarshal(m)
		if err != nil {
			s.log.Error("natsbus: a message on the deliver subject is not an event of the ledger; dropped", "subject", m.Subject, "error", err)
			_ = m.Term()
			continue
		}
		if s.settle(msg) {
			_ = m.Ack()
		} else {
			_ = m.NakWithDelay(nakDelay)
		}
	}
}

// handledControl reports whether m is a status message of JetStream on the
// deliver subject (an idle heartbeat, a flow-control request, a notice that
// the consumer was deleted) rather than an event: it has a Status header
// and no payload. It answers a flow-control request, as the server waits
// for that; the others need nothing (keepConsumer makes a deleted consumer
// again).
func handledControl(m *nats.Msg) bool {
	if len(m.Data) > 0 || m.Header.Get("Status") == "" {
		return false
	}
	if m.Reply != "" {
		_ = m.Respond(nil)
	}
	return true
}

// settle hands msg to every open subscription and reports whether all have
// acknowledged it (false also when there is none). An acknowledgement wins
// over a subscription ending at the same time.
func (s *Subscriber) settle(msg *message.Message) bool {
	s.mu.Lock()
	outs := make([]*output, 0, len(s.outs))
	for o := range s.outs {
		outs = append(outs, o)
	}
	s.mu.Unlock()
	type delivery struct {
		o *output
		m *message.Message
	}
	ok := len(outs) > 0
	sent := make([]delivery, 0, len(outs))
	for _, o := range outs {
		c := msg.Copy()
		c.SetContext(o.ctx)
		if !o.send(c, s.closing) {
			ok = false
			continue
		}
		sent = append(sent, delivery{o, c})
	}
	for _, d := range sent {
		select {
		case <-d.m.Acked():
		case <-d.m.Nacked():
		case <-d.o.ctx.Done():
		case <-s.closing:
		}
		select {
		case <-d.m.Acked():
		default:
			ok = false
		}
	}
	return ok
}

// send hands m to the subscription and reports whether it took it.
func (o *output) send(m *message.Message, closing <-chan struct{}) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	select {
	case o.ch <- m:
		return true
	case <-o.ctx.Done():
	case <-closing:
	}
	return false
}

// close closes the subscription's channel once.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.ch)
	}
}

// Close closes every subscription, stops consuming, lets the server redeliver
// what was not acknowledged, and drains the connection. The durable
// consumer stays, so the node resumes where it stopped. It returns an error
// when the connection cannot be drained in time.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	sub := s.sub
	s.mu.Unlock()
	// The message in hand is settled (acknowledged when every subscription
	// already has, else negatively) before the consumption ends; those the
	// server pushed meanwhile are dropped with the subscription, and it
	// delivers them again after AckWait.
	s.cancel()
	s.wg.Wait()
	var err error
	if sub != nil {
		err = sub.Unsubscribe()
	}
	// Drain, so that the acknowledgements reach the server, and wait for
	// it, so that the server has forgotten this subscription when Close
	// returns and a new one gets what follows.
	if derr := s.nc.Drain(); derr != nil {
		s.nc.Close()
		return errors.Join(err, derr)
	}
	select {
	case <-s.ncClosed:
	case <-time.After(10 * time.Second):
		s.nc.Close()
		err = errors.Join(err, errors.New("natsbus: the connection did not drain within 10 s"))
	}
	return err
}
