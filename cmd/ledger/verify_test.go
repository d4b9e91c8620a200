package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// headHash is the hash of the head of the store in dir, in hexadecimal.
func headHash(t *testing.T, dir string) string {
	t.Helper()
	return hex.EncodeToString(storeHead(t, dir).Hash)
}

// TestVerifyIntactAndTampered: CONTRACT.md's "exit 0 and prints the head
// position and hash when intact, exit 1 and names the first bad position
// otherwise".
func TestVerifyIntactAndTampered(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 12)
	code, out := runLedger(t, "verify", "--data", dir)
	if want := "ok: 12 events, head position 12, hash " + headHash(t, dir) + "\n"; code != 0 || out != want {
		t.Fatalf("intact ledger: exit %d, output %q, want %q", code, out, want)
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

// TestVerifyThroughTheServer: `ledger verify --server` checks the chain of
// the log a running server answers with a regulator's key, and reaches the
// head the server states; with another organisation's key, or none, it
// cannot; a payload altered in the server's store is found at its position.
func TestVerifyThroughTheServer(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := patentNumber(t, "202010123456")
	// A title with the characters a JSON encoder may escape: the page must
	// hand back the payload byte for byte.
	must(t, s.call(t, "POST", "/v1/patents", p.uniKey, map[string]any{"number": n, "title": "一种<高效>锂电池&电解质 \"α\" \\ 方法",
		"patentee_ids": []string{p.uni}, "ipc": []string{"H01M 10/0562"}, "filed_on": "2020-03-15", "granted_on": "2022-01-10"}), 201)
	s.declare(t, p, n)
	head := must(t, s.call(t, "GET", "/v1/ledger/head", p.regKey, nil), 200)

	code, out := runLedger(t, "verify", "--server", s.base, "--key", p.regKey)
	want := fmt.Sprintf("ok: %d events, head position %d, hash %s\n", head.num("position"), head.num("position"), head.str("hash"))
	if code != 0 || out != want {
		t.Fatalf("verify --server: exit %d, %q; want %q", code, out, want)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--server", s.base, "--key", p.uniKey}, "ledger verify: read global log after 0: the server answered 403 forbidden: the global log is for regulators'"},
		{[]string{"--server", s.base}, "ledger verify: --server needs --key (or LEDGER_KEY)"},
		{[]string{"--server", "localhost:8080", "--key", p.regKey}, `ledger verify: --server "localhost:8080" is not a server address`},
	} {
		if code, out := runLedger(t, append([]string{"verify"}, tc.args...)...); code != 2 || !strings.HasPrefix(out, tc.want) {
			t.Errorf("verify %v: exit %d, %q; want exit 2, %q…", tc.args, code, out, tc.want)
		}
	}

	// A server that answers 429 (the regulator's budget spent by its other
	// clients) is waited out as its Retry-After asks, not given up on.
	var refused atomic.Int32
	target, _ := url.Parse(s.base)
	proxy := httputil.NewSingleHostReverseProxy(target)
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := refused.Add(1); n == 2 || n == 3 { // twice in a row: a retry of the read alone would not do
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"about:blank","title":"Too many requests","status":429,"code":"rate_limited","detail":"slow down"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer limited.Close()
	if code, out := runLedger(t, "verify", "--server", limited.URL, "--key", p.regKey); code != 0 || out != want || refused.Load() < 4 {
		t.Fatalf("verify --server through a 429: exit %d, %q after %d requests; want %q", code, out, refused.Load(), want)
	}

	db, err := sql.Open("sqlite", filepath.Join(s.data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE events SET data = CAST(replace(CAST(data AS TEXT), '高效', '低效') AS BLOB) WHERE type = ?`, domain.TypePatentRegistered)
	if affected, _ := res.RowsAffected(); err != nil || affected != 1 {
		t.Fatalf("tampering: %v, %d rows", err, affected)
	}
	var position int64
	if err := db.QueryRow(`SELECT position FROM events WHERE type = ?`, domain.TypePatentRegistered).Scan(&position); err != nil {
		t.Fatal(err)
	}
	code, out = runLedger(t, "verify", "--server", s.base, "--key", p.regKey)
	if code != 1 || !strings.HasPrefix(out, fmt.Sprintf("BROKEN at position %d: stored hash", position)) {
		t.Fatalf("verify --server of an altered log: exit %d, %q", code, out)
	}
}

// TestVerifyAnchorsCatchARewrittenLog: a log altered at position 7 with
// every hash from there recomputed verifies as a chain, but not against
// the head an auditor wrote down before; an anchor beyond the head, or
// malformed, is refused too.
func TestVerifyAnchorsCatchARewrittenLog(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 12)
	_, out := runLedger(t, "verify", "--data", dir)
	hash := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
	early := anchorAt(t, dir, 5)
	anchor := "12:" + hash
	if code, out := runLedger(t, "verify", "--data", dir, "--anchor", anchor, "--anchor", early); code != 0 || !strings.HasSuffix(out, "anchors held: 2\n") {
		t.Fatalf("intact log with its anchors: exit %d, %q", code, out)
	}
	// The same anchor twice is one anchor; two hashes for one position are
	// a mistake, which must not let the later one hide the earlier.
	if code, out := runLedger(t, "verify", "--data", dir, "--anchor", anchor, "--anchor", strings.ToUpper(anchor)); code != 0 || !strings.HasSuffix(out, "anchors held: 1\n") {
		t.Fatalf("one anchor given twice: exit %d, %q", code, out)
	}
	wrong := "12:" + strings.Repeat("ab", 32)
	for _, pair := range [][2]string{{anchor, wrong}, {wrong, anchor}} {
		code, out := runLedger(t, "verify", "--data", dir, "--anchor", pair[0], "--anchor", pair[1])
		want := fmt.Sprintf("two anchors for position 12: %s and %s", pair[0][3:], pair[1][3:])
		if code != 2 || !strings.Contains(out, want) || strings.Contains(out, "ok:") {
			t.Errorf("anchors %v: exit %d, %q; want exit 2 and %q", pair, code, out, want)
		}
	}
	rewrite(t, dir, 7)
	if code, out := runLedger(t, "verify", "--data", dir); code != 0 {
		t.Fatalf("the rewritten log does not verify as a chain, so this test shows nothing: exit %d, %q", code, out)
	}
	for _, tc := range []struct {
		anchors []string
		code    int
		want    string
	}{
		{[]string{anchor}, 1, "REWRITTEN at or before position 12: the log holds hash "},
		{[]string{early, anchor}, 1, "REWRITTEN at or before position 12"},
		{[]string{early}, 0, "ok: 12 events"},
		{[]string{"13:" + hash}, 1, "SHORTER than anchor position 13: the log ends at position 12"},
		{[]string{"12:abc"}, 2, `invalid value "12:abc" for flag -anchor: "12:abc": the hash is not 64 hexadecimal digits`},
		{[]string{"0:" + hash}, 2, "is not POSITION:HASH with a position from 1"},
	} {
		args := []string{"verify", "--data", dir}
		for _, a := range tc.anchors {
			args = append(args, "--anchor", a)
		}
		if code, out := runLedger(t, args...); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("anchors %v: exit %d, %q; want exit %d, %q", tc.anchors, code, out, tc.code, tc.want)
		}
	}
}

// anchorAt returns POSITION:HASH of the event stored at position in dir.
func anchorAt(t *testing.T, dir string, position int64) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.ReadAll(context.Background(), position-1, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("reading position %d: %v", position, err)
	}
	return fmt.Sprintf("%d:%x", position, events[0].Hash)
}

// rewrite alters the payload at position in dir's store and recomputes
// the hash of every event from there, as someone covering a change would.
func rewrite(t *testing.T, dir string, position int64) {
	t.Helper()
	path := filepath.Join(dir, "events.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.ReadAll(context.Background(), 0, 0)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var prev []byte
	for _, e := range events {
		if e.Position == position {
			e.Data = bytes.Replace(e.Data, []byte(`"k6"`), []byte(`"k9"`), 1)
		}
		if e.Position >= position {
			e.Hash = domain.ChainHash(prev, e)
			if _, err := db.Exec(`UPDATE events SET data = ?, hash = ? WHERE position = ?`, e.Data, e.Hash, e.Position); err != nil {
				t.Fatal(err)
			}
		}
		prev = e.Hash
	}
}

// TestVerifyDamagedStore: a store whose file is damaged in the middle of
// the log is not intact (exit 1), and verify says after which position it
// could not read it, rather than failing to run (exit 2) as for a store it
// cannot open; a file cut short, which does not open, is damaged too.
func TestVerifyDamagedStore(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 3000)
	path := filepath.Join(dir, "events.db")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := len(data) / 2 / 4096 * 4096 // a page in the middle of the log's table
	copy(data[at+200:], bytes.Repeat([]byte{0xff}, 64))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runLedger(t, "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "BROKEN after position ") || !strings.Contains(out, "the store's file is damaged") ||
		strings.Contains(out, "BROKEN after position 0:") { // the events before the damaged page are verified, one by one
		t.Fatalf("damaged store: exit %d, output %q", code, out)
	}

	// Cut to half its length, as a copy broken off: the store does not
	// even open, and that too is a damaged log, not a wrong flag.
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = runLedger(t, "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "BROKEN: the store's file is damaged and its log cannot be read") {
		t.Fatalf("store cut short: exit %d, output %q", code, out)
	}

	// Its header overwritten (no SQLite database any more), or cut within
	// its 100-byte header: damaged too. An empty file is no log to read.
	for name, content := range map[string][]byte{"header overwritten": append(make([]byte, 100), data[100:]...), "cut to 50 bytes": data[:50]} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out := runLedger(t, "verify", "--data", dir); code != 1 || !strings.Contains(out, "BROKEN: the store's file is damaged") {
			t.Errorf("%s: exit %d, output %q", name, code, out)
		}
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runLedger(t, "verify", "--data", dir); code == 1 {
		t.Errorf("an empty events.db: exit 1, output %q; want no verdict of damage", out)
	}
}

// TestVerifyInterruptedSaysSo: a verify cut short by a signal, before the
// store opened or during the walk of a server's log, says it was
// interrupted and concludes nothing (exit 2), rather than a store error.
func TestVerifyInterruptedSaysSo(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 100)
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the signal comes while the first page is asked for
		<-r.Context().Done()
	}))
	defer srv.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--server", srv.URL, "--key", "k"}, "ledger verify: interrupted after position 0 (0 events intact so far)"},
		{[]string{"verify", "--data", dir}, "ledger verify: interrupted before the log was read"},
	} {
		var out, errOut bytes.Buffer
		code := run(ctx, c.args, &out, &errOut)
		if code != 2 || !strings.HasPrefix(errOut.String(), c.want) || out.Len() != 0 {
			t.Errorf("%v interrupted: exit %d, stdout %q, stderr %q", c.args, code, out.String(), errOut.String())
		}
	}
}

// TestVerifyACopyOnReadOnlyStorage: verify and a dry-run import read a
// store in a folder the user may not write (a backup on read-only media,
// another account's folder), where SQLite cannot make the -shm file a WAL
// database needs; one whose -wal holds writes not yet in the file is
// refused, saying how to read it. As root, which writes anywhere, the
// commands run as nobody (setpriv).
func TestVerifyACopyOnReadOnlyStorage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fillStore(t, dir, 50)
	want := headHash(t, dir)
	for _, name := range []string{"events.db-wal", "events.db-shm"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	runAsReader := readOnlyRunner(t, dir)
	code, out := runAsReader("verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "ok: 50 events") || !strings.Contains(out, want) {
		t.Fatalf("verify of a read-only copy: exit %d, output %q", code, out)
	}
	sample := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(sample, []byte("number,title,patentees,ipc,filed_on,granted_on\n"+
		"ZL202010123456.2,一种电池,no-such-org,H01M 10/42,2020-03-15,2022-01-10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(sample), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := runAsReader("import", sample, "--data", dir, "--dry-run"); code != 1 || !strings.Contains(out, "1 row: 0 imported, 0 unchanged, 1 rejected (dry run") {
		t.Fatalf("dry-run import against a read-only copy: exit %d, output %q", code, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events.db-wal"), []byte("a write not yet checkpointed"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if code, out := runAsReader("verify", "--data", dir); code != 2 || !strings.Contains(out, "copy the folder somewhere this user may write") {
		t.Fatalf("a read-only copy with a -wal: exit %d, output %q", code, out)
	}
}

// readOnlyRunner makes dir and its store readable but not writable to the
// user the commands will run as, and returns how to run them: in this
// process, or as root, where permissions do not bind, as nobody through
// setpriv with a built binary.
func readOnlyRunner(t *testing.T, dir string) func(args ...string) (int, string) {
	t.Helper()
	for path, mode := range map[string]os.FileMode{filepath.Join(dir, "events.db"): 0o444, dir: 0o555} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) }) // let TempDir remove it
	for p := filepath.Dir(dir); p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		return func(args ...string) (int, string) { return runLedger(t, args...) }
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("SKIPPED — running as root without setpriv: a read-only store cannot be made read-only to root")
	}
	bin := buildLedger(t)
	for p := bin; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return func(args ...string) (int, string) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
		cmd.Dir = "/"
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("setpriv: %v", err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
}
