package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bus is one node's handle on a ledger's feed in NATS JetStream: it owns a
// connection used for management and the relay lease, and makes the
// publisher of the relay and the subscriber of the node's projections, each
// on a connection of its own. A Bus is safe for concurrent use.
type Bus struct {
	cfg   Config
	names Names
	nc    *nats.Conn
	js    jetstream.JetStream
	wlog  watermill.LoggerAdapter
	// nameTaken holds why this node cannot take the lease on its name
	// again, while another node holds it (see NodeNameTaken).
	nameTaken atomic.Pointer[error]
}

// Open connects to the NATS server of cfg and creates the namespace's
// stream, or updates it to cfg's limits. It returns an error when the
// namespace is invalid, the server cannot be reached, has no JetStream, or
// refuses the stream (for example when it has another storage type).
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	cfg = cfg.withDefaults()
	names, err := NamesFor(cfg.Namespace)
	if err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, names: names, wlog: watermill.NewSlogLoggerWithLevelMapping(cfg.Logger,
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	if b.nc, err = b.connect("bus", nats.ReconnectBufSize(-1)); err != nil {
		return nil, err
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("natsbus: jetstream: %w", err)
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig()); err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("natsbus: create or update stream %s: %w", names.Stream, err)
	}
	return b, nil
}

// maxPingsOut is how many pings may go unanswered before a connection
// counts as lost (see Config.PingInterval).
const maxPingsOut = 2

// connect opens a connection named after role that reconnects forever and
// notices a server that stops answering (Config.PingInterval).
// The bus's own connection and the relay's keep no reconnect buffer
// (nats.ReconnectBufSize(-1)): a request made while NATS cannot be reached
// fails at once rather than reaching the server on reconnection, when its
// caller has given up on it (a lease renewal that would name a holder which
// no longer relays, an event the relay publishes again).
func (b *Bus) connect(role string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name("ledger " + b.names.Namespace + " " + role), nats.MaxReconnects(-1),
		nats.PingInterval(b.cfg.PingInterval), nats.MaxPingsOutstanding(maxPingsOut)}, b.cfg.Options...)
	opts = append(opts, extra...)
	nc, err := nats.Connect(b.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect: %w", err) // not the URL: it may hold a password
	}
	return nc, nil
}

// streamConfig returns the configuration of the namespace's stream.
func (b *Bus) streamConfig() jetstream.StreamConfig {
	maxBytes := b.cfg.MaxBytes
	if maxBytes < 0 {
		maxBytes = -1
	}
	return jetstream.StreamConfig{
		Name:        b.names.Stream,
		Description: "patent ledger " + b.names.Namespace + ": the global log, one message per event",
		Subjects:    []string{b.names.Subjects},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      max(b.cfg.MaxAge, 0),
		MaxBytes:    maxBytes,
		MaxMsgs:     -1,
		Storage:     jetstream.FileStorage,
		Replicas:    b.cfg.Replicas,
		Duplicates:  b.cfg.DuplicateWindow,
	}
}

// ensureStream creates the namespace's stream when the server has lost it
// (it started again on empty storage, or someone deleted it) and leaves an
// existing one as it is. It returns an error when the server cannot be
// asked or refuses the stream.
func (b *Bus) ensureStream(ctx context.Context) error {
	_, err := b.js.Stream(ctx, b.names.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = b.js.CreateOrUpdateStream(ctx, b.streamConfig())
	}
	if err != nil {
		return fmt.Errorf("natsbus: stream %s: %w", b.names.Stream, err)
	}
	return nil
}

// Names returns the NATS names of the bus's namespace.
func (b *Bus) Names() Names { return b.names }

// Conn returns the bus's connection. Closing it breaks the bus.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Connected reports whether the bus's connection to NATS is up (not
// reconnecting or closed).
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// JetStream returns the JetStream context of the bus's connection.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Close closes the bus's connection. Publishers, subscribers and leases made
// by the bus have to be closed or released first; a lease still held is
// lost, and another node takes over once it expires.
func (b *Bus) Close() error {
	b.nc.Close()
	return nil
}

