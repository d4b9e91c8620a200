package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cancelOnWrite cancels a context at the first write it is given.
type cancelOnWrite struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.cancel()
	return w.Buffer.Write(p)
}

// TestInterruptedRebuildSaysWhatItLeaves: a rebuild stopped by a signal
// (its context cancelled at the first progress line) exits 1 saying it was
// interrupted, which read models it leaves half-built and what rebuilds
// them, not only "context canceled".
func TestInterruptedRebuildSaysWhatItLeaves(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &cancelOnWrite{cancel: cancel}
	var stderr bytes.Buffer
	code := runRebuild(ctx, []string{"--data", dir, "listings"}, stdout, &stderr)
	want := "ledger rebuild: interrupted, leaving listings half-built; the next ledger serve or ledger rebuild on " + dir + " builds again what is half-built"
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout.String(), stderr.String(), want)
	}
}
