package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/esdb/esdbtest"
)

const testAdminKey = "e2e-admin-key"

// server is a real `ledger serve` started in-process on 127.0.0.1:0.
type server struct {
	base string
	data string
	stop func() int
}

// startServer runs `ledger serve` with a temp data folder and extra flags,
// and returns once it listens. Stopping it cancels its context, as SIGTERM
// does, and returns the exit code.
func startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	data := t.TempDir()
	return startServerWith(t, data, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--admin-key", testAdminKey}, extra...))
}

// startServerWith runs `ledger` with args, which serve the data folder
// data, and returns once it listens; see startServer.
func startServerWith(t testing.TB, data string, args []string) *server {
	t.Helper()
	return startServerReading(t, data, args, func(line string) bool { return !strings.HasPrefix(line, "ledger listening on ") })
}

// startServerReading runs `ledger` with args, which serve the data folder
// data, and hands each line it prints to read until read returns false
// (the rest is discarded); it fails t when the server printed no address
// by then. See startServer.
func startServerReading(t testing.TB, data string, args []string, read func(line string) bool) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	var once sync.Once
	code := 0
	stop := func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	s := &server{data: data, stop: stop}
	for lines := bufio.NewScanner(pr); lines.Scan(); {
		if base, ok := strings.CutPrefix(lines.Text(), "ledger listening on "); ok {
			s.base = strings.TrimSpace(base)
		}
		if !read(lines.Text()) {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if s.base == "" {
		t.Fatal("server did not start")
	}
	return s
}

// reply is an HTTP answer with its decoded JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	list   []any
	raw    []byte
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

func (r reply) num(key string) int64 { f, _ := r.body[key].(float64); return int64(f) }

// call sends one request; body is JSON-encoded unless it is a string or
// []byte, which are sent as they are.
func (s *server) call(t testing.TB, method, path, key string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if json.Unmarshal(raw, &r.body) != nil {
		_ = json.Unmarshal(raw, &r.list)
	}
	return r
}

// must fails the test unless the answer has the status.
func must(t testing.TB, r reply, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("want %d, got %d: %s", status, r.status, r.raw)
	}
	return r
}

func (s *server) head(t testing.TB) int64 {
	t.Helper()
	return must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil), 200).num("position")
}

// parties are the organisations of an end-to-end test with their keys.
type parties struct {
	uni, sme, sme2, bank, reg                string
	uniKey, smeKey, sme2Key, bankKey, regKey string
}

func (s *server) org(t testing.TB, name, kind, region, creditBody string, sme bool) (id, key string) {
	t.Helper()
	c, err := domain.CreditCheckChar(creditBody)
	if err != nil {
		t.Fatal(err)
	}
	r := must(t, s.call(t, "POST", "/v1/orgs", testAdminKey, map[string]any{"name": name, "kind": kind,
		"region_code": region, "credit_code": creditBody + string(c), "sme": sme}), 201)
	id = r.str("id")
	k := must(t, s.call(t, "POST", "/v1/orgs/"+id+"/keys", testAdminKey, nil), 201)
	return id, k.str("key")
}

func (s *server) parties(t testing.TB) parties {
	var p parties
	p.uni, p.uniKey = s.org(t, "华南理工大学", "university", "440106", "12440000455416125", false)
	p.sme, p.smeKey = s.org(t, "广州星能电池科技有限公司", "enterprise", "440113", "91440101MA5CXXXX1", true)
	p.sme2, p.sme2Key = s.org(t, "广州芯海微电子有限公司", "enterprise", "440105", "91440101MA5CYYYY2", true)
	p.bank, p.bankKey = s.org(t, "中国工商银行广州分行", "bank", "440104", "91440101190452347", false)
	p.reg, p.regKey = s.org(t, "广州市市场监督管理局", "regulator", "440100", "11440100MB2C9XXXX", false)
	return p
}

func patentNumber(t testing.TB, digits string) string {
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	return "ZL" + digits + "." + string(c)
}

