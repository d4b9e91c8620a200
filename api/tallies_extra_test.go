package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
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

// pay records a later payment under a licence and returns its position.
func (h *readsHarness) pay(licence, on string, fen domain.Fen) int64 {
	h.t.Helper()
	d, _ := domain.ParseDate(on)
	res, err := h.svc.PayRoyalty(context.Background(), domain.Request{Actor: domain.AdminActor},
		domain.PayRoyalty{LicenseID: licence, PaidOn: d, AmountFen: fen, Period: "2024"})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Position
}

// TestFeesTally reads the fees tally over HTTP: an entry fee (a lump sum),
// an instalment licence's first and later instalments, a royalty licence's
// royalty and a royalty under the entry-fee licence, each in its quarter
// and kind;
// the total agrees with the deals tally's fees; the CSV names the kinds.
func TestFeesTally(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	_, lump := h.openLicence(1, domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 5_000_000, RoyaltyBP: 200,
		RoyaltyBase: domain.BaseNetSales}, "2024-03-01", 5_000_000)
	_, inst := h.openLicence(2, domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 300_000, Instalments: 4}, "2024-04-10", 300_000)
	_, roy := h.openLicence(3, domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales}, "2024-05-20", 0)
	h.pay(inst.ID, "2024-07-10", 300_000)
	h.pay(roy.ID, "2024-10-15", 120_000)
	pos := strconv.FormatInt(h.pay(lump.ID, "2024-12-31", 7_000), 10)

	const rg = "period=quarter&from=2024-01-01&to=2024-12-31&min_position="
	var fees struct {
		Buckets []map[string]any `json:"buckets"`
		Total   map[string]any   `json:"total"`
	}
	h.getJSON("/v1/tallies/fees?"+rg+pos, &fees)
	want := []map[string]any{
		{"period": "2024-Q1", "payments": 1.0, "fees_fen": 5_000_000.0, "lump_sums_fen": 5_000_000.0, "instalments_fen": 0.0, "royalties_fen": 0.0},
		{"period": "2024-Q2", "payments": 1.0, "fees_fen": 300_000.0, "lump_sums_fen": 0.0, "instalments_fen": 300_000.0, "royalties_fen": 0.0},
		{"period": "2024-Q3", "payments": 1.0, "fees_fen": 300_000.0, "lump_sums_fen": 0.0, "instalments_fen": 300_000.0, "royalties_fen": 0.0},
		{"period": "2024-Q4", "payments": 2.0, "fees_fen": 127_000.0, "lump_sums_fen": 0.0, "instalments_fen": 0.0, "royalties_fen": 127_000.0},
	}
	wantTotal := map[string]any{"period": "total", "payments": 5.0, "fees_fen": 5_727_000.0, "lump_sums_fen": 5_000_000.0,
		"instalments_fen": 600_000.0, "royalties_fen": 127_000.0}
	if !reflect.DeepEqual(fees.Buckets, want) || !reflect.DeepEqual(fees.Total, wantTotal) {
		t.Errorf("fees tally\n got %v %v\nwant %v %v", fees.Buckets, fees.Total, want, wantTotal)
	}
	var deals struct {
		Total map[string]any `json:"total"`
	}
	h.getJSON("/v1/tallies/deals?"+rg+pos, &deals)
	if deals.Total["fees_fen"] != fees.Total["fees_fen"] {
		t.Errorf("deals tally fees_fen %v, fees tally %v", deals.Total["fees_fen"], fees.Total["fees_fen"])
	}

	_, body := h.getWith("/v1/tallies/fees?format=csv&layout=report&lang=zh&" + rg + pos)
	meta, rows := splitCSV(t, body)
	heading := []string{"统计周期", "付款(笔)", "许可费(元)", "一次性支付(元)", "分期支付(元)", "提成支付(元)"}
	if meta[""] != "许可费支付方式统计（按季度）" || len(rows) != 6 || !slices.Equal(rows[0], heading) ||
		!slices.Equal(rows[5], []string{"合计", "5", "57270.00", "50000.00", "6000.00", "1270.00"}) {
		t.Errorf("CSV %q %q", meta[""], rows)
	}

	resp, body := h.get("/v1/tallies/fees?campaign=2024&" + rg + pos)
	var p readsProblem
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
		p.Code != "invalid_argument" || len(p.Errors) == 0 || p.Errors[0].Field != "campaign" {
		t.Errorf("campaign on the fees tally: %d %s, want 400 naming campaign", resp.StatusCode, body)
	}
}

