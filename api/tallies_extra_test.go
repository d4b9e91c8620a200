package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

// TestExtraTallies reads the extra tallies over HTTP: the figures of one
// declared, openly licensed patent; fee-reductions defaulting to year
// buckets; and the refusals naming their parameter.
func TestExtraTallies(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := strconv.FormatInt(h.declared(1), 10)
	const rg = "from=2024-01-01&to=2024-12-31&min_position="
	var fee struct {
		Period  string           `json:"period"`
		Buckets []map[string]any `json:"buckets"`
		Total   map[string]any   `json:"total"`
	}
	h.getJSON("/v1/tallies/fee-reductions?"+rg+pos, &fee)
	// Declared 2024-01-02 for 36 months: 365 days of the leap year 2024.
	if fee.Period != "year" || len(fee.Buckets) != 1 || fee.Total["declared_patents"] != 1.0 ||
		fee.Total["declared_patent_days"] != 365.0 || fee.Total["reduction_bp"] != 1496.0 {
		t.Errorf("fee-reductions: %+v", fee)
	}
	var ttf struct {
		Buckets []map[string]any `json:"buckets"`
		Total   map[string]any   `json:"total"`
	}
	h.getJSON("/v1/tallies/time-to-first-licence?period=quarter&"+rg+pos, &ttf)
	// Declared 2024-01-02, first open licence 2024-03-01: 59 days, in Q1.
	if len(ttf.Buckets) != 4 || ttf.Buckets[0]["first_licences"] != 1.0 || ttf.Buckets[0]["median_days"] != 59.0 ||
		ttf.Total["mean_days"] != 59.0 {
		t.Errorf("time-to-first-licence: %+v", ttf)
	}
	var rec struct {
		Buckets []map[string]any `json:"buckets"`
		Total   map[string]any   `json:"total"`
	}
	h.getJSON("/v1/tallies/recordals?"+rg+pos, &rec)
	if len(rec.Buckets) != 12 || rec.Buckets[2]["period"] != "2024-03" || rec.Buckets[2]["not_recorded"] != 1.0 ||
		rec.Total["not_recorded_overdue"] != 1.0 || rec.Total["concluded"] != 1.0 {
		t.Errorf("recordals: %+v", rec)
	}
	var multi struct {
		Total map[string]any `json:"total"`
	}
	h.getJSON("/v1/tallies/multi-licensee?"+rg+pos, &multi)
	if multi.Total["licensed_at_end"] != 1.0 || multi.Total["multi_licensee_at_end"] != 0.0 {
		t.Errorf("multi-licensee: %+v", multi)
	}
	for _, c := range []struct{ path, field string }{
		{"/v1/tallies/fee-reductions?period=month&" + rg + pos, "period"},
		{"/v1/tallies/fee-reductions?period=year&type=open&" + rg + pos, "type"},
		{"/v1/tallies/multi-licensee?licensee_id=x&" + rg + pos, "licensee_id"},
		{"/v1/tallies/time-to-first-licence?sme=true&" + rg + pos, "sme"},
		{"/v1/tallies/recordals?from=2024-01-01", "to"},
	} {
		resp, body := h.get(c.path)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
			p.Code != "invalid_argument" || len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, resp.StatusCode, body, c.field)
		}
	}
}
