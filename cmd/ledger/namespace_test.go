package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections/natsbus"
)

// TestBusNamespaceIsTheLedgers: the NATS namespace is named after the
// ledger the store holds, not after how its location is spelt. A ledger
// created afresh in the folder of a deleted one gets a namespace of its
// own (named after the folder, it read the old ledger's feed, as two
// ledgers whose store URLs read alike did), and one ledger reached by two
// paths keeps one namespace.
func TestBusNamespaceIsTheLedgers(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	namespace := func(folder string) string {
		t.Helper()
		cfg := config{store: "sqlite", data: folder}
		st, err := cfg.openStore(context.Background(), storeCreate)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ns, err := busNamespace(cfg, st)
		if err != nil || !natsbus.ValidNamespace(ns) || ns != natsbus.NamespaceFor("ledger-"+st.(*sqlite.Store).LedgerID()) {
			t.Fatalf("namespace %q (%v); want the valid namespace of the store's ledger ID", ns, err)
		}
		return ns
	}
	first := namespace(data)
	if again := namespace(data); again != first {
		t.Fatalf("one ledger opened twice: namespaces %q and %q", first, again)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	if linked := namespace(link); linked != first {
		t.Errorf("one ledger through another path: namespace %q, want %q", linked, first)
	}
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	if fresh := namespace(data); fresh == first {
		t.Errorf("a new ledger in the folder of a deleted one shares its namespace %q", fresh)
	}
}
