package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// fillStore appends n single-event appends to the store in dir.
func fillStore(t *testing.T, dir string, n int) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range n {
		_, err := st.Append(context.Background(), domain.StreamAppend{Stream: fmt.Sprintf("org-%d", i%3), Expected: domain.ExpectAny,
			Events: []domain.EventData{{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Type: domain.TypeOrgKeyRevoked,
				Data: []byte(fmt.Sprintf(`{"org_id":"org-%d","key_id":"k%d"}`, i%3, i)), Meta: domain.Metadata{RecordedAt: time.Now(), Actor: "admin", SchemaVersion: 1}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func runLedger(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestVerifyIntactAndTampered(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 12)
	code, out := runLedger(t, "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "ok: 12 events, head position 12, hash ") {
		t.Fatalf("intact ledger: exit %d, output %q", code, out)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Change one byte of the payload at position 7: "k6" becomes "k7".
	if _, err := db.Exec(`UPDATE events SET data = CAST(replace(CAST(data AS TEXT), '"k6"', '"k7"') AS BLOB) WHERE position = 7`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out = runLedger(t, "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "BROKEN at position 7") {
		t.Fatalf("tampered ledger: exit %d, output %q", code, out)
	}
}

// TestVerifyEmptyStore: an empty log is intact, and the output says it
// has no hash rather than ending in "hash ".
func TestVerifyEmptyStore(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 0)
	code, out := runLedger(t, "verify", "--data", dir)
	if code != 0 || out != "ok: 0 events, head position 0, hash none (the log is empty)\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestVerifyMissingStore(t *testing.T) {
	code, out := runLedger(t, "verify", "--data", filepath.Join(t.TempDir(), "nothing-here"))
	if code != 2 || !strings.Contains(out, "ledger verify:") {
		t.Fatalf("missing store: exit %d, output %q", code, out)
	}
}

// TestCommandsRefuseStrayArguments: a command without positional
// arguments refuses one, rather than leaving the flags after it unread and
// working on the default data folder.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 2)
	for _, command := range []string{"verify", "serve"} {
		code, out := runLedger(t, command, "extra", "--data", dir)
		if code != 2 || !strings.Contains(out, `ledger `+command+`: unexpected argument "extra"`) || !strings.Contains(out, "-data") {
			t.Fatalf("%s: exit %d, output %q", command, code, out)
		}
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	t.Setenv("LEDGER_DATA", "/from/env")
	t.Setenv("LEDGER_ADDR", "127.0.0.1:9999")
	var cfg config
	fs := cfg.newFlagSet("x", &bytes.Buffer{}, "data", "addr", "store")
	if err := fs.Parse([]string{"--data", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	if cfg.data != "/from/flag" || cfg.addr != "127.0.0.1:9999" || cfg.store != "sqlite" {
		t.Fatalf("config %+v", cfg)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, out := runLedger(t, "frobnicate"); code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, output %q", code, out)
	}
}
