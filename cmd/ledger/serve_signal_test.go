package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that a server's goroutines may write
// while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// signalledServer is a `ledger serve` run in-process whose signals a test
// gives: first cancels its context, as a first SIGINT or SIGTERM does;
// second stops it at once, as a second one does.
type signalledServer struct {
	base          string
	stderr        *lockedBuffer
	first, second func()
	done          chan int
}

// startSignalledServer runs `ledger serve` on a temp data folder and
// returns once it listens.
func startSignalledServer(t *testing.T) *signalledServer {
	t.Helper()
	ctx, first := context.WithCancel(context.Background())
	ctx, second := withStopAtOnce(ctx)
	s := &signalledServer{stderr: &lockedBuffer{}, first: first, second: second, done: make(chan int, 1)}
	pr, pw := io.Pipe()
	go func() {
		code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, pw, s.stderr)
		pw.Close()
		s.done <- code
	}()
	t.Cleanup(func() { first(); second() })
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v; stderr %s", err, s.stderr)
	}
	go io.Copy(io.Discard, pr)
	s.base = strings.TrimSpace(strings.TrimPrefix(line, "ledger listening on "))
	return s
}

// waitingRead starts a read that waits for a position the ledger never
// reaches (5 s, the server's limit), and returns what its client got: an
// error when the request was cut.
func waitingRead(base string) <-chan error {
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/v1/listings?min_position=999999")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				err = fmt.Errorf("answered %d", resp.StatusCode)
			}
		}
		got <- err
	}()
	time.Sleep(time.Second) // let the read reach the server and wait there, well within its 5 s
	return got
}

// exit waits up to limit for the server's exit code.
func (s *signalledServer) exit(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case code := <-s.done:
		return code
	case <-time.After(limit):
		t.Fatalf("serve still running %s after the signal; stderr:\n%s", limit, s.stderr)
		return -1
	}
}

// TestServeCutsRequestsAfterTheGracePeriod: a signal lets in-flight
// requests finish for the grace period; those still running then are cut,
// and serve says so, naming them, and exits 1, rather than claiming it
// was stopped "while starting" with exit 0.
func TestServeCutsRequestsAfterTheGracePeriod(t *testing.T) {
	defer func(g time.Duration) { shutdownGrace = g }(shutdownGrace)
	shutdownGrace = 300 * time.Millisecond
	s := startSignalledServer(t)
	read := waitingRead(s.base)
	s.first()
	code := s.exit(t, 3500*time.Millisecond) // before the read's 5 s end it
	out := s.stderr.String()
	want := "ledger serve: stopped by a signal, but 1 request was still running after the 300ms grace period and was cut: GET /v1/listings (running "
	if code != 1 || !strings.Contains(out, want) || strings.Contains(out, "while starting") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, out, want)
	}
	if err := <-read; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("the cut request was answered: %v", err)
	}
}

// TestServeSecondSignalStopsAtOnce: a second signal during the grace
// period cuts the in-flight requests at once (exit 1, saying so) instead
// of being ignored until they end.
func TestServeSecondSignalStopsAtOnce(t *testing.T) {
	s := startSignalledServer(t)
	read := waitingRead(s.base)
	s.first()
	time.Sleep(300 * time.Millisecond) // in the grace period, waiting for the read
	s.second()
	code := s.exit(t, 3500*time.Millisecond) // before the read's 5 s end it, far before the 15 s grace
	out := s.stderr.String()
	want := "ledger serve: stopped at once by a second signal during the 15s grace period; 1 request was cut: GET /v1/listings (running "
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, out, want)
	}
	if err := <-read; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("the cut request was answered: %v", err)
	}
}

// TestServeSecondSignalStopsTheProcess: the binary, run as a process,
// stops at once on a second SIGINT or SIGTERM while it waits for an
// in-flight request, with exit 1.
func TestServeSecondSignalStopsTheProcess(t *testing.T) {
	bin := buildLedger(t)
	p := startProcess(t, bin, "second-signal", t.TempDir())
	read := waitingRead(p.base)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	code, err := p.signal(syscall.SIGTERM)
	if err != nil || code != 1 || time.Since(start) > 3500*time.Millisecond || // far before the 15 s grace
		!strings.Contains(p.stderrTail(), "stopped at once by a second signal") {
		t.Fatalf("exit %d after %s (%v); stderr:\n%s", code, time.Since(start), err, p.stderrTail())
	}
	if err := <-read; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("the cut request was answered: %v", err)
	}
}

// TestServeWarmsTheOrganisationIndex: a server reads the log's
// organisations in the background once it listens, so that the first
// registration or import by name after a start does not wait for it.
func TestServeWarmsTheOrganisationIndex(t *testing.T) {
	s := startSignalledServer(t)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), `"msg":"organisation index loaded"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no organisation index loaded within 10 s; stderr:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.first()
	if code := s.exit(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr)
	}
}