// TestReviewCoverage reads the review coverage over HTTP: two active
// patents of the university, one reviewed in the campaign; the share on
// days before and after the review, as_of defaulting to today, and the
// refusals naming their parameter.
func TestReviewCoverage(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	reviewed, _ := h.openLicence(1, domain.FeeTerms{Mode: domain.FeeFree}, "2024-03-01", 0)
	h.openLicence(2, domain.FeeTerms{Mode: domain.FeeFree}, "2024-03-01", 0)
	res, err := h.svc.RecordReview(context.Background(), domain.Request{Actor: domain.AdminActor}, reviewed, domain.RecordReview{Campaign: "2024",
		ReviewedOn: domain.NewDate(2024, 6, 1), Grade: domain.Grades[0], Disposition: domain.Dispositions[0], ReviewerID: h.uni})
	if err != nil {
		t.Fatal(err)
	}
	pos := strconv.FormatInt(res.Position, 10)
	type figures struct {
		Active   int64 `json:"active_patents"`
		Reviewed int64 `json:"reviewed"`
		ShareBP  int64 `json:"share_bp"`
	}
	var got struct {
		Campaign string `json:"campaign"`
		AsOf     string `json:"as_of"`
		Items    []struct {
			PatenteeID string `json:"patentee_id"`
			figures
		} `json:"items"`
		Total figures `json:"total"`
	}
	for _, c := range []struct {
		asOf string
		want figures
	}{{"2024-12-31", figures{2, 1, 5000}}, {"2024-05-31", figures{2, 0, 0}}} {
		h.getJSON("/v1/tallies/review-coverage?campaign=2024&as_of="+c.asOf+"&min_position="+pos, &got)
		if got.Campaign != "2024" || got.AsOf != c.asOf || len(got.Items) != 1 || got.Items[0].PatenteeID != h.uni ||
			got.Items[0].figures != c.want || got.Total != c.want {
			t.Errorf("as of %s: %+v, want %+v for %s", c.asOf, got, c.want, h.uni)
		}
	}
	h.getJSON("/v1/tallies/review-coverage?campaign=2024&min_position="+pos, &got)
	if today := h.svc.Today().String(); got.AsOf != today {
		t.Errorf("as_of %s, want today %s", got.AsOf, today)
	}
	// The same figures as CSV (as of today, 2024-07-01 on the harness's
	// clock), with what was asked in the header block.
	_, body := h.getWith("/v1/tallies/review-coverage?campaign=2024&format=csv&layout=report&lang=en")
	meta, rows := splitCSV(t, body)
	wantRows := [][]string{{"Patentee ID", "University", "Region code", "Region", "Active patents", "Reviewed", "Share (bp)"},
		{h.uni, "华南理工大学", "440106", "Tianhe", "2", "1", "5000"}, {"Total", "universities with active patents: 1", "", "", "2", "1", "5000"}}
	if meta[""] != "Universities' active patents reviewed (2024)" || meta["As of"] != h.svc.Today().String() ||
		meta["Review campaign"] != "2024" || meta["Period"] != "" || !slices.EqualFunc(rows, wantRows, slices.Equal) {
		t.Errorf("CSV %v %q, want %q", meta, rows, wantRows)
	}
	resp, body := h.getWith("/v1/tallies/review-coverage?campaign=2024&format=xlsx")
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(cd, "review-coverage-2024-"+h.svc.Today().String()+".xlsx") || len(body) == 0 {
		t.Errorf("Excel download: %d %q", resp.StatusCode, cd)
	}
	// The dashboard shows the same figures, for the campaign of the latest
	// review by the range's end unless one is given.
	for _, q := range []string{"campaign=2024&", ""} {
		resp, page := h.get("/dashboard?" + q + "from=2024-01-01&to=2024-12-31&lang=en")
		for _, want := range []string{"Universities&#39; active patents reviewed · 2024 · 2024-12-31",
			`<tr><td lang="zh-CN">华南理工大学</td><td>2</td><td>1</td><td>50.00%</td></tr>`, `<tr><td lang="en">Total</td><td>2</td><td>1</td><td>50.00%</td></tr>`,
			`href="/v1/tallies/review-coverage?as_of=2024-12-31&amp;campaign=2024&amp;format=csv&amp;lang=en&amp;layout=report&amp;sort=share"`} {
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), want) {
				t.Errorf("dashboard?%s: %d, want %q in the page", q, resp.StatusCode, want)
			}
		}
	}
	// The English page's report is in English whatever the browser asks.
	_, body = h.getWith("/v1/tallies/review-coverage?as_of=2024-12-31&campaign=2024&format=csv&lang=en&layout=report",
		"Accept-Language", "zh-CN")
	if meta, _ := splitCSV(t, body); meta[""] != "Universities' active patents reviewed (2024)" {
		t.Errorf("the English page's report: %q", meta[""])
	}
	resp, page := h.get("/dashboard?from=2024-01-01&to=2025-06-30&campaign=2025&lang=en")
	if want := "reviewed · 2025 · 2025-06-30"; resp.StatusCode != http.StatusOK || !strings.Contains(string(page), want) ||
		!strings.Contains(string(page), `<tr><td lang="en">Total</td><td>2</td><td>0</td><td>0.00%</td></tr>`) {
		t.Errorf("dashboard for campaign 2025: %d, want nothing reviewed", resp.StatusCode)
	}
	resp, page = h.get("/dashboard?from=2024-01-01&to=2024-05-31&lang=en")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `id="coverage"`) {
		t.Errorf("dashboard before the first review: %d, want no coverage table", resp.StatusCode)
	}
	if resp, _ := h.get("/dashboard?campaign=a%20b"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("dashboard with an invalid campaign: %d, want 400", resp.StatusCode)
	}
	for _, c := range []struct{ query, field string }{
		{"as_of=2024-12-31", "campaign"},
		{"campaign=two%20words", "campaign"},
		{"campaign=2024&as_of=2024-13-01", "as_of"},
		{"campaign=2024&region=44x", "region"},
		{"campaign=2024&period=month", "period"},
	} {
		resp, body := h.get("/v1/tallies/review-coverage?" + c.query)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
			p.Code != "invalid_argument" || len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, resp.StatusCode, body, c.field)
		}
	}
}

