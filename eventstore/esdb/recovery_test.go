package esdb

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// errCrash is what the test hooks return to stop an append as a crash of
// the writing process would.
var errCrash = errors.New("simulated crash")

// backend returns the server the recovery tests use: the real one when
// LEDGER_TEST_ESDB_URL is set, else the in-process wire-compatibility
// server, and a fresh stream-name prefix.
func backend(t *testing.T) (url, prefix string) {
	t.Helper()
	prefix = "r" + uuid.NewString()[:8] + "-"
	if url = os.Getenv(envURL); url != "" {
		t.Logf("running against the EventStoreDB node at %s", url)
		return url, prefix
	}
	t.Logf("running against the %s", wireNote)
	return wireServer(t).URL(), prefix
}

// crash stops s the way a killed process stops: no checkpoint is written
// and nothing is finished; only the connection is dropped.
func crash(t testing.TB, s *Store) {
	t.Helper()
	s.mu.Lock()
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.inflight.Wait()
	close(s.reqs)
	s.writer.Wait()
	s.watcher.Wait()
	if err := s.c.Close(); err != nil {
		t.Fatalf("close the client: %v", err)
	}
}

// pledge is a multi-stream append like a pledge over two patents: one
// event in each patent's stream and two in the pledge's stream.
func pledge() []domain.StreamAppend {
	ev := storetest.NewEventData
	return []domain.StreamAppend{
		{Stream: "patent-ZL202010123456.7", Expected: domain.ExpectVersion(1), Events: []domain.EventData{ev()}},
		{Stream: "patent-ZL202110654321.X", Expected: domain.ExpectNoStream, Events: []domain.EventData{ev()}},
		{Stream: "pledge-1", Expected: domain.ExpectNoStream, Events: []domain.EventData{ev(), ev()}},
	}
}

// onlyFirstStream fails the materialisation of every stream but the first
// one of pledge(), as a writer that dies after the first stream would.
func onlyFirstStream(stream string) error {
	if stream == "patent-ZL202010123456.7" {
		return nil
	}
	return errCrash
}

