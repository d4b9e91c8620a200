package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// testDurability proves §3.7 across a reopen: events, hashes, head and
// idempotency survive Close, and appends continue the chain.
func (s *suite) testDurability(t *testing.T) {
	st, loc := s.open(t)
	first := []domain.StreamAppend{to("d-1", domain.ExpectNoStream, events(3)...), to("d-2", domain.ExpectNoStream, events(2)...)}
	res := mustAppend(t, st, first...)
	mustAppend(t, st, to("d-1", domain.ExpectVersion(3), NewEventData()))
	before := take(t, st, "d-1", "d-2")
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st = s.reopen(t, loc)
	unchanged(t, st, before)
	wantRepeat(t, st, res, first...)
	next := mustAppend(t, st, to("d-1", domain.ExpectVersion(4), NewEventData()))
	wantResult(t, next, before.head.Position+1, domain.StreamVersion{Stream: "d-1", Version: 5})
	wantChained(t, readAll(t, st))
	wantIntact(t, st, before.head.Position+1)
	after := take(t, st, "d-1", "d-2")
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	unchanged(t, s.reopen(t, loc), after)
}

// testCloseWhileAppending proves that Close lets appends in flight finish:
// every append that succeeded is stored after a reopen, and nothing else is.
func (s *suite) testCloseWhileAppending(t *testing.T) {
	st, loc := s.open(t)
	const appenders = 16
	acked := make([][]string, appenders)
	var wg sync.WaitGroup
	started := make(chan struct{}, appenders)
	for i := range appenders {
		wg.Go(func() {
			for j := 0; ; j++ {
				e := NewEventData()
				_, err := st.Append(ctx(t), to("c-"+newID(), domain.ExpectNoStream, e))
				if err == nil {
					acked[i] = append(acked[i], e.ID)
				}
				if j == 0 {
					started <- struct{}{}
				}
				if err != nil {
					return
				}
			}
		})
	}
	for range appenders {
		<-started
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	want := map[string]bool{}
	for _, ids := range acked {
		for _, id := range ids {
			want[id] = true
		}
	}
	all := readAll(t, s.reopen(t, loc))
	for _, e := range all {
		if !want[e.ID] {
			t.Fatalf("event %s at %d is stored, but its append failed", e.ID, e.Position)
		}
	}
	if len(all) != len(want) {
		t.Fatalf("%d events stored, want the %d acknowledged", len(all), len(want))
	}
}

// testCallsAfterClose proves that every call after Close returns an error.
func (s *suite) testCallsAfterClose(t *testing.T) {
	st, _ := s.open(t)
	mustAppend(t, st, to("x", domain.ExpectNoStream, NewEventData()))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c, cancel := context.WithTimeout(ctx(t), 10*time.Second)
	defer cancel()
	calls := map[string]func() error{
		"Append": func() error {
			_, err := st.Append(c, to("x", domain.ExpectAny, NewEventData()))
			return err
		},
		"ReadStream": func() error {
			_, err := st.ReadStream(c, "x", 0, 0)
			return err
		},
		"ReadAll": func() error {
			_, err := st.ReadAll(c, 0, 0)
			return err
		},
		"Head": func() error {
			_, err := st.Head(c)
			return err
		},
		"WaitForPosition": func() error { return st.WaitForPosition(c, 0) },
		"Close":           st.Close,
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s after Close returned no error", name)
		}
	}
}

// testWaitForPosition proves that WaitForPosition returns once the log
// passes the position and returns ctx.Err() when its context ends first.
func (s *suite) testWaitForPosition(t *testing.T) {
	st, _ := s.open(t)
	bound, cancel := context.WithTimeout(ctx(t), time.Minute) // a hang fails instead of stalling
	defer cancel()

	for pos := range int64(3) {
		done := make(chan error, 1)
		go func() { done <- st.WaitForPosition(bound, pos) }()
		mustAppend(t, st, to("w", domain.ExpectVersion(pos), NewEventData()))
		if err := <-done; err != nil {
			t.Fatalf("WaitForPosition(%d) after an append: %v", pos, err)
		}
	}
	if err := st.WaitForPosition(bound, 2); err != nil {
		t.Fatalf("WaitForPosition below the head: %v", err)
	}

	canceled, cancelNow := context.WithCancel(bound)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancelNow()
	}()
	if err := st.WaitForPosition(canceled, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForPosition with a canceled context = %v, want %v", err, context.Canceled)
	}
	expiring, cancelExpiring := context.WithTimeout(bound, 30*time.Millisecond)
	defer cancelExpiring()
	if err := st.WaitForPosition(expiring, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForPosition past its deadline = %v, want %v", err, context.DeadlineExceeded)
	}
}