func (s *server) registerPatent(t testing.TB, p parties, digits string) string {
	t.Helper()
	n := patentNumber(t, digits)
	must(t, s.call(t, "POST", "/v1/patents", p.uniKey, map[string]any{"number": n, "title": "一种固态锂电池电解质及其制备方法",
		"patentee_ids": []string{p.uni}, "ipc": []string{"H01M 10/0562"}, "filed_on": digits[:4] + "-03-15", "granted_on": "2022-01-10"}), 201)
	return n
}

func (s *server) declare(t testing.TB, p parties, n string) string {
	t.Helper()
	r := must(t, s.call(t, "POST", "/v1/patents/"+n+"/declarations", p.uniKey, map[string]any{
		"fee": map[string]any{"mode": "lump_sum", "lump_sum_fen": 5_000_000}, "term_months": 36, "declared_on": "2024-01-02"}), 201)
	return r.str("declaration_id")
}

func openLicenseBody(licensee, declID string) map[string]any {
	return map[string]any{"type": "open", "licensee_id": licensee, "effective_on": "2024-03-01", "fee_paid_fen": 5_000_000, "declaration_id": declID}
}

func TestE2EEveryUsersFlow(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)

	// University: register, declare, see its patent.
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	got := must(t, s.call(t, "GET", "/v1/patents/"+n, "", nil), 200)
	decl, _ := got.body["declaration"].(map[string]any)
	if got.str("status") != "active" || decl["declaration_id"] != declID {
		t.Fatalf("patent view %s", got.raw)
	}

	// SME: take the open licence (retry-safe), record it.
	lic := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), "Idempotency-Key", "po-1"), 201)
	licID := lic.str("license_id")
	if lic.header.Get("Ledger-Position") != fmt.Sprint(lic.num("position")) || licID == "" {
		t.Fatalf("licence answer %s, header %q", lic.raw, lic.header.Get("Ledger-Position"))
	}
	again := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), "Idempotency-Key", "po-1"), 201)
	if string(again.raw) != string(lic.raw) {
		t.Fatalf("a repeat answered %s, the first %s", again.raw, lic.raw)
	}
	must(t, s.call(t, "POST", "/v1/licenses/"+licID+"/recordal", p.smeKey, map[string]any{"record_no": "2024440000123", "recorded_on": "2024-04-15"}), 200)
	dup := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 409)
	if dup.str("code") != "rule_violation" || dup.str("rule") != "duplicate_license" {
		t.Fatalf("duplicate licence: %s", dup.raw)
	}

	// Bank: pledge another patent, consent, release.
	n2 := s.registerPatent(t, p, "202010654321")
	pl := must(t, s.call(t, "POST", "/v1/pledges", p.bankKey, map[string]any{"pledgor_id": p.uni, "pledgee_id": p.bank,
		"patents": []string{n2}, "secured_amount_fen": 300_000_000, "registered_on": "2024-04-01", "debt_due_on": "2027-04-01",
		"open_license_consent": false}), 201)
	plID := pl.str("pledge_id")
	must(t, s.call(t, "POST", "/v1/pledges/"+plID+"/consent", p.bankKey, map[string]any{"consented_on": "2024-05-01"}), 200)
	must(t, s.call(t, "POST", "/v1/pledges/"+plID+"/release", p.bankKey, map[string]any{"released_on": "2024-09-01", "reason": "repaid"}), 200)

	// Regulator: read history and the head, verify the chain.
	hist := must(t, s.call(t, "GET", "/v1/patents/"+n+"/history", p.regKey, nil), 200)
	if len(hist.list) != 4 {
		t.Fatalf("history of %s: %s", n, hist.raw)
	}
	last, _ := hist.list[3].(map[string]any)
	if last["type"] != domain.TypeLicenseRecorded || last["actor"] != p.sme {
		t.Fatalf("last history entry %v", last)
	}
	head := s.head(t)
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	code, out := runLedger(t, "verify", "--data", s.data)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("head position %d,", head)) {
		t.Fatalf("verify after shutdown: exit %d, %s", code, out)
	}
}

