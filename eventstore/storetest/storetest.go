// Package storetest is the conformance suite every domain.EventStore adapter
// runs (DESIGN.md §3). An adapter's test calls Run with a Factory; each
// subtest proves one point of the port's contract and can fail on its own.
package storetest

import (
	"context"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// Factory opens stores for the suite.
type Factory struct {
	// Name names the adapter in messages.
	Name string
	// Open opens (creating if needed) the store identified by location; the
	// same location must reopen the same data.
	Open func(t testing.TB, location string) domain.EventStore
	// NewLocation returns a fresh, empty location (e.g. a temp dir path, or
	// a fresh schema/db name).
	NewLocation func(t testing.TB) string
}

// Run runs the conformance suite against the adapter f opens, one subtest
// per point of DESIGN.md §3 plus input validation. The suite opens and closes
// its own stores; the concurrent subtests use a few dozen goroutines and are
// meant to run under -race.
func Run(t *testing.T, f Factory) {
	s := &suite{f: f}
	t.Run(f.Name, func(t *testing.T) {
		t.Run("OptimisticConcurrency", s.testOptimisticConcurrency)
		t.Run("AtomicMultiStream", s.testAtomicMultiStream)
		t.Run("GlobalLogPaging", s.testGlobalLogPaging)
		t.Run("ConcurrentFollower", s.testConcurrentFollower)
		t.Run("ConcurrentConflicts", s.testConcurrentConflicts)
		t.Run("Idempotency", s.testIdempotency)
		t.Run("ConcurrentRepeats", s.testConcurrentRepeats)
		t.Run("Metadata", s.testMetadata)
		t.Run("HashChain", s.testHashChain)
		t.Run("Durability", s.testDurability)
		t.Run("CloseWhileAppending", s.testCloseWhileAppending)
		t.Run("CallsAfterClose", s.testCallsAfterClose)
		t.Run("WaitForPosition", s.testWaitForPosition)
		t.Run("InvalidAppends", s.testInvalidAppends)
		t.Run("MissingStream", s.testMissingStream)
	})
}

// suite carries the factory through the subtests.
type suite struct{ f Factory }

// open opens a store at a fresh location and closes it when the test ends.
func (s *suite) open(t testing.TB) (domain.EventStore, string) {
	t.Helper()
	loc := s.f.NewLocation(t)
	return s.reopen(t, loc), loc
}

// reopen opens the store at loc and closes it when the test ends.
func (s *suite) reopen(t testing.TB, loc string) domain.EventStore {
	t.Helper()
	st := s.f.Open(t, loc)
	t.Cleanup(func() { _ = st.Close() }) // may already be closed: the error is expected
	return st
}

// ctx returns a context that ends with the test.
func ctx(t testing.TB) context.Context { return t.Context() }
