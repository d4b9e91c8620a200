package natsbus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
	"github.com/patentledger/ledger/projections/natsbus"
)

// envURL names the NATS server the tests use. They need a real server with
// JetStream and skip without one.
const envURL = "LEDGER_TEST_NATS_URL"

// patience bounds every wait of these tests; it is generous because the
// machine is shared. No test asserts how fast anything is.
const patience = 45 * time.Second

func natsURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Skipf("SKIPPED — NO NATS: these tests need a real NATS server with JetStream. Set %s, e.g.\n"+
			"    %s=nats://127.0.0.1:4222 go test ./projections/natsbus\n"+
			"(.ci/run starts one). Without it the NATS bus is NOT tested.", envURL, envURL)
	}
	return u
}

// namespace returns a fresh namespace whose stream and bucket are deleted
// when the test ends.
func namespace(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	ns := "test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Errorf("cleanup of %s: %v", ns, err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Errorf("cleanup of %s: %v", ns, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := natsbus.DeleteNamespace(ctx, js, ns); err != nil {
			t.Errorf("cleanup of %s: %v", ns, err)
		}
	})
	return ns
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// leaseTTL is the relay lease's TTL in the tests, shorter than the default.
const leaseTTL = 2 * time.Second

// testConfig keeps the test streams small and the lease short.
func testConfig(url, ns string) natsbus.Config {
	return natsbus.Config{URL: url, Namespace: ns, MaxAge: 10 * time.Minute, MaxBytes: 16 << 20,
		LeaseTTL: leaseTTL, AckWait: 20 * time.Second, Logger: quietLogger()}
}

func openBus(t testing.TB, cfg natsbus.Config) *natsbus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	b, err := natsbus.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newPublisher(t testing.TB, b *natsbus.Bus) message.Publisher {
	t.Helper()
	pub, err := b.NewPublisher()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	return pub
}

func newSubscriber(t testing.TB, b *natsbus.Bus, node string) *natsbus.Subscriber {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	sub, err := b.NewSubscriber(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

func subscribe(t testing.TB, sub message.Subscriber) <-chan *message.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := sub.Subscribe(ctx, natsbus.Topic)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// events returns n recorded events at positions from+1 … from+n.
func events(from int64, n int) []domain.RecordedEvent {
	out := make([]domain.RecordedEvent, n)
	for i := range out {
		pos := from + int64(i) + 1
		out[i] = domain.RecordedEvent{Position: pos, Stream: "patent-" + strconv.Itoa(i%3), Version: pos,
			Hash: []byte{byte(pos), 0xab},
			EventData: domain.EventData{ID: uuid.NewString(), Type: domain.TypePatentRegistered,
				Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, pos)),
				Meta: domain.Metadata{RecordedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "admin",
					CorrelationID: "corr-" + strconv.FormatInt(pos, 10), SchemaVersion: 1}}}
	}
	return out
}

// messages returns the relay's messages of evs, the first following
// position previous.
func messages(t testing.TB, previous int64, evs []domain.RecordedEvent) []*message.Message {
	t.Helper()
	out := make([]*message.Message, len(evs))
	for i, e := range evs {
		m, err := projections.NewMessage(e, previous)
		if err != nil {
			t.Fatal(err)
		}
		out[i], previous = m, e.Position
	}
	return out
}

func publish(t testing.TB, pub message.Publisher, msgs []*message.Message) {
	t.Helper()
	if err := pub.Publish(natsbus.Topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

// receive takes n messages from ch, acknowledging each, and returns their
// events in the order received.
func receive(t testing.TB, ch <-chan *message.Message, n int) []domain.RecordedEvent {
	t.Helper()
	timeout := time.After(patience)
	var out []domain.RecordedEvent
	for len(out) < n {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(out), n)
			}
			e, prev, err := projections.DecodeMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			if msg.UUID != e.ID || prev != e.Position-1 {
				t.Fatalf("message %s: event %s at %d after %d", msg.UUID, e.ID, e.Position, prev)
			}
			if middleware.MessageCorrelationID(msg) != e.Meta.CorrelationID ||
				msg.Metadata.Get(projections.MetaEventType) != e.Type || msg.Metadata.Get(projections.MetaStream) != e.Stream {
				t.Fatalf("metadata %v of %+v", msg.Metadata, e)
			}
			msg.Ack()
			out = append(out, e)
		case <-timeout:
			t.Fatalf("timed out after %d of %d messages", len(out), n)
		}
	}
	return out
}

// positions returns the positions of evs.
func positions(evs []domain.RecordedEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Position
	}
	return out
}

