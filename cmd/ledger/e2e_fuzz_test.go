package main

import (
	"net/http"
	"os"
	"testing"
)

// FuzzWriteBodies sends arbitrary bodies to every write route of a running
// server: a client's mistake never answers 500, and a refusal is problem
// JSON with a code and writes nothing.
func FuzzWriteBodies(f *testing.F) {
	s := startServer(f, "--rate-limit", "1000000000")
	p, _, declID, routes := writeWorld(f, s)
	for i, body := range []string{
		`{`, `[]`, `null`, `{"unknown_field": 1}`, `{"effective_on": "2024-02-30"}`, `{"type": "perpetual"}`,
		`{"fee": {"mode": "barter"}}`, `{"declared_on": 20240101}`, `{"amount_fen": "12"}`, "\x00\xff",
		`{"type":"open","licensee_id":"` + p.sme2 + `","effective_on":"2024-03-01","fee_paid_fen":5000000,"declaration_id":"` + declID + `"}`,
		`{"fee":{"mode":"royalty","royalty_bp":300,"royalty_base":"net_sales"},"term_months":36,"declared_on":"2024-05-01"}`,
		`{"paid_on":"2024-06-01","amount_fen":12345,"period":"2024Q2"}`, `{"campaign":"2025","reviewed_on":"2024-06-30","grade":"high","disposition":"open_license"}`,
	} {
		f.Add(uint8(i), body)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		before := s.head(t)
		answer := s.call(t, r[0], r[1], r[2], body)
		switch {
		case answer.status >= 500:
			t.Fatalf("%s %s with %q: %d %s", r[0], r[1], body, answer.status, answer.raw)
		case answer.status >= 400:
			if answer.header.Get("Content-Type") != "application/problem+json" || answer.str("code") == "" {
				t.Fatalf("%s %s with %q: %d %s is not problem JSON", r[0], r[1], body, answer.status, answer.raw)
			}
			if after := s.head(t); after != before {
				t.Fatalf("%s %s with %q answered %d but moved the head from %d to %d", r[0], r[1], body, answer.status, before, after)
			}
		case answer.status != http.StatusCreated && answer.status != http.StatusOK:
			t.Fatalf("%s %s with %q: %d %s", r[0], r[1], body, answer.status, answer.raw)
		}
	})
}

// FuzzImportBodies sends arbitrary files to POST /v1/imports/patents: a
// client's mistake never answers 500, a refused file is problem JSON and
// writes nothing, and an accepted one answers a report.
func FuzzImportBodies(f *testing.F) {
	s := startServer(f, "--rate-limit", "1000000000")
	p := s.parties(f)
	sample, err := os.ReadFile(samplePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample, false)
	f.Add([]byte("number,title,patentees,ipc,filed_on,granted_on\nZL202010123456.2,一种电池,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n"), true)
	f.Add([]byte("专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,lump_sum_fen,许可期限(月),declared_on\n"+
		"ZL202010654321.9,一种芯片,"+p.uni+",H01L 21/00,2020-03-15,2022-01-10,一次性支付,abc,999,2024-13-01\n"), false)
	f.Add([]byte("PK\x03\x04"), false)
	f.Fuzz(func(t *testing.T, file []byte, dryRun bool) {
		path := "/v1/imports/patents"
		if dryRun {
			path += "?dry_run=true"
		}
		before := s.head(t)
		answer := s.call(t, "POST", path, p.uniKey, string(file), "Content-Type", "text/csv")
		switch {
		case answer.status == http.StatusOK:
			if answer.body["rows"] == nil || (dryRun && s.head(t) != before) {
				t.Fatalf("import of %q: %s (head %d → %d)", file, answer.raw, before, s.head(t))
			}
		case answer.status >= 400 && answer.status < 500:
			if answer.header.Get("Content-Type") != "application/problem+json" || answer.str("code") == "" || s.head(t) != before {
				t.Fatalf("import of %q: %d %s (head %d → %d)", file, answer.status, answer.raw, before, s.head(t))
			}
		default:
			t.Fatalf("import of %q: %d %s", file, answer.status, answer.raw)
		}
	})
}
