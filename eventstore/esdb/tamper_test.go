package esdb

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// filled opens a store on the in-process wire-compatibility server (the
// tests below change its storage directly, which a real server does not
// allow) and appends n single events to stream "s".
func filled(t *testing.T, n int) *Store {
	t.Helper()
	t.Logf("running against the %s", wireNote)
	s := connect(t, wireServer(t).URL(), Options{Prefix: "x" + uuid.NewString()[:8] + "-"})
	t.Cleanup(func() { _ = s.Close() })
	for i := range n {
		a := domain.StreamAppend{Stream: "s", Expected: domain.ExpectVersion(int64(i)), Events: []domain.EventData{storetest.NewEventData()}}
		if _, err := s.Append(t.Context(), a); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	return s
}

// TestVerifyFindsTamperedLog proves §3.6 on this backend: one byte changed
// in the server's copy of the log event at position k makes VerifyChain
// report position k.
func TestVerifyFindsTamperedLog(t *testing.T) {
	const k = 13
	s := filled(t, 20)
	if err := wireServer(t).FlipDataByte(s.names.log(), k-1, 40); err != nil {
		t.Fatal(err)
	}
	res, err := domain.VerifyChain(t.Context(), s, nil)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	if res.BadPosition != k || res.Events != k-1 {
		t.Fatalf("VerifyChain = %+v, want bad position %d after %d good events", res, k, k-1)
	}
}

// TestReadStreamRefusesTamperedCopy proves that the stream copy of an event
// is checked against its hash when read: one byte changed in the server's
// copy of version k of a stream makes ReadStream fail with ErrAltered
// instead of handing the altered fact to the domain.
func TestReadStreamRefusesTamperedCopy(t *testing.T) {
	const k = 7
	s := filled(t, 10)
	if err := wireServer(t).FlipDataByte(s.names.stream("s"), k-1, 40); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadStream(t.Context(), "s", 0, 0); !errors.Is(err, ErrAltered) {
		t.Fatalf("ReadStream of an altered stream = %v, want %v", err, ErrAltered)
	}
	if evs, err := s.ReadStream(t.Context(), "s", k, 0); err != nil || len(evs) != 10-k {
		t.Fatalf("ReadStream after the altered version = %d events, %v; want %d", len(evs), err, 10-k)
	}
}
