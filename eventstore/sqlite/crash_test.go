package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// crashChildEnv, set to a file path, makes TestKilledMidAppend the child
// process that appends to that store until it is killed.
const crashChildEnv = "LEDGER_TEST_CRASH_STORE"

// crashBatch is how many events every append of the child writes: one
// stream of crashBatch events, or two streams of crashBatch/2 each.
const crashBatch = 10

// TestKilledMidAppend SIGKILLs a process while several of its goroutines
// append batches to the store, at different moments, and checks after each
// kill that the store opens for writing, its hash chain is intact with
// dense positions, every stream holds a whole batch, and every batch the
// child saw acknowledged is there.
func TestKilledMidAppend(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		appendUntilKilled(path)
		return
	}
	path := filepath.Join(t.TempDir(), "events.db")
	for round, streams := range []int{1, 40, 150, 400} {
		acked := killAfter(t, path, streams)
		s := openTest(t, path, Options{})
		res, err := domain.VerifyChain(context.Background(), s, nil)
		if err != nil || !res.Intact() {
			t.Fatalf("round %d: chain after the kill: %+v, %v", round, res, err)
		}
		stored := map[string]int64{}
		events := readAllEvents(t, s)
		for _, e := range events {
			stored[e.Stream]++
		}
		for stream, n := range stored {
			if want := int64(crashBatch / strings.Count(stream, "+")); n != want {
				t.Errorf("round %d: stream %s holds %d events, want a whole batch of %d", round, stream, n, want)
			}
		}
		for _, stream := range acked {
			if stored[stream] == 0 {
				t.Errorf("round %d: acknowledged stream %s is missing", round, stream)
			}
		}
		t.Logf("round %d: killed after %d streams were acknowledged; the store holds %d events in %d streams", round, len(acked), len(events), len(stored))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// killAfter starts the child on path, SIGKILLs it once it has acknowledged
// appends to at least streams streams, and returns those streams.
func killAfter(t *testing.T, path string, streams int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidAppend$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	lines := bufio.NewScanner(out)
	for len(acked) < streams && lines.Scan() {
		if stream, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acked = append(acked, strings.Split(stream, " ")...)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < streams {
		t.Fatalf("the child acknowledged %d streams before it ended, want %d", len(acked), streams)
	}
	return acked
}

// appendUntilKilled appends batches to the store at path from four
// goroutines, printing "ack STREAM…" after each acknowledged append, until
// the process is killed.
func appendUntilKilled(path string) {
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				appends := crashAppends(fmt.Sprintf("%d-%d-%d", os.Getpid(), g, i), i%3 == 0)
				if _, err := s.Append(context.Background(), appends...); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Print("ack")
				for _, a := range appends {
					fmt.Print(" ", a.Stream)
				}
				fmt.Println()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// crashAppends returns one append of crashBatch events: to one new stream,
// or split over two when twoStreams is set. A stream's name holds one "+"
// per stream of its append.
func crashAppends(name string, twoStreams bool) []domain.StreamAppend {
	if !twoStreams {
		return []domain.StreamAppend{{Stream: "+" + name, Expected: domain.ExpectNoStream, Events: crashEvents(crashBatch)}}
	}
	return []domain.StreamAppend{
		{Stream: "++a" + name, Expected: domain.ExpectNoStream, Events: crashEvents(crashBatch / 2)},
		{Stream: "++b" + name, Expected: domain.ExpectNoStream, Events: crashEvents(crashBatch / 2)},
	}
}

// crashEvents returns n fresh events.
func crashEvents(n int) []domain.EventData {
	evs := make([]domain.EventData, n)
	for i := range evs {
		evs[i] = storetest.NewEventData()
	}
	return evs
}

// readAllEvents reads the whole global log of s.
func readAllEvents(t *testing.T, s *Store) []domain.RecordedEvent {
	t.Helper()
	var all []domain.RecordedEvent
	for {
		batch, err := s.ReadAll(context.Background(), int64(len(all)), 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return all
		}
		all = append(all, batch...)
	}
}
