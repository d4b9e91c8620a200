package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestRemoteServerURLIsRefused: a --server with a query or fragment would
// send it with every request (?dry_run=true made the server import as a
// dry run while the CLI reported the rows imported), and one with a user
// name or password would send them nowhere but print them: each is
// refused (exit 2, naming --server and never the password) before any
// request is sent.
func TestRemoteServerURLIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached the server: %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct{ server, want string }{
		{srv.URL + "?dry_run=true", `--server "` + srv.URL + `?dry_run=true" has a query or fragment`},
		{srv.URL + "/?dry_run=true", `--server "` + srv.URL + `/?dry_run=true" has a query or fragment`},
		{srv.URL + "?", `--server "` + srv.URL + `?" has a query or fragment`},
		{srv.URL + "#top", `--server "` + srv.URL + `#top" has a query or fragment`},
		{"http://admin:pw-s3cret@" + host, `--server "http://admin:xxxxx@` + host + `" has a user name or password`},
		{"http://TOKENs3cret@" + host, `--server "http://…@` + host + `" has a user name or password`},
		{"file:///tmp/x", `--server "file:///tmp/x" is not a server address; want http://HOST:PORT or https://HOST`},
		{"ftp://admin:pw-s3cret@" + host, `--server "ftp://admin:xxxxx@` + host + `" is not a server address`},
		{"http://admin:pw-s3cret@" + host + "/%zz", `--server "http://…@` + host + `/%zz" is not a server address`},
	} {
		for _, args := range [][]string{{"verify"}, {"import", samplePath}} {
			data := t.TempDir()
			code, out := runLedger(t, append(args, "--server", c.server, "--key", "k", "--data", data)...)
			want := "ledger " + args[0] + ": " + c.want
			if code != 2 || !strings.HasPrefix(out, want) || strings.Contains(out, "pw-s3cret") {
				t.Errorf("%s --server %s: exit %d, %q; want exit 2 and %q", args[0], c.server, code, out, want)
			}
		}
	}
}

// TestRemoteSettingsFromEnvironment: LEDGER_SERVER and LEDGER_KEY give
// --server and --key, and a --key given wins over LEDGER_KEY.
func TestRemoteSettingsFromEnvironment(t *testing.T) {
	keys := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	t.Setenv("LEDGER_SERVER", srv.URL)
	t.Setenv("LEDGER_KEY", "env-key")
	for _, c := range []struct {
		args []string
		key  string
	}{{nil, "env-key"}, {[]string{"--key", "flag-key"}, "flag-key"}} {
		code, out := runLedger(t, append([]string{"verify"}, c.args...)...)
		if code != 0 || out != "ok: 0 events, head position 0, hash none (the log is empty)\n" {
			t.Fatalf("verify %v: exit %d, %q", c.args, code, out)
		}
		if got := <-keys; got != "Bearer "+c.key {
			t.Errorf("verify %v: the server got %q, want the key %q", c.args, got, c.key)
		}
	}
}

