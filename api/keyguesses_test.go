package api

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fail presents n keys from addr that fail, as a guesser does, and returns
// how many were checked.
func fail(g *keyGuesses, addr string, n int) int {
	checked := 0
	for range n {
		if settle, ok := g.admit(addr); ok {
			checked++
			settle(true)
		}
	}
	return checked
}

// fakeClock is a clock the tests move by hand, so that a refill does not
// depend on how long a busy machine sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestKeyGuessesStopCheckingKeysOnceTheBudgetIsSpent(t *testing.T) {
	g := newKeyGuesses(2, 5)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	g.now = clock.now
	if checked := fail(g, "10.0.0.1", 8); checked != 5 {
		t.Fatalf("8 wrong keys with a burst of 5: %d checked", checked)
	}
	if _, ok := g.admit("10.0.0.1"); ok {
		t.Fatal("the address that spent its budget has its next key checked, right or wrong")
	}
	if _, ok := g.admit("10.0.0.2"); !ok {
		t.Fatal("another address is limited too")
	}
	clock.advance(600 * time.Millisecond) // 2 a second: one more is back
	if checked := fail(g, "10.0.0.1", 3); checked != 1 {
		t.Fatalf("after half a second at 2 a second, %d keys checked, want 1", checked)
	}
}

func TestKeyGuessesNeverCountGoodKeys(t *testing.T) {
	g := newKeyGuesses(2, 5)
	for range 1000 {
		settle, ok := g.admit("10.0.0.1")
		if !ok {
			t.Fatal("a client presenting only good keys was limited")
		}
		settle(false)
	}
	if len(g.byAddr) != 0 {
		t.Fatalf("good keys made %d budgets", len(g.byAddr))
	}
	// Once an address has failed, its good keys are counted before they
	// are checked and given back after.
	fail(g, "10.0.0.1", 4)
	for range 1000 {
		settle, ok := g.admit("10.0.0.1")
		if !ok {
			t.Fatal("good keys after 4 wrong ones of a burst of 5 were limited")
		}
		settle(false)
	}
}

// TestKeyGuessesHoldUnderParallelGuesses: a guesser's parallel requests,
// once its address has a budget under way, get no more keys checked than
// the budget holds.
func TestKeyGuessesHoldUnderParallelGuesses(t *testing.T) {
	g := newKeyGuesses(0.001, 10)
	fail(g, "10.0.0.1", 1)
	var checked atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 64 {
		wg.Go(func() {
			<-start
			for range 10 {
				if settle, ok := g.admit("10.0.0.1"); ok {
					checked.Add(1)
					time.Sleep(time.Millisecond) // the key is being checked
					settle(true)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if n := checked.Load(); n != 9 {
		t.Fatalf("640 parallel wrong keys after 1 of a burst of 10: %d checked, want 9", n)
	}
}

func TestKeyGuessesForgetIdleAddresses(t *testing.T) {
	g := newKeyGuesses(2, 5)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	g.now = clock.now
	g.expiry = 10 * time.Millisecond
	fail(g, "10.0.0.1", 5)
	clock.advance(20 * time.Millisecond)
	fail(g, "10.0.0.2", 1) // a sweep runs at the next admission
	if _, kept := g.byAddr["10.0.0.1"]; kept || len(g.byAddr) != 1 {
		t.Fatalf("after the expiry the budgets are %v, want 10.0.0.2's alone", g.byAddr)
	}
}

func TestClientBlockGroupsAnIPv6ClientsAddresses(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.7": "203.0.113.7", "::ffff:203.0.113.7": "203.0.113.7",
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff": "2001:db8:1:2::/64",
		"2001:db8:1:3::1": "2001:db8:1:3::/64", "fe80::1%eth0": "fe80::/64", "not an address": "not an address",
	} {
		if got := clientBlock(ip); got != want {
			t.Errorf("clientBlock(%q) = %q, want %q", ip, got, want)
		}
	}
}
