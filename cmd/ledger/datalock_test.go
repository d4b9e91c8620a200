package main

import (
	"fmt"
	"strings"
	"testing"
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