// TestE2EServeReadsItsEnvironment: `ledger serve` with no flags takes its
// address, data folder and admin key from LEDGER_ADDR, LEDGER_DATA and
// LEDGER_ADMIN_KEY (CONTRACT.md: each flag has a variable); flags given as
// well win.
func TestE2EServeReadsItsEnvironment(t *testing.T) {
	data := t.TempDir()
	t.Setenv("LEDGER_ADDR", "127.0.0.1:0")
	t.Setenv("LEDGER_DATA", data)
	t.Setenv("LEDGER_ADMIN_KEY", "env-admin-key")
	s := startServerWith(t, data, []string{"serve"})
	must(t, s.call(t, "GET", "/v1/ledger/head", "env-admin-key", nil), 200)
	must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil), 401)
	if _, err := os.Stat(filepath.Join(data, "events.db")); err != nil || !strings.HasPrefix(s.base, "http://127.0.0.1:") {
		t.Fatalf("serving %s, the store in LEDGER_DATA: %v", s.base, err)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	flags := startServer(t)
	must(t, flags.call(t, "GET", "/v1/ledger/head", testAdminKey, nil), 200)
	must(t, flags.call(t, "GET", "/v1/ledger/head", "env-admin-key", nil), 401)
	if _, err := os.Stat(filepath.Join(flags.data, "events.db")); err != nil {
		t.Fatalf("the store is not in the --data folder: %v", err)
	}
}

func TestE2EAuthentication(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	declPath := "/v1/patents/" + n + "/declarations"
	declBody := map[string]any{"fee": map[string]any{"mode": "free"}, "term_months": 12, "declared_on": "2024-01-02"}
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code                    string
	}{
		{"write without key", "POST", declPath, "", declBody, 401, "unauthenticated"},
		{"unknown key", "POST", declPath, "lk_" + p.uni + "_0000000000000000_nope", declBody, 401, "unauthenticated"},
		{"malformed key", "GET", "/v1/patents/" + n, "not-a-key", nil, 401, "unauthenticated"},
		{"key of an unknown org", "GET", "/v1/ledger/head", "lk_no-such-org_abc_def", nil, 401, "unauthenticated"},
		{"history without key", "GET", "/v1/patents/" + n + "/history", "", nil, 401, "unauthenticated"},
		{"org without key", "GET", "/v1/orgs/" + p.uni, "", nil, 401, "unauthenticated"},
		{"head without key", "GET", "/v1/ledger/head", "", nil, 401, "unauthenticated"},
		{"org registration by an org", "POST", "/v1/orgs", p.uniKey, map[string]any{"name": "x"}, 403, "forbidden"},
		{"key issue by an org", "POST", "/v1/orgs/" + p.sme + "/keys", p.smeKey, nil, 403, "forbidden"},
		{"regulator writes", "POST", declPath, p.regKey, declBody, 403, "forbidden"},
		{"SME declares another's patent", "POST", declPath, p.smeKey, declBody, 403, "forbidden"},
		{"licence taken for someone else", "POST", "/v1/patents/" + n + "/licenses", p.sme2Key, openLicenseBody(p.sme, declID), 403, "forbidden"},
		{"bank withdraws", "POST", declPath + "/" + declID + "/withdrawal", p.bankKey, map[string]any{"effective_on": "2024-06-01", "reason": "r"}, 403, "forbidden"},
		{"SME registers a pledge", "POST", "/v1/pledges", p.smeKey, map[string]any{"pledgor_id": p.uni, "pledgee_id": p.bank, "patents": []string{n}, "secured_amount_fen": 1, "registered_on": "2024-04-01", "debt_due_on": "2025-04-01", "open_license_consent": false}, 403, "forbidden"},
		{"SME changes status", "POST", "/v1/patents/" + n + "/status", p.smeKey, map[string]any{"status": "lapsed"}, 403, "forbidden"},
		{"SME transfers", "POST", "/v1/patents/" + n + "/transfers", p.smeKey, map[string]any{"to_ids": []string{p.sme}, "effective_on": "2024-06-01", "price_fen": 0}, 403, "forbidden"},
	}
	before := s.head(t)
	for _, c := range cases {
		r := s.call(t, c.method, c.path, c.key, c.body)
		if r.status != c.status || r.str("code") != c.code || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: want %d %s, got %d %s", c.name, c.status, c.code, r.status, r.raw)
		}
	}
	if s.head(t) != before {
		t.Fatal("a refused request moved the ledger head")
	}
	// Open reads need no key.
	must(t, s.call(t, "GET", "/v1/patents/"+n, "", nil), 200)
	must(t, s.call(t, "GET", "/healthz", "", nil), 200)
	// Any valid key reads organisations and history; the regulator reads everything.
	must(t, s.call(t, "GET", "/v1/orgs/"+p.uni, p.smeKey, nil), 200)
	must(t, s.call(t, "GET", "/v1/patents/"+n+"/history", p.regKey, nil), 200)
}

