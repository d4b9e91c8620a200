package headwatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestAdvanceWakesEveryWaiterOnce(t *testing.T) {
	n := New(3)
	pos, ch := n.Current()
	if pos != 3 {
		t.Fatalf("position %d", pos)
	}
	n.Advance(2) // old news: nobody wakes
	select {
	case <-ch:
		t.Fatal("an old position woke the waiters")
	default:
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); <-ch }()
	}
	n.Advance(7)
	wg.Wait()
	if pos, next := n.Current(); pos != 7 || next == ch {
		t.Fatalf("after the advance: position %d, same channel %v", pos, next == ch)
	}
}

func TestWaitEndsOnAdvanceCancelCloseAndPoll(t *testing.T) {
	errClosed := errors.New("closed")
	n := New(1)
	if err := n.Wait(context.Background(), 0, nil, errClosed, 0, nil); err != nil {
		t.Fatalf("a position already known: %v", err)
	}
	go n.Advance(2)
	if err := n.Wait(context.Background(), 1, nil, errClosed, 0, nil); err != nil {
		t.Fatalf("after an advance: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Wait(ctx, 5, nil, errClosed, 0, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v", err)
	}
	done := make(chan struct{})
	close(done)
	if err := n.Wait(context.Background(), 5, done, errClosed, 0, nil); err != errClosed {
		t.Fatalf("a closed store: %v", err)
	}
	polls := 0
	poll := func(context.Context) error { polls++; n.Advance(6); return nil }
	if err := n.Wait(context.Background(), 5, nil, errClosed, time.Millisecond, poll); err != nil || polls != 1 {
		t.Fatalf("a poll that finds the position: %v after %d polls", err, polls)
	}
	failing := func(context.Context) error { return errClosed }
	if err := n.Wait(context.Background(), 9, nil, nil, time.Millisecond, failing); err != errClosed {
		t.Fatalf("a failing poll: %v", err)
	}
}