// TestReviewCoverageOrderAndLimit lists the universities lowest share
// first and cuts the list, over HTTP and on the dashboard: the university
// with a reviewed patent comes last, of those with nothing reviewed the one
// with more active patents first, and the total counts every university.
func TestReviewCoverageOrderAndLimit(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	reviewed, _ := h.openLicence(1, domain.FeeTerms{Mode: domain.FeeFree}, "2024-03-01", 0)
	h.openLicence(2, domain.FeeTerms{Mode: domain.FeeFree}, "2024-03-01", 0)
	var others []string
	for i := range 21 {
		others = append(others, h.org(10+i, fmt.Sprintf("第%d大学", i+1), domain.OrgUniversity, "440105", false))
		h.universityPatent(100+i, others[i])
	}
	bigger := others[20]
	h.universityPatent(200, bigger)
	res, err := h.svc.RecordReview(context.Background(), domain.Request{Actor: domain.AdminActor}, reviewed, domain.RecordReview{Campaign: "2024",
		ReviewedOn: domain.NewDate(2024, 6, 1), Grade: domain.Grades[0], Disposition: domain.Dispositions[0], ReviewerID: h.uni})
	if err != nil {
		t.Fatal(err)
	}
	pos := "&min_position=" + strconv.FormatInt(res.Position, 10)
	type item struct {
		PatenteeID string `json:"patentee_id"`
		Active     int64  `json:"active_patents"`
		ShareBP    int64  `json:"share_bp"`
	}
	var got struct {
		Items        []item `json:"items"`
		Universities int    `json:"universities"`
		Total        struct {
			Active   int64 `json:"active_patents"`
			Reviewed int64 `json:"reviewed"`
		} `json:"total"`
	}
	h.getJSON("/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31&sort=share&limit=2"+pos, &got)
	want := []item{{bigger, 2, 0}, {slices.Min(others[:20]), 1, 0}}
	if !slices.Equal(got.Items, want) || got.Universities != 22 || got.Total.Active != 24 || got.Total.Reviewed != 1 {
		t.Errorf("lowest two: %+v, want %+v of 22 universities, 1 of 24 patents reviewed", got, want)
	}
	h.getJSON("/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31&sort=share"+pos, &got)
	if len(got.Items) != 22 || got.Items[21] != (item{h.uni, 2, 5000}) {
		t.Errorf("by share: %+v, want all 22 with %s last", got.Items, h.uni)
	}
	h.getJSON("/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31&limit=3"+pos, &got)
	if len(got.Items) != 3 || !slices.IsSortedFunc(got.Items, func(a, b item) int { return strings.Compare(a.PatenteeID, b.PatenteeID) }) ||
		got.Universities != 22 {
		t.Errorf("first three by patentee: %+v", got)
	}
	_, body := h.getWith("/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31&sort=share&limit=1&format=csv&layout=report&lang=en")
	meta, rows := splitCSV(t, body)
	if meta["Order"] != "lowest share first" || meta["Limit"] != "1" || len(rows) != 3 || rows[1][0] != bigger ||
		!slices.Equal(rows[2], []string{"Total", "universities with active patents: 22", "", "", "24", "1", "417"}) {
		t.Errorf("CSV of the lowest: %v %q", meta, rows)
	}
	resp, page := h.get("/dashboard?from=2024-01-01&to=2024-12-31&lang=en")
	for _, want := range []string{"The 20 universities with the lowest share, of 22; the downloads list them all.",
		`<tr><td lang="zh-CN">第21大学</td><td>2</td><td>0</td><td>0.00%</td></tr>`, `<tr><td lang="en">Total</td><td>24</td><td>1</td><td>4.17%</td></tr>`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), want) {
			t.Errorf("dashboard: %d, want %q in the page", resp.StatusCode, want)
		}
	}
	if strings.Contains(string(page), `<tr><td lang="zh-CN">华南理工大学</td>`) {
		t.Error("dashboard: the university with the highest share is in the cut table")
	}
	for _, c := range []struct{ query, field string }{
		{"sort=name", "sort"}, {"limit=0", "limit"}, {"limit=10001", "limit"}, {"limit=all", "limit"},
	} {
		resp, body := h.get("/v1/tallies/review-coverage?campaign=2024&" + c.query)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
			p.Code != "invalid_argument" || len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, resp.StatusCode, body, c.field)
		}
	}
}

// universityPatent registers a granted patent of the university, serial
// choosing its number.
func (h *readsHarness) universityPatent(serial int, university string) {
	h.t.Helper()
	digits := fmt.Sprintf("2022100%05d", serial)
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		h.t.Fatal(err)
	}
	_, err = h.svc.RegisterPatent(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterPatent{
		Number: "ZL" + digits + "." + string(c), Title: "一种高校存量专利", PatenteeIDs: []string{university},
		IPC: []string{"G06F 16/00"}, FiledOn: domain.NewDate(2022, 5, 15), GrantedOn: domain.NewDate(2023, 2, 10)})
	if err != nil {
		h.t.Fatal(err)
	}
}
