package esdb

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/esdb/esdbtest"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// envURL names the variable that points the tests at a real EventStoreDB
// (or KurrentDB) node, e.g. esdb://127.0.0.1:2113?tls=false.
const envURL = "LEDGER_TEST_ESDB_URL"

// wireNote is said wherever a test runs against the in-process server.
const wireNote = "in-process wire-compatibility server built on EventStore-Client-Go's protos; not EventStoreDB"

var (
	wireOnce sync.Once
	wire     *esdbtest.Server
	wireErr  error
)

// TestMain runs the tests, then stops the wire-compatibility server if one
// was started.
func TestMain(m *testing.M) {
	code := m.Run()
	if wire != nil {
		wire.Close()
	}
	os.Exit(code)
}

// wireServer returns the package's in-process wire-compatibility server,
// starting it on first use.
func wireServer(t testing.TB) *esdbtest.Server {
	t.Helper()
	wireOnce.Do(func() { wire, wireErr = esdbtest.Start() })
	if wireErr != nil {
		t.Fatalf("start the %s: %v", wireNote, wireErr)
	}
	return wire
}

// TestConformanceEventStoreDB runs the conformance suite against the real
// server named by LEDGER_TEST_ESDB_URL.
func TestConformanceEventStoreDB(t *testing.T) {
	url := os.Getenv(envURL)
	if url == "" {
		t.Skip(envURL + " is not set, and no EventStoreDB server can be installed here; " +
			"TestConformanceWireCompatServer runs the suite against the " + wireNote)
	}
	t.Logf("running against the EventStoreDB node at %s", url)
	storetest.Run(t, factory("esdb-on-EventStoreDB", url))
}

// TestConformanceWireCompatServer runs the conformance suite against the
// in-process wire-compatibility server. It shows that the adapter and the
// v4 client agree on the wire with a server that follows EventStoreDB's
// append and read rules; it says nothing of a real node's behaviour.
func TestConformanceWireCompatServer(t *testing.T) {
	srv := wireServer(t)
	t.Logf("running against the %s, at %s", wireNote, srv.URL())
	storetest.Run(t, factory("esdb-on-wire-compat-server", srv.URL()))
}

// factory opens stores over the server at url; a location is a fresh
// stream-name prefix, so that test stores never share streams.
func factory(name, url string) storetest.Factory {
	run := uuid.NewString()[:8]
	var n atomic.Int64
	return storetest.Factory{
		Name:        name,
		Open:        func(t testing.TB, loc string) domain.EventStore { return connect(t, url, Options{Prefix: loc}) },
		NewLocation: func(testing.TB) string { return fmt.Sprintf("t%s-%d-", run, n.Add(1)) },
	}
}

// connect opens a store over the server at url and fails the test on error.
func connect(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Connect(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Connect(%s): %v", url, err)
	}
	return s
}
