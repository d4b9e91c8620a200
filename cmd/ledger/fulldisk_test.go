package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes in a new temporary folder and
// returns its path; the test is skipped, saying why, where mounting is not
// allowed (not root). It is unmounted when the test ends, after the
// cleanups registered later (a server on it) have run.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("SKIPPED — cannot mount a small tmpfs to fill (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file that leaves about room bytes free on the disk of
// dir, and returns the function that deletes it.
func fillDisk(t *testing.T, dir string, room int64) (free func()) {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, make([]byte, max(0, int64(fs.Bavail)*fs.Bsize-room)), 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestE2EServeOnAFullDisk: on a full disk the SQLite store answered every
// write 500 "internal" without Retry-After, an import through the server
// said nothing of the rows it had written, and the read models stopped for
// good ("until rebuilt or restarted"), so that once space was freed the
// store took writes again but the listings stayed behind until a restart.
// Now writes answer 503 with Retry-After, saying the disk is full, an
// import says how far it got, and once space is freed everything goes on
// without a restart, the listings counting every declaration exactly.
func TestE2EServeOnAFullDisk(t *testing.T) {
	disk := smallDisk(t, 8<<20)
	data := filepath.Join(disk, "data")
	s := startServerWith(t, data, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--admin-key", testAdminKey,
		"--rate-limit", "1000000"})
	p := s.parties(t)
	free := fillDisk(t, disk, 256<<10)
	abstract := strings.Repeat("一种固态锂电池电解质，", 400)
	declared, refused := 0, reply{}
	for i := 0; i < 1000 && refused.status == 0; i++ {
		n := patentNumber(t, fmt.Sprintf("202110%06d", i))
		r := s.call(t, "POST", "/v1/patents", p.uniKey, map[string]any{"number": n, "title": "一种固态锂电池电解质",
			"abstract": abstract, "patentee_ids": []string{p.uni}, "ipc": []string{"H01M 10/0562"},
			"filed_on": "2021-03-15", "granted_on": "2022-01-10"})
		if r.status == 201 {
			r = s.call(t, "POST", "/v1/patents/"+n+"/declarations", p.uniKey, map[string]any{
				"fee": map[string]any{"mode": "lump_sum", "lump_sum_fen": 5_000_000}, "term_months": 36, "declared_on": "2024-01-02"})
		}
		switch r.status {
		case 201:
			declared++
		default:
			refused = r
		}
	}
	if refused.status != 503 || refused.str("code") != "unavailable" || refused.header.Get("Retry-After") == "" ||
		!strings.Contains(refused.str("detail"), "disk that holds the event store is full") {
		t.Fatalf("a write on a full disk: %d %s (Retry-After %q), want 503 unavailable saying the disk is full",
			refused.status, refused.raw, refused.header.Get("Retry-After"))
	}
	wantWrites(t, s, true)
	var csv strings.Builder
	csv.WriteString("number,title,patentees,ipc,filed_on,granted_on,abstract\n")
	for i := range 50 {
		fmt.Fprintf(&csv, "%s,一种钠离子电池,%s,H01M 10/054,2021-03-15,2022-01-10,%s\n", patentNumber(t, fmt.Sprintf("202120%06d", i)), p.uni, abstract)
	}
	cut := s.call(t, "POST", "/v1/imports/patents", p.uniKey, csv.String(), "Content-Type", "text/csv")
	if cut.status != 503 || !strings.Contains(cut.str("detail"), "the import stopped after") {
		t.Fatalf("an import on a full disk: %d %s, want 503 saying how far it got", cut.status, cut.raw)
	}

	free()
	n := s.registerPatent(t, p, "202110900001")
	s.declare(t, p, n)
	declared++
	wantWrites(t, s, false)
	imported := must(t, s.call(t, "POST", "/v1/imports/patents", p.uniKey, csv.String(), "Content-Type", "text/csv"), 200)
	if imported.num("imported")+imported.num("unchanged") != 50 || imported.num("rejected_rows") != 0 {
		t.Fatalf("the import again once there is room: %s", imported.raw)
	}
	head := s.head(t)
	listed := must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d&limit=1", head), "", nil), 200)
	t.Logf("%d declarations acknowledged; the cut import: %s", declared, cut.str("detail"))
	if got := listed.num("total"); got != int64(declared) {
		t.Fatalf("listed %d, want the %d declarations acknowledged", got, declared)
	}
	deadline := time.Now().Add(10 * time.Second)
	for health := s.call(t, "GET", "/healthz", "", nil); health.status != 200; health = s.call(t, "GET", "/healthz", "", nil) {
		if time.Now().After(deadline) {
			t.Fatalf("health once there is room: %d %s", health.status, health.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantWrites checks that the server's /healthz and /metrics say whether
// writes to the event store fail: the writes part of a 200 answer, or the
// detail of a 503 (the read models, on the same full disk, wait for room).
func wantWrites(t *testing.T, s *server, failing bool) {
	t.Helper()
	health := s.call(t, "GET", "/healthz", "", nil)
	said := health.status == http.StatusOK && strings.Contains(string(health.raw), `"writes":{"failing":true,"since":`) &&
		strings.Contains(string(health.raw), "disk that holds the event store is full") ||
		health.status == http.StatusServiceUnavailable && strings.Contains(health.str("detail"), "writes to the event store fail since")
	if failing != said {
		t.Fatalf("/healthz: %d %s; want it to say writes fail: %v", health.status, health.raw, failing)
	}
	metrics := s.call(t, "GET", "/metrics", "", nil)
	if want := fmt.Sprintf("\nledger_store_writes_failing %d\n", map[bool]int{true: 1}[failing]); !strings.Contains(string(metrics.raw), want) {
		t.Fatalf("/metrics lacks %q:\n%s", strings.TrimSpace(want), metrics.raw)
	}
}