// writeRoutes are every write route of CONTRACT.md with a key allowed to use it.
func writeRoutes(s *server, p parties, n, declID, licID, plID string) [][3]string {
	return [][3]string{
		{"POST", "/v1/orgs", testAdminKey},
		{"POST", "/v1/patents", p.uniKey},
		{"POST", "/v1/patents/" + n + "/status", p.uniKey},
		{"POST", "/v1/patents/" + n + "/declarations", p.uniKey},
		{"POST", "/v1/patents/" + n + "/declarations/" + declID + "/withdrawal", p.uniKey},
		{"POST", "/v1/patents/" + n + "/licenses", p.smeKey},
		{"POST", "/v1/licenses/" + licID + "/recordal", p.smeKey},
		{"POST", "/v1/licenses/" + licID + "/royalties", p.smeKey},
		{"POST", "/v1/patents/" + n + "/transfers", p.uniKey},
		{"POST", "/v1/pledges", p.bankKey},
		{"POST", "/v1/pledges/" + plID + "/consent", p.bankKey},
		{"POST", "/v1/pledges/" + plID + "/release", p.bankKey},
		{"POST", "/v1/patents/" + n + "/reviews", p.uniKey},
		{"PUT", "/v1/patents/" + n + "/reviews/2024", p.uniKey},
	}
}

// writeWorld writes on s a declared patent with an open licence and a
// review, and a pledged patent; it returns the parties, the first patent,
// its declaration and every write route with a key allowed to use it.
func writeWorld(t testing.TB, s *server) (p parties, n, declID string, routes [][3]string) {
	t.Helper()
	p = s.parties(t)
	n = s.registerPatent(t, p, "202010123456")
	declID = s.declare(t, p, n)
	licID := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201).str("license_id")
	n2 := s.registerPatent(t, p, "202010654321")
	plID := must(t, s.call(t, "POST", "/v1/pledges", p.bankKey, map[string]any{"pledgor_id": p.uni, "pledgee_id": p.bank,
		"patents": []string{n2}, "secured_amount_fen": 1_000, "registered_on": "2024-04-01", "debt_due_on": "2025-04-01",
		"open_license_consent": false}), 201).str("pledge_id")
	must(t, s.call(t, "POST", "/v1/patents/"+n+"/reviews", p.uniKey, map[string]any{"campaign": "2024", "reviewed_on": "2024-06-30", "grade": "high", "disposition": "open_license"}), 201)
	return p, n, declID, writeRoutes(s, p, n, declID, licID, plID)
}

