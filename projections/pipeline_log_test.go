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

	"github.com/patentledger/ledger/domain"
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

// The log messages of the in-memory indexes' loads.
const (
	indexesLoaded    = `msg="projections: the in-memory indexes are loaded"`
	indexesNotLoaded = `msg="projections: the in-memory indexes are not loaded;`
)

// startLoggedPipeline starts a pipeline over a one-patent ledger that
// checks its indexes every stallCheck (the default when 0) and logs into
// the buffer it returns.
func startLoggedPipeline(t *testing.T, stallCheck time.Duration) (*Pipeline, *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	st, _, _, _ := onePatentOneFirm(t, dir)
	logs := &lockedBuffer{}
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Runner: fastRetries(), StallCheck: stallCheck})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, logs
}

// startLoggingPipeline starts a pipeline over st, its read models in dir,
// whose runner logs with the pipeline into the buffer it returns.
func startLoggingPipeline(t *testing.T, st domain.EventStore, dir string) (*Pipeline, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	runner := fastRetries()
	runner.Logger = nil // the pipeline's
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, logs
}

// waitForLog waits up to 10 s until logs hold msg at least times times.
func waitForLog(t *testing.T, logs *lockedBuffer, msg string, times int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), msg) < times {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not logged %d times in:\n%s", msg, times, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// requireIndexesLoaded fails the test unless both in-memory indexes are
// loaded.
func requireIndexesLoaded(t *testing.T, p *Pipeline) {
	t.Helper()
	if !p.db.tallies.isLoaded() || !p.db.search.isLoaded() {
		t.Fatal("the log says loaded, the indexes are not")
	}
}

// TestPipelineLogsTheLoadedIndexes checks that an operator learns from the
// log when the in-memory indexes answer, and how long they took to load.
func TestPipelineLogsTheLoadedIndexes(t *testing.T) {
	p, logs := startLoggedPipeline(t, 0)
	waitForLog(t, logs, indexesLoaded+" took_ms=", 1)
	requireIndexesLoaded(t, p)
}

// TestPipelineLogsItsRebuild: a pipeline that starts on read models it
// must build (a new data folder here) says in its log that it rebuilds
// them, which ones, and when it is done: /readyz answered 503 meanwhile
// and the log said nothing of why.
func TestPipelineLogsItsRebuild(t *testing.T) {
	dir := t.TempDir()
	st, _, _, _ := onePatentOneFirm(t, dir)
	_, logs := startLoggingPipeline(t, st, dir)
	waitForLog(t, logs, `msg="projections: read models rebuilt" projections="[listings tallies]" seconds=`, 1)
	if !strings.Contains(logs.String(), `msg="projections: rebuilding read models from the event store; their answers are not current until it ends" projections="[listings tallies]"`) {
		t.Errorf("no line saying the rebuild begins:\n%s", logs.String())
	}
}

// TestPipelineLoadsAnIndexAgain checks that an index emptied while the
// pipeline runs (here by a rebuild of the tallies) is loaded again, and
// logged as loaded again, without a restart.
func TestPipelineLoadsAnIndexAgain(t *testing.T) {
	p, logs := startLoggedPipeline(t, 20*time.Millisecond)
	waitForLog(t, logs, indexesLoaded, 1)
	if err := p.runner.Rebuild(context.Background(), []string{TalliesName}, nil); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, logs, indexesLoaded, 2)
	requireIndexesLoaded(t, p)
}

// TestPipelineRetriesAFailingLoadQuietly checks that an index whose load
// keeps failing is tried again until a load succeeds, and that the failure
// is logged once rather than at every try.
func TestPipelineRetriesAFailingLoadQuietly(t *testing.T) {
	p, logs := startLoggedPipeline(t, 10*time.Millisecond)
	waitForLog(t, logs, indexesLoaded, 1)
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
		waitForLog(t, logs, indexesNotLoaded, episode)
		time.Sleep(300 * time.Millisecond) // tries at about 10, 20, 40, 80 and 160 ms
		if n := strings.Count(logs.String(), indexesNotLoaded); n != episode {
			t.Fatalf("failing loads were logged %d times in %d episodes, want once each:\n%s", n, episode, logs.String())
		}
		p.db.mu.Lock()
		p.db.read = read
		p.db.mu.Unlock()
		waitForLog(t, logs, indexesLoaded, episode+1)
		requireIndexesLoaded(t, p)
	}
}
