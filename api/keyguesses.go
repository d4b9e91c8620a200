package api

import (
	"sync"
	"time"
)

// keyGuesses limits, per client address, the keys that fail to
// authenticate: a burst of them, then so many a second (a token bucket
// per address). An address with none left has no key checked at all,
// right or wrong, until one is back: were the wrong ones only answered 429
// once checked, the right one would still be found at the speed of the
// network. An address that never presented a wrong key is not counted,
// so that a busy client with good keys never meets the limit.
type keyGuesses struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	expiry  time.Duration // an address idle this long has its whole burst again: forgotten
	byAddr  map[string]*guessBudget
	sweptAt time.Time
	now     func() time.Time // time.Now; tests move a clock of their own
}

// guessBudget is what an address has left to fail.
type guessBudget struct {
	left float64 // failed keys left at the time of at
	at   time.Time
}

// newKeyGuesses allows each address burst failed keys, then perSecond.
func newKeyGuesses(perSecond float64, burst int) *keyGuesses {
	return &keyGuesses{perSec: perSecond, burst: float64(burst), byAddr: map[string]*guessBudget{},
		expiry: time.Duration(float64(burst)/perSecond*float64(time.Second)) + time.Minute, now: time.Now}
}

// admit is asked before a key from addr is checked. It reports false when
// addr has no failed key left, and the key must not be checked. Otherwise
// the caller checks the key and calls settle with whether it failed. An
// address that has failed before has the key counted before it is checked
// (and given back when it authenticates or could not be checked), so that
// a guesser's parallel requests cannot all slip through at once.
func (g *keyGuesses) admit(addr string) (settle func(failed bool), ok bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	b := g.byAddr[addr]
	if b == nil {
		return func(failed bool) {
			if failed {
				g.spendNew(addr)
			}
		}, true
	}
	if g.refill(b, now); b.left < 1 {
		return nil, false
	}
	b.left--
	return func(failed bool) {
		if !failed {
			g.mu.Lock()
			b.left = min(g.burst, b.left+1)
			g.mu.Unlock()
		}
	}, true
}

// spendNew counts a failed key from an address that had no budget when
// the key was admitted (it may have one by now).
func (g *keyGuesses) spendNew(addr string) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.byAddr[addr]
	if b == nil {
		b = &guessBudget{left: g.burst, at: now}
		g.byAddr[addr] = b
	}
	g.refill(b, now)
	b.left = max(0, b.left-1)
}

// refill brings b's budget up to now. The caller holds g.mu.
func (g *keyGuesses) refill(b *guessBudget, now time.Time) {
	b.left = min(g.burst, b.left+now.Sub(b.at).Seconds()*g.perSec)
	b.at = now
}

// sweep forgets, at most once per expiry, the addresses idle longer than
// expiry. The caller holds g.mu.
func (g *keyGuesses) sweep(now time.Time) {
	if now.Sub(g.sweptAt) < g.expiry {
		return
	}
	g.sweptAt = now
	for addr, b := range g.byAddr {
		if now.Sub(b.at) > g.expiry {
			delete(g.byAddr, addr)
		}
	}
}
