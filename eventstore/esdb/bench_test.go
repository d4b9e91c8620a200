package esdb

import (
	"testing"

	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// The benchmarks run against the in-process wire-compatibility server (not
// EventStoreDB): they measure the adapter's round trips and CPU over
// loopback gRPC, not a real node's throughput.

// benchStore opens a store with a fresh prefix on the wire-compatibility
// server.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s := connect(b, wireServer(b).URL(), Options{Prefix: "b" + uuid.NewString()[:8] + "-"})
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkAppend appends one event at a time from one goroutine.
func BenchmarkAppend(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		if _, err := s.Append(b.Context(), one("s", domain.ExpectAny)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel appends one event per call to streams of their
// own from several goroutines, which group commit batches.
func BenchmarkAppendParallel(b *testing.B) {
	s := benchStore(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		stream := "p-" + uuid.NewString()
		for pb.Next() {
			if _, err := s.Append(b.Context(), one(stream, domain.ExpectAny)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReadStream reads a stream of ten events.
func BenchmarkReadStream(b *testing.B) {
	s := benchStore(b)
	for i := range 10 {
		if _, err := s.Append(b.Context(), one("s", domain.ExpectVersion(int64(i)))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.ReadStream(b.Context(), "s", 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}