// NewPublisher returns a publisher for the relay, on a connection of its
// own that its Close closes. It publishes on Topic only: each message on
// the subject of its event_type metadata (see Names.Subject), its metadata
// as headers, its payload as it is, with its UUID (the event ID) as
// Nats-Msg-Id, so that JetStream drops a message republished within
// Config.DuplicateWindow. Publish returns once the stream has stored every
// message, or at the first error: a message on another topic, one without
// UUID or event_type, or a failed or refused publish (at once while the
// connection is down: nothing is kept to be sent on reconnection).
func (b *Bus) NewPublisher() (message.Publisher, error) {
	// No reconnect buffer (see connect): a buffered copy of a failed
	// publish would reach the stream on reconnection, possibly after the
	// duplicate window and after later events, and set back LastPosition.
	nc, err := b.connect("relay", nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         marshaler{names: b.names},
		SubjectCalculator: b.subjects,
		JetStream: wmnats.JetStreamConfig{
			TrackMsgId:     true,
			PublishOptions: []nats.PubOpt{nats.ExpectStream(b.names.Stream)},
		},
	}, b.wlog)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: publisher: %w", err)
	}
	return pub, nil
}

// subjects is the watermill-nats subject calculator: Topic is every event
// of the namespace; any other topic is left as it is, and is then outside
// the stream.
func (b *Bus) subjects(queueGroup, topic string) *wmnats.SubjectDetail {
	if topic == Topic {
		return &wmnats.SubjectDetail{Primary: b.names.Subjects, QueueGroup: queueGroup}
	}
	return &wmnats.SubjectDetail{Primary: topic, QueueGroup: queueGroup}
}

// marshaler turns a relayed event's message into a NATS message on the
// event's subject (see NewPublisher).
type marshaler struct{ names Names }

// Marshal implements wmnats.Marshaler.
func (m marshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	if topic != Topic {
		return nil, fmt.Errorf("natsbus: cannot publish on topic %q: only %q", topic, Topic)
	}
	if msg.UUID == "" {
		return nil, errors.New("natsbus: a message without UUID cannot be de-duplicated")
	}
	typ := msg.Metadata.Get(MetaEventType)
	if typ == "" {
		return nil, fmt.Errorf("natsbus: message %s has no %s metadata", msg.UUID, MetaEventType)
	}
	return (&wmnats.NATSMarshaler{}).Marshal(m.names.Subject(typ), msg)
}

// LastPosition returns the position of the last event in the stream, 0 when
// the stream is empty. A relay that takes over starts after it, so that it
// neither republishes what the stream holds nor leaves a gap. It returns an
// error when the stream cannot be read or the last message has no valid
// position header.
func (b *Bus) LastPosition(ctx context.Context) (int64, error) {
	s, err := b.js.Stream(ctx, b.names.Stream)
	if err != nil {
		return 0, fmt.Errorf("natsbus: stream %s: %w", b.names.Stream, err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, b.names.Subjects)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("natsbus: last message of %s: %w", b.names.Stream, err)
	}
	pos, err := strconv.ParseInt(msg.Header.Get(MetaPosition), 10, 64)
	if err != nil || pos <= 0 {
		return 0, fmt.Errorf("natsbus: last message of %s (sequence %d) has %s header %q", b.names.Stream,
			msg.Sequence, MetaPosition, msg.Header.Get(MetaPosition))
	}
	return pos, nil
}

// DeleteNamespace deletes the stream and the lock bucket of namespace ns,
// with every consumer of the stream. What does not exist is skipped. It
// returns an error when ns is invalid or a deletion fails.
func DeleteNamespace(ctx context.Context, js jetstream.JetStream, ns string) error {
	names, err := NamesFor(ns)
	if err != nil {
		return err
	}
	var errs []error
	if err := js.DeleteStream(ctx, names.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		errs = append(errs, fmt.Errorf("natsbus: delete stream %s: %w", names.Stream, err))
	}
	if err := js.DeleteKeyValue(ctx, names.LocksBucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) &&
		!errors.Is(err, jetstream.ErrStreamNotFound) {
		errs = append(errs, fmt.Errorf("natsbus: delete bucket %s: %w", names.LocksBucket, err))
	}
	return errors.Join(errs...)
}
