package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/patentledger/ledger/projections/natsbus"
)

// TestE2ETwoNodesOnNATS runs two `ledger serve --bus nats` nodes on one
// fresh PostgreSQL schema and one NATS server: what is written on node 1
// is readable on node 2 (listings and GET /v1/patents with min_position),
// and once node 1, the relay holder, stops, node 2 takes the relay over
// and reads its own writes.
func TestE2ETwoNodesOnNATS(t *testing.T) {
	pgBase, natsURL := os.Getenv("LEDGER_TEST_POSTGRES_URL"), os.Getenv("LEDGER_TEST_NATS_URL")
	if pgBase == "" || natsURL == "" {
		t.Skip("SKIPPED — serve with --bus nats is NOT tested: set both LEDGER_TEST_POSTGRES_URL " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and LEDGER_TEST_NATS_URL " +
			"(e.g. nats://127.0.0.1:4222, with JetStream)")
	}
	schema := fmt.Sprintf("e2e_nats_%d", time.Now().UnixNano())
	sep := "?"
	if strings.Contains(pgBase, "?") {
		sep = "&"
	}
	storeURL := pgBase + sep + "search_path=" + schema
	t.Cleanup(func() { dropSchema(t, pgBase, schema) })

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ns := ledgerNamespace(t, storeURL)
	// Registered before the servers start, so it runs after they stop.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := natsbus.DeleteNamespace(ctx, js, ns); err != nil {
			t.Errorf("delete NATS namespace %s: %v", ns, err)
		}
	})
	holder := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h, err := natsbus.RelayHolder(ctx, js, ns)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	waitHolder := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			h := holder()
			if h == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("relay holder %q, want %q", h, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	flags := func(node string) []string {
		return []string{"--store", "postgres", "--store-url", storeURL, "--bus", "nats", "--nats-url", natsURL,
			"--node", node, "--data", t.TempDir()}
	}

	// Node 1 starts first and becomes the relay; node 2 is a candidate.
	s1 := startServer(t, flags("n1")...)
	waitHolder("n1")
	s2 := startServer(t, flags("n2")...)

	// Written on node 1, read on node 2.
	p := s1.parties(t)
	n := s1.registerPatent(t, p, "202010123456")
	declID := s1.declare(t, p, n)
	lic := must(t, s1.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201)
	pos := lic.num("position")
	licenses := func(s *server, pos int64) float64 {
		t.Helper()
		list := must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", pos), "", nil), 200)
		items, _ := list.body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("listings at position %d on %s: %s", pos, s.base, list.raw)
		}
		v, _ := items[0].(map[string]any)["licenses"].(float64)
		return v
	}
	if got := licenses(s2, pos); got != 1 {
		t.Fatalf("node 2 lists %v licences at position %d, want 1", got, pos)
	}
	got := must(t, s2.call(t, "GET", fmt.Sprintf("/v1/patents/%s?min_position=%d", n, pos), "", nil), 200)
	if !strings.Contains(string(got.raw), n) {
		t.Fatalf("node 2 GET /v1/patents/%s: %s", n, got.raw)
	}
	if h := holder(); h != "n1" {
		t.Fatalf("relay holder %q while node 1 runs, want n1", h)
	}

	// Node 1, the relay, stops: node 2 takes the relay over and reads its
	// own writes.
	if code := s1.stop(); code != 0 {
		t.Fatalf("node 1 exited %d", code)
	}
	lic2 := must(t, s2.call(t, "POST", "/v1/patents/"+n+"/licenses", p.sme2Key, openLicenseBody(p.sme2, declID)), 201)
	pos2 := lic2.num("position")
	if got := licenses(s2, pos2); got != 2 {
		t.Fatalf("node 2 lists %v licences at position %d after the fail-over, want 2", got, pos2)
	}
	got = must(t, s2.call(t, "GET", fmt.Sprintf("/v1/patents/%s?min_position=%d", n, pos2), "", nil), 200)
	if !strings.Contains(string(got.raw), n) {
		t.Fatalf("node 2 GET /v1/patents/%s after the fail-over: %s", n, got.raw)
	}
	waitHolder("n2")
	if code := s2.stop(); code != 0 {
		t.Fatalf("node 2 exited %d", code)
	}
}
