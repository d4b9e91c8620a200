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
