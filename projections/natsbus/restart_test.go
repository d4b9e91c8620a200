package natsbus_test

import (
	"context"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections/natsbus"
)

// privateServer is a NATS server with JetStream that one test starts,
// stops and starts again, on a port and a storage folder of its own, so that
// the shared server of the other tests is never disturbed.
type privateServer struct {
	t    *testing.T
	url  string
	args []string
	cmd  *exec.Cmd
}

// startPrivateServer starts a private server, or skips the test when no
// nats-server binary is installed.
func startPrivateServer(t *testing.T) *privateServer {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Skip("SKIPPED — no nats-server binary on PATH: the bus restart is NOT tested")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &privateServer{t: t, url: "nats://127.0.0.1:" + port,
		args: []string{"-js", "-a", "127.0.0.1", "-p", port, "-sd", t.TempDir()}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start runs the server and waits until it accepts connections.
func (s *privateServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("nats-server", s.args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	waitFor(s.t, "the private NATS server", func() bool {
		nc, err := nats.Connect(s.url)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
}

// stop kills the server, as a crash would, and waits for it to exit.
func (s *privateServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait() // killed: the error is expected
	s.cmd = nil
}

// followingNode starts a private NATS server and a node of namespace ns
// on a fresh store, and returns them once the node has applied the
// store's first 6 events.
func followingNode(t *testing.T, ns string) (*privateServer, *sqlite.Store, *node) {
	t.Helper()
	srv := startPrivateServer(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"),
		sqlite.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	appendEvents(t, store, 3)
	n := startNode(t, srv.url, ns, "node-a", store, 0)
	appendEvents(t, store, 3)
	n.waitFor(t, 6)
	return srv, store, n
}

// TestNodeFollowsThroughABusRestart kills the NATS server under a running
// node, appends while it is down, and starts it again on the same storage:
// the relay retries its publish, the lease and the node's consumer come
// back, and the projections reach every event, healthy.
func TestNodeFollowsThroughABusRestart(t *testing.T) {
	srv, store, n := followingNode(t, "restart")

	srv.stop()
	appendEvents(t, store, 4)
	time.Sleep(3 * leaseTTL) // the lease expires and the relay's publishes fail meanwhile
	srv.start()
	appendEvents(t, store, 2)
	n.waitFor(t, 12)
	for _, s := range n.runner.Statuses() {
		if !s.Healthy || s.Checkpoint != 12 {
			t.Errorf("after the restart: %+v", s)
		}
	}
}

// TestNodeFollowsThroughABusThatLostItsStorage starts the NATS server again
// on empty storage under a running node: the stream, the node's consumer
// and the lease bucket are gone. The node must make them again, and once
// its consumer is back, the next events bring its projections to the head,
// the events they missed read from the store.
func TestNodeFollowsThroughABusThatLostItsStorage(t *testing.T) {
	srv, store, n := followingNode(t, "wiped")

	srv.stop()
	srv.args[len(srv.args)-1] = t.TempDir() // the storage folder
	appendEvents(t, store, 2)
	srv.start()
	waitFor(t, "the node's consumer to be made again", func() bool {
		_, err := n.bus.JetStream().PushConsumer(context.Background(), n.bus.Names().Stream, n.bus.Names().Durable("node-a"))
		return err == nil
	})
	appendEvents(t, store, 2)
	n.waitFor(t, 10)
	for _, s := range n.runner.Statuses() {
		if !s.Healthy || s.Checkpoint != 10 {
			t.Errorf("after the restart on empty storage: %+v", s)
		}
	}
}

// TestAFailedPublishIsNotStoredLater publishes while the NATS server is down:
// the publish fails, so the relay counts the event as not published and
// publishes it again later, or its successor does. The message must then not
// reach the stream behind the relay's back once the connection is back: a
// copy that lands after the stream's duplicate window (a node cut off for
// minutes while another relays) is stored again, out of order, and makes
// LastPosition, where the next relay starts, go back.
func TestAFailedPublishIsNotStoredLater(t *testing.T) {
	srv := startPrivateServer(t)
	b := openBus(t, testConfig(srv.url, namespace(t, srv.url)))
	pub := newPublisher(t, b)
	evs := events(0, 4)
	publish(t, pub, messages(t, 0, evs[:3]))

	srv.stop()
	if err := pub.Publish(natsbus.Topic, messages(t, 3, evs[3:])...); err == nil {
		t.Fatal("a publish with the server down succeeded")
	}
	srv.start()
	waitFor(t, "the bus to reconnect", b.Connected)
	time.Sleep(2 * time.Second) // the publisher's connection reconnects too, and flushes what it kept
	if n := streamMsgs(t, b); n != 3 {
		t.Fatalf("the stream holds %d messages after a failed publish of the 4th, want 3", n)
	}
}

// recordedLogs is a slog handler that keeps the level and message of
// every record, for a test to count them.
type recordedLogs struct {
	mu      sync.Mutex
	records []string // "LEVEL message"
}

func (r *recordedLogs) Enabled(context.Context, slog.Level) bool { return true }

func (r *recordedLogs) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Level.String()+" "+rec.Message)
	return nil
}

func (r *recordedLogs) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recordedLogs) WithGroup(string) slog.Handler      { return r }

// count returns how many records were logged at level with message.
func (r *recordedLogs) count(level slog.Level, message string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec == level.String()+" "+message {
			n++
		}
	}
	return n
}

// TestRelayWaitsQuietlyForNATS: while the NATS server is down, the relay
// logs once that it waits for NATS (a warning: the bus's health says so
// meanwhile), not an error every lease TTL saying "outbound buffer limit
// exceeded"; once NATS is back it takes the lease again.
func TestRelayWaitsQuietlyForNATS(t *testing.T) {
	srv := startPrivateServer(t)
	logs := &recordedLogs{}
	cfg := testConfig(srv.url, "quiet")
	cfg.Logger = slog.New(logs)
	bus := openBus(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- bus.RunAsRelay(ctx, "node-a", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	}()
	defer func() {
		cancel()
		<-done
	}()
	const relaying = "natsbus: this node is the relay"
	waitFor(t, "the relay lease", func() bool { return logs.count(slog.LevelInfo, relaying) == 1 })

	srv.stop()
	time.Sleep(5 * leaseTTL) // the lease is lost and taking it again fails, again and again
	waiting := logs.count(slog.LevelWarn, "natsbus: NATS does not answer; the relay waits for it")
	failing := logs.count(slog.LevelError, "natsbus: cannot acquire the relay lease; retrying")
	if waiting != 1 || failing != 0 {
		t.Errorf("while NATS was down: %d warnings that the relay waits, %d errors; want 1 and 0: %q", waiting, failing, logs.records)
	}
	srv.start()
	waitFor(t, "the relay lease after NATS came back", func() bool { return logs.count(slog.LevelInfo, relaying) == 2 })
}
