package headwatch

import (
	"sync"
	"testing"
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
