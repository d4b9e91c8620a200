package projections

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination safe for the pipeline's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPipelineLogsTheLoadedIndexes checks that an operator learns from the
// log when the in-memory indexes answer, and how long they took to load.
func TestPipelineLogsTheLoadedIndexes(t *testing.T) {
	dir := t.TempDir()
	st, _, _, _ := onePatentOneFirm(t, dir)
	var logs lockedBuffer
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Runner: fastRetries()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `msg="projections: the in-memory indexes are loaded" took_ms=`) {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the loaded indexes in:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !p.db.tallies.isLoaded() || !p.db.search.isLoaded() {
		t.Fatal("the log says loaded, the indexes are not")
	}
}

// TestPipelineLoadsAnIndexAgain checks that an index emptied while the
// pipeline runs (here by a rebuild of the tallies) is loaded again, and
// logged as loaded again, without a restart.
func TestPipelineLoadsAnIndexAgain(t *testing.T) {
	dir := t.TempDir()
	st, _, _, _ := onePatentOneFirm(t, dir)
	var logs lockedBuffer
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Runner: fastRetries(), StallCheck: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const loaded = `msg="projections: the in-memory indexes are loaded"`
	waitForLog := func(times int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(logs.String(), loaded) < times {
			if time.Now().After(deadline) {
				t.Fatalf("the indexes were not logged as loaded %d times in:\n%s", times, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitForLog(1)
	if err := p.runner.Rebuild(context.Background(), []string{TalliesName}, nil); err != nil {
		t.Fatal(err)
	}
	waitForLog(2)
	if !p.db.tallies.isLoaded() || !p.db.search.isLoaded() {
		t.Fatal("the log says loaded again, the indexes are not")
	}
}

// TestPipelineRetriesAFailingLoadQuietly checks that an index whose load
// keeps failing is tried again until a load succeeds, and that the failure
// is logged once rather than at every try.
func TestPipelineRetriesAFailingLoadQuietly(t *testing.T) {
	dir := t.TempDir()
	st, _, _, _ := onePatentOneFirm(t, dir)
	var logs lockedBuffer
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Runner: fastRetries(), StallCheck: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const loaded, failed = `msg="projections: the in-memory indexes are loaded"`, `msg="projections: the in-memory indexes are not loaded;`
	waitForLog := func(msg string, times int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(logs.String(), msg) < times {
			if time.Now().After(deadline) {
				t.Fatalf("%s was not logged %d times in:\n%s", msg, times, logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitForLog(loaded, 1)
	// Loads fail while the read pool is out of reach, as WarmUp finds it
	// after Close.
	read := p.db.Reader()
	for episode := 1; episode <= 2; episode++ {
		p.db.mu.Lock()
		p.db.read = nil
		p.db.mu.Unlock()
		if err := p.runner.Rebuild(context.Background(), []string{TalliesName}, nil); err != nil {
			t.Fatal(err)
		}
		waitForLog(failed, episode)
		time.Sleep(300 * time.Millisecond) // tries at about 10, 20, 40, 80 and 160 ms
		if n := strings.Count(logs.String(), failed); n != episode {
			t.Fatalf("failing loads were logged %d times in %d episodes, want once each:\n%s", n, episode, logs.String())
		}
		p.db.mu.Lock()
		p.db.read = read
		p.db.mu.Unlock()
		waitForLog(loaded, episode+1)
		if !p.db.tallies.isLoaded() || !p.db.search.isLoaded() {
			t.Fatal("the log says loaded again, the indexes are not")
		}
	}
}