func wantPositions(t testing.TB, got []domain.RecordedEvent, from int64, n int) {
	t.Helper()
	for i, e := range got {
		if e.Position != from+int64(i)+1 {
			t.Fatalf("positions %v, want %d…%d in order", positions(got), from+1, from+int64(n))
		}
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
}

func streamMsgs(t testing.TB, b *natsbus.Bus) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), b.Names().Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestNamesAgreeWithProjections(t *testing.T) {
	for _, c := range [][2]string{
		{natsbus.Topic, projections.Topic},
		{natsbus.MetaPosition, projections.MetaPosition},
		{natsbus.MetaPreviousPosition, projections.MetaPreviousPosition},
		{natsbus.MetaEventType, projections.MetaEventType},
		{natsbus.MetaStream, projections.MetaStream},
		{natsbus.MetaCorrelationID, projections.MetaCorrelationID},
	} {
		if c[0] != c[1] {
			t.Errorf("natsbus has %q, projections %q", c[0], c[1])
		}
	}
}

func TestNames(t *testing.T) {
	n, err := natsbus.NamesFor("acme-1")
	if err != nil {
		t.Fatal(err)
	}
	want := natsbus.Names{Namespace: "acme-1", Stream: "LEDGER_acme-1", SubjectPrefix: "ledger.acme-1.events.",
		Subjects: "ledger.acme-1.events.>", LocksBucket: "LEDGER_acme-1_LOCKS"}
	if n != want {
		t.Errorf("NamesFor = %+v, want %+v", n, want)
	}
	for typ, subj := range map[string]string{
		"patent.license_granted.v1": "ledger.acme-1.events.patent.license_granted.v1",
		"a..b c*>":                  "ledger.acme-1.events.a._.b_c__",
	} {
		if got := n.Subject(typ); got != subj {
			t.Errorf("Subject(%q) = %q, want %q", typ, got, subj)
		}
	}
	if got := n.Durable("node-1"); got != "projections_node-1" {
		t.Errorf("Durable = %q", got)
	}
	for _, bad := range []string{"", "Acme", "a.b", "-a", "a b", string(make([]byte, 49))} {
		if _, err := natsbus.NamesFor(bad); err == nil {
			t.Errorf("NamesFor(%q) succeeded", bad)
		}
	}
	seen := map[string]string{}
	for _, id := range []string{"acme", "a.b", "a_b", "A.B", "postgres://db.example/ledger?x=1", string(make([]byte, 200))} {
		ns := natsbus.NamespaceFor(id)
		if !natsbus.ValidNamespace(ns) {
			t.Errorf("NamespaceFor(%q) = %q, invalid", id, ns)
		}
		if other, dup := seen[ns]; dup {
			t.Errorf("NamespaceFor(%q) = NamespaceFor(%q) = %q", id, other, ns)
		}
		seen[ns] = id
	}
	if natsbus.NamespaceFor("acme") != "acme" {
		t.Error("a valid namespace is not kept")
	}
}