func TestE2EMalformedBodiesChangeNothing(t *testing.T) {
	s := startServer(t)
	p, n, declID, routes := writeWorld(t, s)

	bodies := []string{
		`{`, `[]`, `"text"`, `123`, `null`, `{"unknown_field": 1}`, `{"effective_on": "2024-02-30"}`,
		`{"type": "perpetual"}`, `{"fee": {"mode": "barter"}}`, `{"number": "ZL202010123456.7"}`,
		`{"declared_on": 20240101}`, `{"patents": "ZL202010123456.2"}`, `{"amount_fen": "12"}`, `{"grade": 5}`,
		`{"kind": "university", "region_code": "999999"}`, "\x00\xff", `{"reason": "` + strings.Repeat("x", 6000) + `"}`,
	}
	before := s.head(t)
	for _, route := range routes {
		for _, body := range bodies {
			r := s.call(t, route[0], route[1], route[2], body)
			if r.status < 400 || r.status >= 500 || r.header.Get("Content-Type") != "application/problem+json" || r.str("code") == "" {
				t.Errorf("%s %s with %.40q: %d %s", route[0], route[1], body, r.status, r.raw)
			}
		}
	}
	if after := s.head(t); after != before {
		t.Fatalf("malformed bodies moved the head from %d to %d", before, after)
	}
	bad := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, `{"type":"open","licensee_id":"`+p.sme+`","effective_on":"2024-02-30","fee_paid_fen":-5,"declaration_id":"`+declID+`","color":"red"}`), 400)
	fields := map[string]bool{}
	for _, e := range bad.body["errors"].([]any) {
		fields[e.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"effective_on", "color"} {
		if !fields[f] {
			t.Errorf("field %s not named: %s", f, bad.raw)
		}
	}
	validDeclaration := map[string]any{"fee": map[string]any{"mode": "free"}, "term_months": 12, "declared_on": "2024-06-01"}
	if r := s.call(t, "POST", "/v1/patents/ZL202010123456.7/declarations", p.uniKey, validDeclaration); r.status != 400 || !strings.Contains(string(r.raw), `"field":"number"`) {
		t.Errorf("bad check digit in the path: %d %s", r.status, r.raw)
	}
}

func TestE2EConcurrentIdenticalLicenceRequests(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	var wg sync.WaitGroup
	answers := make([]reply, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), "Idempotency-Key", "cart-99")
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != 201 || string(a.raw) != string(answers[0].raw) {
			t.Fatalf("answer %d: %d %s; answer 0: %s", i, a.status, a.raw, answers[0].raw)
		}
	}
	view := must(t, s.call(t, "GET", "/v1/patents/"+n, "", nil), 200)
	if lics := view.body["licenses"].([]any); len(lics) != 1 {
		t.Fatalf("want one licence, got %d", len(lics))
	}
	other := openLicenseBody(p.sme, declID)
	other["effective_on"] = "2024-03-02"
	r := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, other, "Idempotency-Key", "cart-99"), 422)
	if r.str("code") != "idempotency_mismatch" {
		t.Fatalf("same key, other body: %s", r.raw)
	}
}

func TestE2EKeyReusedForAnotherPatentIsRefused(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	first := s.registerPatent(t, p, "202010123456")
	must(t, s.call(t, "POST", "/v1/patents/"+first+"/licenses", p.smeKey, openLicenseBody(p.sme, s.declare(t, p, first)), "Idempotency-Key", "po-7"), 201)
	second := s.registerPatent(t, p, "202010123457")
	body := openLicenseBody(p.sme, s.declare(t, p, second))
	head := s.head(t)
	r := must(t, s.call(t, "POST", "/v1/patents/"+second+"/licenses", p.smeKey, body, "Idempotency-Key", "po-7"), 422)
	if r.str("code") != "idempotency_mismatch" {
		t.Fatalf("same key, another patent: %s", r.raw)
	}
	if after := s.head(t); after != head {
		t.Fatalf("the refused request moved the head from %d to %d", head, after)
	}
	if lics := must(t, s.call(t, "GET", "/v1/patents/"+second, "", nil), 200).body["licenses"].([]any); len(lics) != 0 {
		t.Fatalf("the refused request licensed %s: %v", second, lics)
	}
}

func TestE2EKeyIssueIsRepeatable(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	first := must(t, s.call(t, "POST", "/v1/orgs/"+p.sme+"/keys", testAdminKey, nil, "Idempotency-Key", "k-1"), 201)
	again := must(t, s.call(t, "POST", "/v1/orgs/"+p.sme+"/keys", testAdminKey, nil, "Idempotency-Key", "k-1"), 201)
	if first.str("key") != again.str("key") || string(first.raw) != string(again.raw) {
		t.Fatalf("repeat answered another key: %s vs %s", first.raw, again.raw)
	}
	must(t, s.call(t, "GET", "/v1/orgs/"+p.uni, first.str("key"), nil), 200)
}

