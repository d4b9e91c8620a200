package natsbus_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// freezingProxy forwards TCP connections to a server until it is frozen;
// from then on it keeps every connection open and forwards nothing, as a
// network partition or a frozen server does.
type freezingProxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

// startFreezingProxy listens on a free local port and forwards to target
// (host:port) until the test ends.
func startFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, target: target}
	t.Cleanup(p.close)
	go p.accept()
	return p
}

func (p *freezingProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go p.pipe(server, client)
		go p.pipe(client, server)
	}
}

// pipe copies from src to dst while the proxy is not frozen, and drops
// what it reads afterwards.
func (p *freezingProxy) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if !p.frozen.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

func (p *freezingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestAServerThatStopsAnsweringIsNoticed: when NATS stops answering
// without closing the connection, the bus says it is not connected after a
// few unanswered pings (Config.PingInterval), not after the client
// library's minutes.
func TestAServerThatStopsAnsweringIsNoticed(t *testing.T) {
	u := natsURL(t)
	server, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startFreezingProxy(t, server.Host)
	cfg := testConfig("nats://"+proxy.ln.Addr().String(), namespace(t, u))
	cfg.PingInterval = 200 * time.Millisecond
	b := openBus(t, cfg)
	time.Sleep(3 * cfg.PingInterval) // pings answered: still connected
	if !b.Connected() {
		t.Fatal("the bus is not connected while the server answers")
	}
	proxy.frozen.Store(true)
	deadline := time.Now().Add(patience)
	for b.Connected() {
		if time.Now().After(deadline) {
			t.Fatalf("the bus still says it is connected %v after the server stopped answering", patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