// rawCount returns how many events the EventStoreDB stream name holds,
// read with a client of its own, past the store.
func rawCount(t testing.TB, url, name string) int {
	t.Helper()
	conf, err := esdbclient.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdbclient.NoopLogging()
	c, err := esdbclient.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rs, err := c.ReadStream(context.Background(), name, esdbclient.ReadStreamOptions{}, 1000)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	defer rs.Close()
	for n := 0; ; n++ {
		_, err := rs.Recv()
		if errors.Is(err, io.EOF) || hasCode(err, esdbclient.ErrorCodeResourceNotFound) {
			return n
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
	}
}

// wantCounts fails the test unless each ledger stream (or, named
// logStream, the log) holds the given number of events on the server.
func wantCounts(t testing.TB, url, prefix string, want map[string]int) {
	t.Helper()
	n := names{prefix: prefix}
	for stream, count := range want {
		name := n.stream(stream)
		if stream == logStream {
			name = n.log()
		}
		if got := rawCount(t, url, name); got != count {
			t.Fatalf("stream %s holds %d events on the server, want %d", stream, got, count)
		}
	}
}

// interrupted appends one event to the first patent, then the pledge with
// a writer that dies after materialising the first stream, and returns
// the pledge and its result. The log then holds the pledge, the first
// patent's stream holds its event, and the other streams do not.
func interrupted(t *testing.T, url, prefix string) ([]domain.StreamAppend, domain.AppendResult) {
	t.Helper()
	s := connect(t, url, Options{Prefix: prefix})
	first := domain.StreamAppend{Stream: "patent-ZL202010123456.7", Expected: domain.ExpectNoStream,
		Events: []domain.EventData{storetest.NewEventData()}}
	if _, err := s.Append(t.Context(), first); err != nil {
		t.Fatalf("Append: %v", err)
	}
	s.opts.beforeStream = onlyFirstStream
	appends := pledge()
	res, err := s.Append(t.Context(), appends...)
	if err != nil {
		t.Fatalf("Append of the pledge (committed to the log, then interrupted): %v", err)
	}
	crash(t, s)
	wantCounts(t, url, prefix, map[string]int{logStream: 5,
		"patent-ZL202010123456.7": 2, "patent-ZL202110654321.X": 0, "pledge-1": 0})
	return appends, res
}

// TestOpenFinishesInterruptedAppend proves the recovery of §3.2: a
// multi-stream append interrupted after its first stream is finished by the
// next Open, so that every stream, the log, the ID index and the hash
// chain agree, and the append is all there.
func TestOpenFinishesInterruptedAppend(t *testing.T) {
	url, prefix := backend(t)
	appends, res := interrupted(t, url, prefix)

	s := connect(t, url, Options{Prefix: prefix})
	defer s.Close()
	wantCounts(t, url, prefix, map[string]int{"patent-ZL202010123456.7": 2, "patent-ZL202110654321.X": 1, "pledge-1": 2})
	wantAllThere(t, s, appends, res)
}

// TestReadFinishesInterruptedAppend proves that a store that was already
// open when another process died mid-append (so that no Open recovers)
// never shows part of the append: reading a stream, or appending, finishes
// it first.
func TestReadFinishesInterruptedAppend(t *testing.T) {
	url, prefix := backend(t)
	other := connect(t, url, Options{Prefix: prefix})
	defer other.Close()
	appends, res := interrupted(t, url, prefix)
	wantAllThere(t, other, appends, res)
}

// TestAppendFinishesInterruptedAppend proves that an append through a
// store that was open during the interruption finishes the interrupted
// append first, and then sees its stream versions.
func TestAppendFinishesInterruptedAppend(t *testing.T) {
	url, prefix := backend(t)
	other := connect(t, url, Options{Prefix: prefix})
	defer other.Close()
	_, res := interrupted(t, url, prefix)
	next := domain.StreamAppend{Stream: "pledge-1", Expected: domain.ExpectVersion(2), Events: []domain.EventData{storetest.NewEventData()}}
	got, err := other.Append(t.Context(), next)
	if err != nil {
		t.Fatalf("Append after the interrupted pledge: %v", err)
	}
	if got.Position != res.Position+1 || got.Streams[0].Version != 3 {
		t.Fatalf("Append = %+v, want position %d and pledge-1 at version 3", got, res.Position+1)
	}
	wantCounts(t, url, prefix, map[string]int{"patent-ZL202110654321.X": 1, "pledge-1": 3})
}

// TestCrashBeforeCommit proves the other half of all-or-nothing: an append
// whose writer dies before the log write leaves no trace, and the same
// append is later written afresh.
func TestCrashBeforeCommit(t *testing.T) {
	url, prefix := backend(t)
	s := connect(t, url, Options{Prefix: prefix, beforeLog: func() error { return errCrash }})
	appends := pledge()[1:]
	if _, err := s.Append(t.Context(), appends...); !errors.Is(err, errCrash) {
		t.Fatalf("Append with a crash before the log write = %v, want %v", err, errCrash)
	}
	crash(t, s)

	s = connect(t, url, Options{Prefix: prefix})
	defer s.Close()
	wantCounts(t, url, prefix, map[string]int{logStream: 0, "patent-ZL202110654321.X": 0, "pledge-1": 0})
	if h, err := s.Head(t.Context()); err != nil || h.Position != 0 {
		t.Fatalf("Head = %+v, %v; want an empty log", h, err)
	}
	res, err := s.Append(t.Context(), appends...)
	if err != nil || res.Position != 3 {
		t.Fatalf("Append after the crash = %+v, %v; want it written at positions 1..3", res, err)
	}
}

// wantAllThere fails the test unless st shows the whole of the interrupted
// pledge (appends, answered with res) in every stream and in the log, the
// chain is intact, and a repeat returns the original result.
func wantAllThere(t *testing.T, st domain.EventStore, appends []domain.StreamAppend, res domain.AppendResult) {
	t.Helper()
	for _, a := range appends {
		evs, err := st.ReadStream(t.Context(), a.Stream, 0, 0)
		if err != nil {
			t.Fatalf("ReadStream(%s): %v", a.Stream, err)
		}
		last := evs[len(evs)-len(a.Events):]
		for i, e := range a.Events {
			if last[i].ID != e.ID {
				t.Fatalf("stream %s ends with %s, want the pledge's %s", a.Stream, last[i].ID, e.ID)
			}
		}
	}
	v, err := domain.VerifyChain(t.Context(), st, nil)
	if err != nil || !v.Intact() || v.Events != res.Position {
		t.Fatalf("VerifyChain = %+v, %v; want %d events intact", v, err, res.Position)
	}
	again, err := st.Append(t.Context(), appends...)
	if err != nil || again.Position != res.Position || len(again.Streams) != len(res.Streams) {
		t.Fatalf("repeat = %+v, %v; want the original %+v", again, err, res)
	}
	for i := range res.Streams {
		if again.Streams[i] != res.Streams[i] {
			t.Fatalf("repeat = %+v, want the original %+v", again, res)
		}
	}
}