func TestE2EProtection(t *testing.T) {
	s := startServer(t, "--rate-limit", "5", "--body-limit", "2K")
	big := `{"name":"` + strings.Repeat("大", 2000) + `"}`
	r := s.call(t, "POST", "/v1/orgs", testAdminKey, big)
	if r.status != 413 || r.str("code") != "too_large" || !strings.Contains(r.str("detail"), "this server's limit of 2K") {
		t.Fatalf("oversized body: %d %s", r.status, r.raw)
	}
	limited := 0
	for range 40 {
		r := s.call(t, "GET", "/healthz", "", nil, "X-Forwarded-For", fmt.Sprintf("10.0.0.%d", limited))
		if r.status == 429 {
			if r.str("code") != "rate_limited" || r.header.Get("Retry-After") == "" {
				t.Fatalf("429 answer: %s", r.raw)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("40 quick requests from one address were never limited (X-Forwarded-For must not be trusted)")
	}
	if r := s.call(t, "DELETE", "/v1/orgs", testAdminKey, nil); r.status != 405 && r.status != 429 {
		t.Fatalf("wrong method: %d %s", r.status, r.raw)
	}
}

// TestE2EGuessingFromAnIPv6BlockIsSlowedDown: one IPv6 client usually
// holds a whole /64; taking a new address of it for each guess does not
// escape the failed-key limit, which counts the /64 (here behind a named
// proxy that reports each address).
func TestE2EGuessingFromAnIPv6BlockIsSlowedDown(t *testing.T) {
	s := startServer(t, "--trusted-proxies", "127.0.0.1")
	statuses := map[int]int{}
	for i := range 40 {
		r := s.call(t, "GET", "/v1/ledger/head", fmt.Sprintf("lk_org_key_guess%d", i), nil, "X-Forwarded-For", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		statuses[r.status]++
	}
	if statuses[429] == 0 {
		t.Fatalf("40 wrong keys from 40 addresses of one /64 answered %v, never 429", statuses)
	}
	must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil, "X-Forwarded-For", "2001:db8:1:2::beef"), 429)
	must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil, "X-Forwarded-For", "2001:db8:1:3::1"), 200) // another /64
}