func TestSubscriberReceivesEveryEventInOrder(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	sub := newSubscriber(t, b, "node-a")
	// Two subscriptions, as two projections of one node make.
	ch1, ch2 := subscribe(t, sub), subscribe(t, sub)
	pub := newPublisher(t, b)
	evs := events(0, 40)
	msgs := messages(t, 0, evs)
	go func() {
		for i := 0; i < len(msgs); i += 10 {
			if err := pub.Publish(natsbus.Topic, msgs[i:i+10]...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	got2 := make(chan []domain.RecordedEvent, 1)
	go func() { got2 <- receive(t, ch2, len(evs)) }()
	wantPositions(t, receive(t, ch1, len(evs)), 0, len(evs))
	wantPositions(t, <-got2, 0, len(evs))

	// What an external consumer sees: the subject of the event type, the
	// event ID as Nats-Msg-Id, the metadata as headers, the JSON payload.
	s, err := b.JetStream().Stream(context.Background(), b.Names().Stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	if raw.Subject != b.Names().SubjectPrefix+"patent.registered.v1" || raw.Header.Get(nats.MsgIdHdr) != e.ID ||
		raw.Header.Get(natsbus.HeaderEventID) != e.ID || raw.Header.Get(natsbus.MetaPosition) != "1" ||
		raw.Header.Get(natsbus.MetaPreviousPosition) != "0" || raw.Header.Get(natsbus.MetaEventType) != e.Type ||
		raw.Header.Get(natsbus.MetaStream) != e.Stream || raw.Header.Get(natsbus.MetaCorrelationID) != "corr-1" {
		t.Errorf("stored message %s %v", raw.Subject, raw.Header)
	}
	var payload map[string]any
	if err := json.Unmarshal(raw.Data, &payload); err != nil {
		t.Fatal(err)
	}
	if payload["id"] != e.ID || payload["position"] != 1.0 || payload["hash"] != "01ab" ||
		payload["metadata"].(map[string]any)["recorded_at"] != "2025-01-02T03:04:05Z" {
		t.Errorf("payload %s", raw.Data)
	}
	if pos, err := b.LastPosition(context.Background()); err != nil || pos != 40 {
		t.Errorf("LastPosition = %d, %v; want 40", pos, err)
	}
}

func TestRepublishedEventsAreDropped(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	ch := subscribe(t, newSubscriber(t, b, "node-a"))
	evs := events(0, 10)
	publish(t, newPublisher(t, b), messages(t, 0, evs))
	// A relay that takes over republishes what its predecessor published,
	// on a connection of its own.
	publish(t, newPublisher(t, b), messages(t, 0, evs))
	wantPositions(t, receive(t, ch, 10), 0, 10)
	if n := streamMsgs(t, b); n != 10 {
		t.Errorf("the stream holds %d messages, want 10", n)
	}
	// The next message is the next event, not a duplicate.
	publish(t, newPublisher(t, b), messages(t, 10, events(10, 1)))
	wantPositions(t, receive(t, ch, 1), 10, 1)
}

func TestNamespacesAreIsolated(t *testing.T) {
	url := natsURL(t)
	b1 := openBus(t, testConfig(url, namespace(t, url)))
	b2 := openBus(t, testConfig(url, namespace(t, url)))
	ch1 := subscribe(t, newSubscriber(t, b1, "node"))
	ch2 := subscribe(t, newSubscriber(t, b2, "node"))
	// The same events, even the same IDs, in both ledgers.
	evs := events(0, 5)
	publish(t, newPublisher(t, b1), messages(t, 0, evs[:3]))
	publish(t, newPublisher(t, b2), messages(t, 0, evs))
	wantPositions(t, receive(t, ch2, 5), 0, 5)
	wantPositions(t, receive(t, ch1, 3), 0, 3)
	if n1, n2 := streamMsgs(t, b1), streamMsgs(t, b2); n1 != 3 || n2 != 5 {
		t.Errorf("streams hold %d and %d messages, want 3 and 5", n1, n2)
	}
	// Nothing of the second ledger reaches the first: its next message is
	// its own next event.
	publish(t, newPublisher(t, b2), messages(t, 5, events(5, 2)))
	publish(t, newPublisher(t, b1), messages(t, 3, events(3, 1)))
	wantPositions(t, receive(t, ch1, 1), 3, 1)
	wantPositions(t, receive(t, ch2, 2), 5, 2)
}

func TestNodeResumesWhereItStopped(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	pub := newPublisher(t, b)
	sub := newSubscriber(t, b, "node-a")
	c, err := b.JetStream().PushConsumer(context.Background(), b.Names().Stream, b.Names().Durable("node-a"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := c.CachedInfo().Config; cfg.Durable != "projections_node-a" || cfg.DeliverGroup != cfg.Durable ||
		cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.DeliverPolicy != jetstream.DeliverNewPolicy ||
		cfg.FilterSubject != b.Names().Subjects || cfg.InactiveThreshold != natsbus.DefaultInactive ||
		cfg.AckWait != 20*time.Second || cfg.MaxAckPending != natsbus.DefaultMaxAckPending {
		t.Errorf("consumer %+v", cfg)
	}
	ch := subscribe(t, sub)
	publish(t, pub, messages(t, 0, events(0, 3)))
	wantPositions(t, receive(t, ch, 3), 0, 3)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	// Published while the node is down.
	publish(t, pub, messages(t, 3, events(3, 4)))
	ch = subscribe(t, newSubscriber(t, b, "node-a"))
	wantPositions(t, receive(t, ch, 4), 3, 4)
}

// TestRestartedNodeIsNotHeldBackByItsKilledProcess: a node killed while
// the server had delivered it events it never acknowledged, as many as
// MaxAckPending, starts again without waiting out their ack wait (two
// minutes here; a restarted node got nothing for about 50 s in a
// multi-node audit): it receives what is published from its start on (the
// events before, a Pipeline reads from the store as it starts), and its
// consumer keeps the deliver policy every build gives it, which the server
// lets no update change (a build that gave it another could not be
// started again on an older build).
func TestRestartedNodeIsNotHeldBackByItsKilledProcess(t *testing.T) {
	url := natsURL(t)
	cfg := testConfig(url, namespace(t, url))
	cfg.AckWait, cfg.MaxAckPending = 2*time.Minute, 4
	b := openBus(t, cfg)
	pub := newPublisher(t, b)
	first := newSubscriber(t, b, "node-k")
	ch := subscribe(t, first)
	publish(t, pub, messages(t, 0, events(0, 2)))
	wantPositions(t, receive(t, ch, 2), 0, 2)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// The node's previous process: it takes the next events from the
	// consumer's deliver subject and dies without acknowledging them.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	killed, err := nc.QueueSubscribeSync(b.Names().DeliverSubject("node-k"), b.Names().Durable("node-k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	published := messages(t, 2, events(2, 6))
	publish(t, pub, published)
	for range cfg.MaxAckPending {
		if _, err := killed.NextMsg(patience); err != nil {
			t.Fatalf("the killed process's delivery: %v", err)
		}
	}
	nc.Close()
	ch = subscribe(t, newSubscriber(t, b, "node-k"))
	publish(t, pub, messages(t, 8, events(8, 2)))
	wantPositions(t, receive(t, ch, 2), 8, 2)
	c, err := b.JetStream().PushConsumer(context.Background(), b.Names().Stream, b.Names().Durable("node-k"))
	if err != nil || c.CachedInfo().Config.DeliverPolicy != jetstream.DeliverNewPolicy {
		t.Fatalf("the consumer made again: %+v, %v", c, err)
	}
}

func TestPublisherRefusesWhatItCannotDeduplicate(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	pub := newPublisher(t, b)
	if err := pub.Publish("other", messages(t, 0, events(0, 1))...); err == nil {
		t.Error("published on another topic")
	}
	if err := pub.Publish(natsbus.Topic, message.NewMessage("", []byte("{}"))); err == nil {
		t.Error("published a message without UUID")
	}
	if err := pub.Publish(natsbus.Topic, message.NewMessage(uuid.NewString(), []byte("{}"))); err == nil {
		t.Error("published a message without event type")
	}
	if _, err := newSubscriber(t, b, "n").Subscribe(context.Background(), "other"); err == nil {
		t.Error("subscribed to another topic")
	}
}

// TestUndecodableMessageIsTerminated puts on the stream a message that no
// watermill marshaler can decode (a header given twice): the subscriber
// terminates it, so that the server never delivers it again, and goes on
// with the events after it.
func TestUndecodableMessageIsTerminated(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	pub := newPublisher(t, b)
	ch := subscribe(t, newSubscriber(t, b, "node-a"))
	bad := nats.NewMsg(b.Names().Subject(domain.TypePatentRegistered))
	bad.Header["position"] = []string{"1", "2"}
	if _, err := b.JetStream().PublishMsg(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, messages(t, 0, events(0, 2)))
	wantPositions(t, receive(t, ch, 2), 0, 2)
	c, err := b.JetStream().PushConsumer(context.Background(), b.Names().Stream, b.Names().Durable("node-a"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for {
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.AckFloor.Stream == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the undecodable message is still pending: %d pending, ack floor %d", info.NumAckPending, info.AckFloor.Stream)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStatusMessagesAreNotEvents sends on a node's deliver subject what
// JetStream sends there besides events (an idle heartbeat; a flow-control
// request, which waits for an answer): the subscriber hands neither to the
// projections, answers the request, and the events after them arrive.
func TestStatusMessagesAreNotEvents(t *testing.T) {
	url := natsURL(t)
	b := openBus(t, testConfig(url, namespace(t, url)))
	pub := newPublisher(t, b)
	ch := subscribe(t, newSubscriber(t, b, "node-a"))
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	heartbeat := nats.NewMsg(b.Names().DeliverSubject("node-a"))
	heartbeat.Header.Set("Status", "100")
	heartbeat.Header.Set("Description", "Idle Heartbeat")
	if err := nc.PublishMsg(heartbeat); err != nil {
		t.Fatal(err)
	}
	flowControl := nats.NewMsg(b.Names().DeliverSubject("node-a"))
	flowControl.Header.Set("Status", "100")
	flowControl.Header.Set("Description", "FlowControl Request")
	if _, err := nc.RequestMsg(flowControl, patience); err != nil {
		t.Fatalf("the flow-control request was not answered: %v", err)
	}
	publish(t, pub, messages(t, 0, events(0, 2)))
	wantPositions(t, receive(t, ch, 2), 0, 2)
}
