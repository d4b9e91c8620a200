package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"sync"

	"github.com/patentledger/ledger/domain"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func date(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// parallel calls f(0..n-1) from 16 goroutines.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// parallelClients runs loadClients copies of f and waits for them.
func parallelClients(f func()) {
	var wg sync.WaitGroup
	for range loadClients {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}