// TestE2ETrustedProxiesStopSpoofedAddresses: behind a proxy named by
// --trusted-proxies, a client on a private network that puts addresses of
// its own before the one the proxy saw in X-Forwarded-For is still known,
// and rate-limited, by the address the proxy saw. With --trust-proxy
// alone, which trusts every private hop, the same client names a new
// address each time and is never limited: what the flag is for.
func TestE2ETrustedProxiesStopSpoofedAddresses(t *testing.T) {
	limitedOf := func(s *server) (limited int) {
		for i := range 40 {
			r := s.call(t, "GET", "/healthz", "", nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d, 10.0.0.7", i))
			if r.status == 429 {
				limited++
			}
		}
		return limited
	}
	if n := limitedOf(startServer(t, "--rate-limit", "2", "--trusted-proxies", "127.0.0.1")); n == 0 {
		t.Error("behind a named proxy, 40 quick requests of one client naming another address each time were never limited")
	}
	if n := limitedOf(startServer(t, "--rate-limit", "2", "--trust-proxy")); n != 0 {
		t.Errorf("with --trust-proxy alone the spoofed addresses were limited %d times: the test no longer shows what --trusted-proxies prevents", n)
	}
}

func TestE2EReadYourWrites(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	head := s.head(t)
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/patents/%s?min_position=%d", n, head), "", nil), 200)
	start := time.Now()
	r := must(t, s.call(t, "GET", fmt.Sprintf("/v1/patents/%s?min_position=%d", n, head+1000), "", nil), 503)
	if r.header.Get("Retry-After") == "" || r.str("code") != "unavailable" || time.Since(start) < 4*time.Second {
		t.Fatalf("a read ahead of the ledger: %s after %s", r.raw, time.Since(start))
	}
	must(t, s.call(t, "GET", "/v1/patents/"+n+"?min_position=abc", "", nil), 400)
}

func TestE2EServeRefusesUnknownStore(t *testing.T) {
	code, out := runLedger(t, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "d"), "--store", "mongo")
	if code != 2 || !strings.Contains(out, `--store "mongo" (env LEDGER_STORE): want sqlite, postgres or esdb`) {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// TestE2EGracefulShutdown stops the server while a read is waiting for a
// position the ledger never reaches: the read still gets its whole answer
// (503 with a problem body once its wait ends), and serve exits 0.
func TestE2EGracefulShutdown(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	head := s.head(t)
	answered := make(chan reply, 1)
	go func() {
		answered <- s.call(t, "GET", fmt.Sprintf("/v1/patents/%s?min_position=%d", n, head+1), "", nil)
	}()
	time.Sleep(300 * time.Millisecond) // let the read start waiting
	code := make(chan int, 1)
	go func() { code <- s.stop() }()
	select {
	case a := <-answered:
		if a.status != 503 || a.str("code") != "unavailable" {
			t.Fatalf("in-flight request answered %d %s", a.status, a.raw)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("in-flight request never answered")
	}
	if c := <-code; c != 0 {
		t.Fatalf("serve exited %d", c)
	}
}

// TestE2EServeStopsOnSIGINTAndSIGTERM: the binary, run as a process,
// "shuts down cleanly on SIGINT/SIGTERM" (CONTRACT.md): each signal ends it
// with exit 0, its data folder free for the next serve and every write
// kept, as verify finds.
func TestE2EServeStopsOnSIGINTAndSIGTERM(t *testing.T) {
	bin, data := buildLedger(t), t.TempDir()
	written := 0
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		p := startProcess(t, bin, sig.String(), data)
		p.org(t, fmt.Sprintf("广州第%d科技有限公司", written), "enterprise", "440106", fmt.Sprintf("91440101MA5C%05d", written), true)
		written += 3 // the organisation, its credit code's claim and its key
		if code, err := p.signal(sig); err != nil || code != 0 {
			t.Fatalf("%s: exit %d (%v); stderr:\n%s", sig, code, err, p.stderrTail())
		}
	}
	if code, out := runLedger(t, "verify", "--data", data); code != 0 || !strings.Contains(out, fmt.Sprintf("head position %d,", written)) {
		t.Fatalf("verify after the signals: exit %d, %s", code, out)
	}
}

// TestE2EServeOnEventStoreDBWireServer runs `ledger serve --store esdb`
// against the in-process wire-compatibility server built on
// EventStore-Client-Go's protos (not EventStoreDB) and drives a licence
// through the API, reading it back from the listings.
func TestE2EServeOnEventStoreDBWireServer(t *testing.T) {
	wire, err := esdbtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wire.Close)
	t.Log("in-process wire-compatibility server built on EventStore-Client-Go's protos; not EventStoreDB")
	s := startServer(t, "--store", "esdb", "--store-url", wire.URL())
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	lic := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201)
	list := must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", lic.num("position")), "", nil), 200)
	items, _ := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["licenses"] != float64(1) {
		t.Fatalf("listings on the esdb store: %s", list.raw)
	}
}

// TestE2EGuessingKeysIsSlowedDown: an address that keeps presenting unknown
// keys is answered 429 after a burst, the right key too while it lasts, so
// keys cannot be guessed quickly.
func TestE2EGuessingKeysIsSlowedDown(t *testing.T) {
	s := startServer(t)
	statuses := map[int]int{}
	for i := range 40 {
		r := s.call(t, "GET", "/v1/ledger/head", fmt.Sprintf("lk_org_key_guess%d", i), nil)
		statuses[r.status]++
	}
	if statuses[401] == 0 || statuses[429] == 0 || statuses[401]+statuses[429] != 40 {
		t.Fatalf("40 wrong keys answered %v", statuses)
	}
	// While the address has no wrong key left, no key is checked: the
	// right one, found by guessing, would be no faster than the limit.
	must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil), 429)
	time.Sleep(time.Second) // Retry-After: 1
	must(t, s.call(t, "GET", "/v1/ledger/head", testAdminKey, nil), 200)
}

// freshPostgresSchema returns the URL and the name of a schema of the
// test's own, starting with prefix, in the PostgreSQL named by
// LEDGER_TEST_POSTGRES_URL, dropped when the test ends; without the
// variable it skips the test, saying that what needs it.
func freshPostgresSchema(t *testing.T, prefix, what string) (url, schema string) {
	t.Helper()
	base := os.Getenv("LEDGER_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("SKIPPED: set LEDGER_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run " + what)
	}
	schema = fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	t.Cleanup(func() { dropSchema(t, base, schema) })
	return base + sep + "search_path=" + schema, schema
}

