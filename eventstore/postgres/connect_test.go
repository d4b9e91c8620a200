package postgres

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// silentHost accepts TCP connections and never answers on them, as a
// PostgreSQL host behind a network partition would seem to.
func silentHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestPoolConfigBoundsConnecting(t *testing.T) {
	cfg, _, err := poolConfig("postgres://u@127.0.0.1:5432/db", Options{})
	if err != nil || cfg.ConnConfig.ConnectTimeout != defaultConnectTimeout {
		t.Fatalf("without connect_timeout: %v, %v; want %v", cfg.ConnConfig.ConnectTimeout, err, defaultConnectTimeout)
	}
	cfg, _, err = poolConfig("postgres://u@127.0.0.1:5432/db?connect_timeout=3", Options{})
	if err != nil || cfg.ConnConfig.ConnectTimeout != 3*time.Second {
		t.Fatalf("with connect_timeout=3: %v, %v; want 3s", cfg.ConnConfig.ConnectTimeout, err)
	}
}

// TestOpenGivesUpOnAHostThatNeverAnswers: Open against a host that takes
// the connection and says nothing fails, on its own, as unavailable once
// the connect timeout has passed, instead of waiting for ever.
func TestOpenGivesUpOnAHostThatNeverAnswers(t *testing.T) {
	url := "postgres://u@" + silentHost(t) + "/db?sslmode=disable&connect_timeout=1"
	done := make(chan error, 1)
	go func() {
		s, err := Open(context.Background(), url, Options{})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Open: %v; want an error matching domain.ErrUnavailable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Open still waits on a host that never answers after 30 s")
	}
}
