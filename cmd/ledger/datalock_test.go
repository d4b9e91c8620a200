package main

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondServeOnOneDataFolderIsRefused: two servers on one data folder
// would each apply the log to the same read models, and the second one's
// projections stopped at once on rows the first had written (503 on
// /healthz and on every min_position read, until restarted). The second
// serve is refused (exit 1) naming the one that holds the folder, and the
// first one goes on serving.
func TestSecondServeOnOneDataFolderIsRefused(t *testing.T) {
	s := startServer(t)
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", s.data, "--admin-key", testAdminKey)
	want := fmt.Sprintf("the data folder %s is in use by ledger serve (pid ", s.data)
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("second serve on the same folder: exit %d, want 1 and %q:\n%s", code, want, out)
	}
	must(t, s.call(t, "POST", "/v1/orgs", testAdminKey, map[string]any{"name": "广州测试有限公司", "kind": "enterprise",
		"region_code": "440113", "credit_code": "91440101MA5CXXXX1B", "sme": true}), 201)
	health := must(t, s.call(t, "GET", "/healthz", "", nil), 200)
	if !strings.Contains(string(health.raw), `"healthy":true`) || strings.Contains(string(health.raw), `"healthy":false`) {
		t.Fatalf("the first server's projections: %s", health.raw)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("first server: exit %d", code)
	}
	if code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", s.data); code != 0 {
		t.Fatalf("serve once the first one stopped: exit %d\n%s", code, out)
	}
}

// TestRebuildWhileServingIsRefused: a rebuild beside a running server on
// the same folder reset the checkpoints under it, and its projections
// stopped on the next write (UNIQUE constraint failed), unhealthy until
// restarted. The rebuild is refused (exit 1) and changes nothing; once the
// server has stopped it runs.
func TestRebuildWhileServingIsRefused(t *testing.T) {
	s := startServer(t)
	s.parties(t)
	code, out := runLedger(t, "rebuild", "--data", s.data)
	if code != 1 || !strings.Contains(out, "is in use by ledger serve (pid ") || strings.Contains(out, "rebuilt") {
		t.Fatalf("rebuild while serving: exit %d, want 1 and a refusal:\n%s", code, out)
	}
	must(t, s.call(t, "POST", "/v1/orgs", testAdminKey, map[string]any{"name": "广州测试有限公司", "kind": "enterprise",
		"region_code": "440113", "credit_code": "91440101MA5CYYYY37", "sme": true}), 201)
	head := s.head(t)
	health := must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", head), "", nil), 200)
	if !strings.Contains(string(health.raw), `"items"`) {
		t.Fatalf("listings after the refused rebuild: %s", health.raw)
	}
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31&min_position=%d", head), "", nil), 200)
	if code := s.stop(); code != 0 {
		t.Fatalf("server: exit %d", code)
	}
	if code, out := runLedger(t, "rebuild", "--data", s.data); code != 0 || !strings.Contains(out, fmt.Sprintf("checkpoint %d", head)) {
		t.Fatalf("rebuild once the server stopped: exit %d\n%s", code, out)
	}
}