// TestRemoteErrorPageIsShortened: an error answer that is no problem
// document, such as a proxy's HTML page, is named by its status and at
// most its first 200 characters on one line (cut on a character, control
// characters dropped), not printed whole; and only a little of it is read.
func TestRemoteErrorPageIsShortened(t *testing.T) {
	page := "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\n\t<h1>网关错误\x1b[31m</h1>\n" +
		strings.Repeat("<p>上游服务器没有应答 upstream timed out</p>\n", 200) + "END-OF-PAGE</body></html>\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	for _, args := range [][]string{{"verify"}, {"import", samplePath}} {
		code, out := runLedger(t, append(args, "--server", srv.URL, "--key", "k")...)
		want := "the server answered 502 Bad Gateway: <html> <head><title>502 Bad Gateway</title></head> <body> <h1>网关错误 [31m</h1> <p>上游服务器没有应答"
		msg := out[strings.Index(out, "the server answered"):]
		if code != 2 || !strings.HasPrefix(out, "ledger "+args[0]+": ") || !strings.HasPrefix(msg, want) ||
			strings.Contains(out, "END-OF-PAGE") || strings.Contains(out, "\x1b") || !strings.HasSuffix(out, "…\n") ||
			strings.Count(out, "\n") != 1 || !utf8.ValidString(out) {
			t.Errorf("%s: exit %d, %q; want exit 2, one line starting %q", args[0], code, out, want)
			continue
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(strings.TrimPrefix(msg, "the server answered 502 Bad Gateway: "))); n > 201 {
			t.Errorf("%s: %d characters of the page printed, want at most 200 and …: %q", args[0], n, out)
		}
	}

	// A long page: the CLI stops reading it (the server's writes fail once
	// the client has closed the connection) instead of reading it whole.
	written := make(chan int64, 1)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		chunk := []byte(strings.Repeat("<p>upstream timed out</p>\n", 2600)) // ~64 KiB
		var n int64
		for n < 32<<20 {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		written <- n
	}))
	defer big.Close()
	code, out := runLedger(t, "verify", "--server", big.URL, "--key", "k")
	if code != 2 || !strings.Contains(out, "the server answered 502 Bad Gateway: <p>upstream timed out</p> <p>") || len(out) > 1000 {
		t.Fatalf("long page: exit %d, %.2000q", code, out)
	}
	select {
	case n := <-written:
		if n >= 32<<20 {
			t.Errorf("the CLI read the whole 32 MiB error page")
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the server is still writing its error page 20 s after the CLI ended")
	}
}

// TestRemoteRefusesLocalStoreFlags: a flag naming the local store beside a
// server, which would be ignored (the command works through the server),
// is refused: a verify of a damaged copy named by --data must not answer
// "ok" for the server's log because LEDGER_SERVER is set, nor an import
// into --data write to the server.
func TestRemoteRefusesLocalStoreFlags(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the server was asked %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(file, []byte("number,title\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  bool
		args []string
		want string
	}{
		{true, []string{"verify", "--data", dir}, "ledger verify: --data given while LEDGER_SERVER is set"},
		{true, []string{"import", file, "--data", dir}, "ledger import: --data given while LEDGER_SERVER is set"},
		{true, []string{"verify", "--store", "sqlite"}, "ledger verify: --store given while LEDGER_SERVER is set"},
		{false, []string{"verify", "--server", srv.URL, "--key", "k", "--data", dir}, "ledger verify: --server and --data:"},
		{false, []string{"import", file, "--server", srv.URL, "--key", "k", "--store-url", "postgres://x"}, "ledger import: --server and --store-url:"},
	} {
		t.Run(strings.Join(c.args[:2], " "), func(t *testing.T) {
			if c.env {
				t.Setenv("LEDGER_SERVER", srv.URL)
				t.Setenv("LEDGER_KEY", "env-key")
			}
			if code, out := runLedger(t, c.args...); code != 2 || !strings.HasPrefix(out, c.want) {
				t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, out, c.want)
			}
		})
	}
}

// TestImportRefusesEmptyFlags: --as "" or --idempotency-key "" (a script's
// unset variable) is refused rather than taken as absent: acting as the
// admin, or without retry protection, unasked.
func TestImportRefusesEmptyFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(file, []byte("number,title\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", file, "--data", dir, "--as", ""}, "ledger import: --as is empty: give a value, or leave --as out"},
		{[]string{"import", file, "--server", "http://127.0.0.1:1", "--key", "k", "--idempotency-key="}, "ledger import: --idempotency-key is empty"},
	} {
		if code, out := runLedger(t, c.args...); code != 2 || !strings.HasPrefix(out, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, out, c.want)
		}
	}
	if code, out := runLedger(t, "import", "--", file, "--server", "http://u:pw-s3cret@h"); code != 2 || strings.Contains(out, "pw-s3cret") {
		t.Errorf("files after --: exit %d, %q; want exit 2 and no password", code, out)
	}
}
