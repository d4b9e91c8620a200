package api_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/projections"
)

// TestDamagedReadModelIsNotRetriedSoon: a query that met a damaged page of
// the read-model file answered 503 with Retry-After: 5, inviting clients
// to try again every 5 s for something that lasts until the operator
// deletes the file. It answers 503 unavailable, saying the file is
// damaged, without Retry-After, and so do /healthz and /readyz.
func TestDamagedReadModelIsNotRetriedSoon(t *testing.T) {
	dir := t.TempDir()
	h := newReadsHarnessIn(t, dir, readsOptions{sqlOnly: true})
	h.caughtUp(h.declared(1))
	path := filepath.Join(dir, projections.FileName)
	root, pageSize := tableRootPage(t, path, "lst_patents")
	h.closeReads()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte(strings.Repeat("\xa5", int(pageSize))), (root-1)*pageSize)
	if cerr := f.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reads, err := projections.Start(context.Background(), h.store, path, projections.Options{Logger: quiet, SQLOnly: true})
	if err != nil {
		t.Fatalf("start on a file damaged in its middle: %v", err)
	}
	t.Cleanup(func() { reads.Close() })
	ts := httptest.NewServer(api.New(api.Config{Service: h.svc, Store: h.store, Logger: quiet, ReadModels: reads}).Handler())
	t.Cleanup(ts.Close)

	res, err := http.Get(ts.URL + "/v1/listings?q=" + url.QueryEscape("锂电池"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"unavailable"`) ||
		!strings.Contains(string(body), "read-model file is damaged") {
		t.Fatalf("listing query on the damaged page: %d %s", res.StatusCode, body)
	}
	if ra := res.Header.Get("Retry-After"); ra != "" {
		t.Fatalf("Retry-After: %s on a damaged read-model file, which only its operator mends", ra)
	}
	// /healthz, which answers anyone, says so too, without Retry-After and
	// without the file's path or SQLite's error, which the log holds.
	for _, probe := range []string{"/healthz", "/readyz"} {
		res, err = http.Get(ts.URL + probe)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "the read-model file is damaged") ||
			strings.Contains(string(body), dir) || strings.Contains(string(body), "malformed") || res.Header.Get("Retry-After") != "" {
			t.Errorf("%s on a damaged file: %d, Retry-After %q, %s", probe, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
}

// tableRootPage returns the root page of table in the SQLite file at path
// and the file's page size.
func tableRootPage(t *testing.T, path, table string) (root, pageSize int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = ?", table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	return root, pageSize
}