// TestImportsSpoolInTheDataFolder: an import cut by a forced exit (a
// server killed, or stopped while PostgreSQL froze) left its spooled
// upload in the system's temporary folder for good. A server now spools
// uploads in the data folder's temporary folder, which it holds alone and
// rids of its own leftovers when it starts; what else a tmp held before
// the ledger used the folder (--data . in a project, say) stays.
func TestImportsSpoolInTheDataFolder(t *testing.T) {
	data := t.TempDir()
	tmp := filepath.Join(data, tempFolderName)
	for _, dir := range []string{"excelize-left", "build"} {
		if err := os.MkdirAll(filepath.Join(tmp, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"ledger-import-left", ".write-check-left", "notes.txt", "build/out.o"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("number,title\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startServerWith(t, data, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--admin-key", testAdminKey})
	if left := folderNames(t, tmp); !slices.Equal(left, []string{"build", "notes.txt"}) {
		t.Fatalf("the temporary folder holds %v once the server started, want the files the ledger did not make alone", left)
	}
	if _, err := os.Stat(filepath.Join(tmp, "build/out.o")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"build", "notes.txt"} {
		if err := os.RemoveAll(filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}

	uploads := map[string]string{ // the start of an upload, by how it is sent
		"chunked": "Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\na\r\nnumber,tit\r\n",
		"multipart": "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000\r\n\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\n\r\nnumber,tit",
	}
	for how, start := range uploads {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1/imports/patents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s", testAdminKey, start)
		spooled := waitForNames(t, tmp, func(names []string) bool { return len(names) == 1 })
		if !strings.HasPrefix(spooled[0], "ledger-import-") {
			t.Fatalf("the %s upload was spooled as %v, want one ledger-import-* file", how, spooled)
		}
		conn.Close()
		waitForNames(t, tmp, func(names []string) bool { return len(names) == 0 })
	}
}

// folderNames returns the names in dir.
func folderNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// waitForNames waits up to 5 s for the names in dir to satisfy ok and
// returns them.
func waitForNames(t *testing.T, dir string, ok func([]string) bool) []string {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		names := folderNames(t, dir)
		if ok(names) {
			return names
		}
		if time.Now().After(end) {
			t.Fatalf("%s holds %v after 5 s", dir, names)
		}
	}
}

// TestServeSaysItUpgradedTheStore: the first start of a build with a newer
// store schema, or a local import, raised the store's version without a
// word, after which the older build refused the store. The start now logs
// it, once, and the import says it on stderr.
func TestServeSaysItUpgradedTheStore(t *testing.T) {
	data := t.TempDir()
	serve := []string{"serve", "--addr", "127.0.0.1:0", "--data", data}
	const said = "the event store's schema was upgraded"
	if code, out := runLedgerStopped(t, serve...); code != 0 || strings.Contains(out, said) {
		t.Fatalf("serve on a new folder: exit %d\n%s", code, out)
	}
	downgradeStore(t, data)
	code, out, errOut := runCLI(t, "import", "--data", data, "--dry-run", samplePath)
	if code == 2 || strings.Contains(out+errOut, said) {
		t.Fatalf("a dry run, which only reads: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "import", "--data", data, samplePath)
	if code == 2 || !strings.Contains(errOut, "ledger import: "+said) || !strings.Contains(errOut, "(from version 1 to 2)") {
		t.Fatalf("a local import into a store of version 1: exit %d\n%s%s", code, out, errOut)
	}
	downgradeStore(t, data)
	code, out = runLedgerStopped(t, serve...)
	if code != 0 || !strings.Contains(out, said) || !strings.Contains(out, `"from_version":1,"to_version":2`) {
		t.Fatalf("serve on a store of version 1: exit %d\n%s", code, out)
	}
	if code, out := runLedgerStopped(t, serve...); code != 0 || strings.Contains(out, said) {
		t.Fatalf("serve once more: exit %d\n%s", code, out)
	}
}

// downgradeStore leaves the SQLite store of the data folder data as the
// builds before 2026-11-28 left it: schema version 1, no ledger ID.
func downgradeStore(t *testing.T, data string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("DROP TABLE ledger_identity; PRAGMA user_version = 1")
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
}

// TestATempFolderThatIsNotTheDataFolders: a tmp that was a link was
// followed and the folder it named emptied at start: another program's
// folder, the shared spool of another server, or (tmp -> .) the data
// folder itself, ledger and lock included. A link or a file there is now
// refused (exit 1), and nothing it names is touched.
func TestATempFolderThatIsNotTheDataFolders(t *testing.T) {
	victim := t.TempDir()
	if err := os.WriteFile(filepath.Join(victim, "keep.txt"), []byte("important"), 0o600); err != nil {
		t.Fatal(err)
	}
	served := t.TempDir()
	if code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", served); code != 0 {
		t.Fatalf("first serve: exit %d\n%s", code, out)
	}
	if err := os.Remove(filepath.Join(served, tempFolderName)); err != nil {
		t.Fatal(err)
	}
	for name, place := range map[string]func(tmp string) error{
		"a link to another folder":     func(tmp string) error { return os.Symlink(victim, tmp) },
		"a link to the data folder":    func(tmp string) error { return os.Symlink(".", tmp) },
		"a file":                       func(tmp string) error { return os.WriteFile(tmp, []byte("x"), 0o600) },
		"a link to the data folder, 2": func(tmp string) error { return os.Symlink(filepath.Dir(tmp), tmp) },
	} {
		tmp := filepath.Join(served, tempFolderName)
		if err := place(tmp); err != nil {
			t.Fatal(err)
		}
		code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", served)
		if code != 1 || !strings.Contains(out, tmp+" is not a folder but a link or a file") {
			t.Errorf("tmp as %s: exit %d, want 1 and a refusal:\n%s", name, code, out)
		}
		if _, err := os.Stat(filepath.Join(victim, "keep.txt")); err != nil {
			t.Errorf("tmp as %s: the folder it links to lost its file: %v", name, err)
		}
		for _, kept := range []string{"events.db", lockFileName} {
			if _, err := os.Stat(filepath.Join(served, kept)); err != nil {
				t.Errorf("tmp as %s: the data folder lost %s: %v", name, kept, err)
			}
		}
		if err := os.Remove(tmp); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnUnwritableTempFolderIsRefused: an empty tmp that takes no file
// passed the start, and every import that spooled its upload then answered
// 500. It is refused at start (exit 1), saying so. A read-only tmpfs
// mounted on tmp refuses files even to root.
func TestAnUnwritableTempFolderIsRefused(t *testing.T) {
	data := t.TempDir()
	tmp := filepath.Join(data, tempFolderName)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", tmp, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Skipf("SKIPPED — cannot mount a read-only tmpfs (%v): run as root to test an unwritable tmp", err)
	}
	t.Cleanup(func() { syscall.Unmount(tmp, syscall.MNT_DETACH) })
	code, out := runLedgerStopped(t, "serve", "--addr", "127.0.0.1:0", "--data", data)
	if code != 1 || !strings.Contains(out, "the data folder's temporary folder "+tmp+" is not writable: read-only file system") {
		t.Fatalf("serve with an unwritable tmp: exit %d, want 1 and why:\n%s", code, out)
	}
}
