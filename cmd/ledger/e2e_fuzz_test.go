package main

import (
	"net/http"
	"testing"
)

// FuzzWriteBodies sends arbitrary bodies to every write route of a running
// server: a client's mistake never answers 500, and a refusal is problem
// JSON with a code and writes nothing.
func FuzzWriteBodies(f *testing.F) {
	s := startServer(f, "--rate-limit", "1000000000")
	p := s.parties(f)
	n := s.registerPatent(f, p, "202010123456")
	declID := s.declare(f, p, n)
	licID := must(f, s.call(f, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID)), 201).str("license_id")
	n2 := s.registerPatent(f, p, "202010654321")
	plID := must(f, s.call(f, "POST", "/v1/pledges", p.bankKey, map[string]any{"pledgor_id": p.uni, "pledgee_id": p.bank,
		"patents": []string{n2}, "secured_amount_fen": 1_000, "registered_on": "2024-04-01", "debt_due_on": "2025-04-01"}), 201).str("pledge_id")
	routes := writeRoutes(s, p, n, declID, licID, plID)
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