// TestE2EServeOnPostgreSQL runs `ledger serve --store postgres` on a fresh
// schema of the PostgreSQL named by LEDGER_TEST_POSTGRES_URL and drives a
// licence through the API, reading it back from the listings.
func TestE2EServeOnPostgreSQL(t *testing.T) {
	url, _ := freshPostgresSchema(t, "e2e", "serve on PostgreSQL")
	s := startServer(t, "--store", "postgres", "--store-url", url)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	lic := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201)
	list := must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", lic.num("position")), "", nil), 200)
	items, _ := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["licenses"] != float64(1) {
		t.Fatalf("listings on the postgres store: %s", list.raw)
	}
	head := s.head(t)
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	code, out := runLedger(t, "verify", "--store", "postgres", "--store-url", url)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("head position %d,", head)) {
		t.Fatalf("verify on postgres: exit %d, %s", code, out)
	}
}

// dropSchema removes a test schema.
func dropSchema(t testing.TB, url, schema string) {
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("drop schema %s: %v", schema, err)
	}
}

// TestE2ESignedInViews: a university signed in on the web sees its
// patents, an SME the licences it has taken.
func TestE2ESignedInViews(t *testing.T) {
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	lic := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201)
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", lic.num("position")), "", nil), 200)
	page := func(key string) string { return getPage(t, signedIn(t, s, key), s.base+"/me") }
	uni := page(p.uniKey)
	if !strings.Contains(uni, `id="my-patents"`) || !strings.Contains(uni, n) || !strings.Contains(uni, "开放许可中") {
		t.Fatalf("the university's page does not list its declared patent:\n%s", uni)
	}
	sme := page(p.smeKey)
	if !strings.Contains(sme, `id="my-licenses"`) || !strings.Contains(sme, n) || !strings.Contains(sme, "2024-03-01") {
		t.Fatalf("the SME's page does not list its licence:\n%s", sme)
	}
	// The tables scroll in named keyboard regions, and the patents'
	// titles carry their language (WCAG 2.1.1, 3.1.2).
	for who, html := range map[string]string{"university": uni, "SME": sme} {
		if !strings.Contains(html, `<div class="scroll" tabindex="0" role="region" aria-label="`) ||
			!strings.Contains(html, `<td lang="zh-CN">`) {
			t.Errorf("the %s's page has a table not in a named region, or a title without its language:\n%s", who, html)
		}
	}
}

// TestE2EMemoryIndexesFlag serves with --memory-indexes=false: the reads
// answer from SQL and the indexes never load; by default they load.
func TestE2EMemoryIndexesFlag(t *testing.T) {
	loaded := func(s *server) string {
		r := s.call(t, "GET", "/metrics", "", nil)
		for _, line := range strings.Split(string(r.raw), "\n") {
			if strings.HasPrefix(line, `ledger_memory_index_loaded{index="tallies"} `) {
				return strings.TrimPrefix(line, `ledger_memory_index_loaded{index="tallies"} `)
			}
		}
		t.Fatalf("no ledger_memory_index_loaded in\n%s", r.raw)
		return ""
	}
	off := startServer(t, "--memory-indexes=false")
	p := off.parties(t)
	n := off.registerPatent(t, p, "202010123456")
	off.declare(t, p, n)
	head := strconv.FormatInt(off.head(t), 10)
	if r := must(t, off.call(t, "GET", "/v1/listings?min_position="+head, "", nil), 200); r.body["total"] != 1.0 {
		t.Fatalf("listings without memory indexes: %s", r.raw)
	}
	time.Sleep(300 * time.Millisecond) // the indexes of a ledger this small load within milliseconds
	if got := loaded(off); got != "0" {
		t.Fatalf("with --memory-indexes=false the tally index is loaded (%s)", got)
	}
	on := startServer(t)
	deadline := time.Now().Add(5 * time.Second)
	for loaded(on) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("by default the tally index never loaded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
