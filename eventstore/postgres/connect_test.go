package postgres

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// silentHost accepts TCP connections and never answers on them, as a
// PostgreSQL host behind a network partition would seem to.
func silentHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestPoolConfigBoundsConnecting(t *testing.T) {
	cfg, _, err := poolConfig("postgres://u@127.0.0.1:5432/db", Options{})
	if err != nil || cfg.ConnConfig.ConnectTimeout != defaultConnectTimeout {
		t.Fatalf("without connect_timeout: %v, %v; want %v", cfg.ConnConfig.ConnectTimeout, err, defaultConnectTimeout)
	}
	cfg, _, err = poolConfig("postgres://u@127.0.0.1:5432/db?connect_timeout=3", Options{})
	if err != nil || cfg.ConnConfig.ConnectTimeout != 3*time.Second {
		t.Fatalf("with connect_timeout=3: %v, %v; want 3s", cfg.ConnConfig.ConnectTimeout, err)
	}
}

// TestOpenGivesUpOnAHostThatNeverAnswers: Open against a host that takes
// the connection and says nothing fails, on its own, as unavailable once
// the connect timeout has passed, instead of waiting for ever.
func TestOpenGivesUpOnAHostThatNeverAnswers(t *testing.T) {
	url := "postgres://u@" + silentHost(t) + "/db?sslmode=disable&connect_timeout=1"
	done := make(chan error, 1)
	go func() {
		s, err := Open(context.Background(), url, Options{})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Open: %v; want an error matching domain.ErrUnavailable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Open still waits on a host that never answers after 30 s")
	}
}

// freezingProxy forwards TCP connections to target until it is frozen;
// from then on it passes nothing more either way and keeps the
// connections open, as a database host that stopped answering would seem.
type freezingProxy struct {
	addr   string
	frozen chan struct{}
}

// newFreezingProxy starts a proxy to target; thaw, returned, closes every
// connection it holds.
func newFreezingProxy(t *testing.T, target string) (*freezingProxy, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{addr: ln.Addr().String(), frozen: make(chan struct{})}
	var mu sync.Mutex
	var conns []net.Conn
	hold := func(c net.Conn) { mu.Lock(); conns = append(conns, c); mu.Unlock() }
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			hold(in)
			hold(out)
			go p.pipe(in, out)
			go p.pipe(out, in)
		}
	}()
	return p, func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
}

// pipe copies from src to dst until either closes or the proxy freezes.
func (p *freezingProxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			return // swallow what came, send nothing more
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// openFrozenAfterOneAppend opens a store with opts through a proxy, appends
// one event to stream "a", and freezes the proxy: from then on the
// database does not answer.
func openFrozenAfterOneAppend(t *testing.T, opts Options) *Store {
	t.Helper()
	schema := newSchema(t)
	target, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy, thaw := newFreezingProxy(t, target.Host)
	target.Host = proxy.addr
	s := openURL(t, target.String(), schema, opts)
	t.Cleanup(thaw) // runs before the store's Close
	if _, err := s.Append(context.Background(), to("a", domain.ExpectNoStream, storetest.NewEventData())); err != nil {
		t.Fatalf("before the freeze: %v", err)
	}
	close(proxy.frozen)
	return s
}

// TestAppendGivesUpOnADatabaseThatStopsAnswering: an append whose
// transaction meets a database that no longer answers fails as
// unavailable after AppendTimeout instead of waiting for ever.
func TestAppendGivesUpOnADatabaseThatStopsAnswering(t *testing.T) {
	s := openFrozenAfterOneAppend(t, Options{AppendTimeout: time.Second})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, to("a", domain.ExpectAny, storetest.NewEventData()))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Append: %v; want an error matching domain.ErrUnavailable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Append still waits on a database that stopped answering after 30 s")
	}
}

// TestReadsGiveUpOnADatabaseThatStopsAnswering: with the database silent
// behind a frozen proxy, a read of the head, of the log and of a stream
// fails as unavailable after Options.ReadTimeout instead of waiting on the
// operating system, while a read whose caller's own deadline ends first
// reports that deadline, not an unavailable store.
func TestReadsGiveUpOnADatabaseThatStopsAnswering(t *testing.T) {
	s := openFrozenAfterOneAppend(t, Options{ReadTimeout: time.Second})
	ctx := context.Background()
	reads := map[string]func(context.Context) error{
		"head":   func(ctx context.Context) error { _, err := s.Head(ctx); return err },
		"log":    func(ctx context.Context) error { _, err := s.ReadAll(ctx, 0, 10); return err },
		"stream": func(ctx context.Context) error { _, err := s.ReadStream(ctx, "a", 0, 0); return err },
	}
	for name, read := range reads {
		done := make(chan error, 1)
		go func() { done <- read(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("%s: %v; want an error matching domain.ErrUnavailable", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the %s read still waits on a database that stopped answering after 30 s", name)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := reads["log"](short); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("a read ended by its caller's deadline: %v; want that deadline, not unavailable", err)
	}
}

// TestOpenTellsARefusalFromAnOutage: a server that refuses the
// connection's settings (no such database, no such role) is not
// "unavailable; retry later", which retrying would never cure: the error
// says what the server answered. A port nothing listens on is unavailable.
func TestOpenTellsARefusalFromAnOutage(t *testing.T) {
	base, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	noDB, noRole := *base, *base
	noDB.Path = "/no_such_database_here"
	noRole.User = url.User("no_such_role_here")
	for name, c := range map[string]struct{ url, want string }{
		"database": {noDB.String(), "3D000"},
		"role":     {noRole.String(), "28000"},
	} {
		s, err := Open(context.Background(), c.url, Options{})
		if err == nil {
			s.Close()
			t.Fatalf("no such %s: Open succeeded", name)
		}
		if errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("no such %s: %v; want the server's answer %s, not unavailable", name, err, c.want)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := *base
	closed.Host = ln.Addr().String()
	ln.Close()
	if _, err := Open(context.Background(), closed.String(), Options{}); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("a closed port: %v; want unavailable", err)
	}
}
