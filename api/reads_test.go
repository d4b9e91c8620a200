package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
)

// readsNow is the server's clock in these tests: 2026-01-02 in Shanghai,
// after every payment and recordal the tests date (none may be in the
// future).
var readsNow = time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC)

// readsHarness is a real server with its store, command service and read
// models in a temporary folder.
type readsHarness struct {
	t     testing.TB
	svc   *domain.Service
	store *sqlite.Store
	url   string
	uni   string
	sme   string
	// closeReads closes the read models (the server then answers their
	// reads with errors).
	closeReads func()
}

// readsOptions tune newReadsHarness.
type readsOptions struct {
	wait        time.Duration
	projections []projections.Projection
	sqlOnly     bool
	// beforeStart writes events before the projections start.
	beforeStart func(*domain.Service)
}

func newReadsHarness(t testing.TB, o readsOptions) *readsHarness {
	t.Helper()
	return newReadsHarnessIn(t, t.TempDir(), o)
}

// newReadsHarnessIn is newReadsHarness with its store and read models in
// dir.
func newReadsHarnessIn(t testing.TB, dir string, o readsOptions) *readsHarness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return readsNow }, NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	if o.beforeStart != nil {
		o.beforeStart(svc)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	reads, err := projections.Start(ctx, st, filepath.Join(dir, projections.FileName), projections.Options{Logger: quiet,
		Registerer: reg, SQLOnly: o.sqlOnly, Runner: projections.RunnerOptions{Projections: o.projections, MaxRetries: 1, RetryInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reads.Close() })
	srv := api.New(api.Config{Service: svc, Store: st, Logger: quiet, ReadModels: reads, Metrics: reg,
		ReadWaitLimit: o.wait, RateLimit: 10_000})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	h := &readsHarness{t: t, svc: svc, store: st, url: ts.URL, closeReads: func() {
		if err := reads.Close(); err != nil {
			t.Fatal(err)
		}
	}}
	h.uni = h.org(1, "华南理工大学", domain.OrgUniversity, "440106", false)
	h.sme = h.org(2, "广州星能电池科技有限公司", domain.OrgEnterprise, "440113", true)
	return h
}

func (h *readsHarness) org(serial int, name string, kind domain.OrgKind, region string, sme bool) string {
	body := fmt.Sprintf("91440101MA%07d", serial)
	c, err := domain.CreditCheckChar(body)
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.svc.RegisterOrg(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{
		Name: name, Kind: kind, RegionCode: domain.RegionCode(region), CreditCode: domain.CreditCode(body + string(c)), SME: sme})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.ID
}

// declared registers and declares a battery patent and grants an open
// licence to the SME; it returns the last position written.
func (h *readsHarness) declared(serial int) int64 {
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	n := domain.PatentNumber(patentNumberOf(h.t, serial))
	from := func(s string) domain.Date { d, _ := domain.ParseDate(s); return d }
	_, err := h.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "一种固态锂电池电解质",
		PatenteeIDs: []string{h.uni}, IPC: []string{"H01M 10/0562"}, FiledOn: from("2020-03-15"), GrantedOn: from("2022-01-10")})
	if err != nil {
		h.t.Fatal(err)
	}
	decl, err := h.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeLumpSum,
		LumpSumFen: 5_000_000}, TermMonths: 36, DeclaredOn: from("2024-01-02")})
	if err != nil {
		h.t.Fatal(err)
	}
	lic, err := h.svc.GrantLicense(ctx, admin, n, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: h.sme,
		EffectiveOn: from("2024-03-01"), FeePaidFen: 5_000_000, DeclarationID: decl.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	return lic.Position
}

// caughtUp waits until both read models have applied position pos: the
// web pages do not wait for them, and the listings and the tallies each
// catch up on their own.
func (h *readsHarness) caughtUp(pos int64) {
	h.t.Helper()
	at := strconv.FormatInt(pos, 10)
	h.get("/v1/listings?min_position=" + at)
	h.get("/v1/tallies/deals?from=2024-01-01&to=2024-01-31&min_position=" + at)
}

// get answers a GET of path.
func (h *readsHarness) get(path string) (*http.Response, []byte) {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, body
}

// getJSON answers a GET of path that must succeed, decoded into v.
func (h *readsHarness) getJSON(path string, v any) {
	h.t.Helper()
	resp, body := h.get(path)
	h.decodeOK(path, resp, body, v)
}

// decodeOK decodes into v the answer to a GET of path, which must be 200.
func (h *readsHarness) decodeOK(path string, resp *http.Response, body []byte, v any) {
	h.t.Helper()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		h.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// getReached answers a GET of path, which names a min_position the ledger
// has reached, decoded into v: it asks again while the server answers 503
// unavailable (the position not applied within the server's wait), for
// up to 30 s, and fails on any other answer but 200.
func (h *readsHarness) getReached(path string, v any) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := h.get(path)
		var p readsProblem
		if resp.StatusCode == http.StatusServiceUnavailable && json.Unmarshal(body, &p) == nil &&
			p.Code == "unavailable" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		h.decodeOK(path, resp, body, v)
		return
	}
}

type readsProblem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func TestReadsSeeTheirOwnWrites(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.declared(1)
	var page struct {
		Items []struct {
			Number   string `json:"number"`
			Licenses int    `json:"licenses"`
		} `json:"items"`
		Total      int     `json:"total"`
		NextCursor *string `json:"next_cursor"`
	}
	h.getJSON("/v1/listings?q=%E7%94%B5%E6%B1%A0&ipc=H01M&min_position="+strconv.FormatInt(pos, 10), &page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Licenses != 1 || page.NextCursor != nil {
		t.Fatalf("listing %+v", page)
	}
	var tally struct {
		Buckets []map[string]any `json:"buckets"`
		Total   map[string]any   `json:"total"`
	}
	h.getJSON("/v1/tallies/deals?period=quarter&from=2024-01-01&to=2024-12-31&sme=true&min_position="+strconv.FormatInt(pos, 10), &tally)
	if len(tally.Buckets) != 4 || tally.Buckets[0]["period"] != "2024-Q1" || tally.Buckets[0]["deals"] != 1.0 ||
		tally.Total["fees_fen"] != 5_000_000.0 || tally.Total["period"] != "total" {
		t.Fatalf("tally %+v", tally)
	}
	var ranks []map[string]any
	h.getJSON("/v1/rankings/patentees?metric=fees_fen&min_position="+strconv.FormatInt(pos, 10), &ranks)
	if len(ranks) != 1 || ranks[0]["patentee_id"] != h.uni || ranks[0]["name"] != "华南理工大学" || ranks[0]["value"] != 5_000_000.0 {
		t.Fatalf("ranking %+v", ranks)
	}
}

func TestReadsWaitForMinPositionThenAnswer503(t *testing.T) {
	h := newReadsHarness(t, readsOptions{wait: 100 * time.Millisecond})
	for _, path := range []string{"/v1/listings", "/v1/tallies/pledges?from=2024-01-01&to=2024-01-31", "/v1/rankings/patentees"} {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		resp, body := h.get(path + sep + "min_position=1000000")
		var p readsProblem
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || p.Code != "unavailable" {
			t.Errorf("%s: %d Retry-After %q %s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
}

func TestReadsNameTheInvalidParameter(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	const tally = "/v1/tallies/deals?from=2024-01-01&to=2024-12-31"
	for _, c := range []struct{ path, field string }{
		{"/v1/listings?ipc=Z99", "ipc"},
		{"/v1/listings?limit=0", "limit"},
		{"/v1/listings?limit=101", "limit"},
		{"/v1/listings?max_fee_fen=-1", "max_fee_fen"},
		{"/v1/listings?region=44a", "region"},
		{"/v1/listings?kind=plant", "kind"},
		{"/v1/listings?fee_mode=barter", "fee_mode"},
		{"/v1/listings?sort=relevance", "sort"},
		{"/v1/listings?cursor=zz", "cursor"},
		{"/v1/listings?q=" + strings.Repeat("x", 201), "q"},
		{"/v1/listings?min_position=-1", "min_position"},
		{"/v1/tallies/deals?from=2024-01-01", "to"},
		{"/v1/tallies/deals?from=2024-02-30&to=2024-03-01", "from"},
		{"/v1/tallies/deals?from=2024-03-01&to=2024-01-01", "to"},
		{tally + "&period=decade", "period"},
		{"/v1/tallies/deals?period=day&from=2000-01-01&to=2024-12-31", "to"},
		{tally + "&sme=maybe", "sme"},
		{tally + "&type=lease", "type"},
		{tally + "&campaign=2024", "campaign"},
		{tally + "&format=pdf", "format"},
		{tally + "&format=csv&layout=pretty", "layout"},
		{"/v1/rankings/patentees?format=xlsx&layout=Report", "layout"},
		{"/v1/tallies/declarations?from=2024-01-01&to=2024-12-31&licensee_id=x", "licensee_id"},
		{"/v1/tallies/pledges?from=2024-01-01&to=2024-12-31&sme=true", "sme"},
		{"/v1/tallies/reviews?from=2024-01-01&to=2024-12-31&type=open", "type"},
		{"/v1/rankings/patentees?metric=popularity", "metric"},
		{"/v1/rankings/patentees?limit=1000", "limit"},
		{"/v1/rankings/patentees?from=2024-01-01&to=2023-01-01", "to"},
		// A mistyped parameter is refused rather than ignored.
		{tally + "&region_code=4401", "region_code"},
		{"/v1/listings?query=" + url.QueryEscape("电池"), "query"},
		{"/v1/rankings/patentees?by=fees_fen", "by"},
		{"/v1/ledger/head?position=1", "position"},
		{"/v1/patents/ZL202010000001.6?fields=all", "fields"}, // a route with a path parameter
	} {
		resp, body := h.get(c.path)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
			p.Code != "invalid_argument" || len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, resp.StatusCode, body, c.field)
		}
	}
}

// TestReadsNameEveryInvalidParameterAtOnce: a query with several faults
// gets one answer naming each, whether a fault is in a parameter's form
// (a bad date) or only shows once the forms are right (a range ending
// before it starts, a filter the tally does not take), so that a client
// need not fix them one round trip at a time.
func TestReadsNameEveryInvalidParameterAtOnce(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, c := range []struct {
		path   string
		fields []string
	}{
		{"/v1/tallies/deals?period=fortnight", []string{"from", "to", "period"}},
		{"/v1/tallies/deals?period=fortnight&from=2025-01-01&to=2024-02-01&type=lease&sme=maybe&format=pdf",
			[]string{"type", "sme", "period", "to", "format"}},
		{"/v1/tallies/deals?from=2025-02-30&to=2024-02-01&type=lease", []string{"from", "type"}},
		{"/v1/tallies/declarations?from=2025-01-01&to=2024-02-01&licensee_id=x&sme=true&type=open",
			[]string{"type", "licensee_id", "sme", "to"}},
		{"/v1/tallies/fee-reductions?period=month&from=2024-12-31&to=2024-01-01", []string{"period", "to"}},
		{"/v1/rankings/patentees?metric=popularity&from=2025-01-01&to=2024-01-01&limit=0",
			[]string{"limit", "metric", "to"}},
		{"/v1/rankings/patentees?metric=popularity&from=2025-01-01&to=2024-01-01&format=pdf",
			[]string{"format", "metric", "to"}},
		{"/v1/tallies/deals-by-region?from=2025-01-01&to=2024-01-01&level=country", []string{"level", "to"}},
		{"/v1/tallies/deals?from=2024-01-01&to=2024-12-31&format=pdf&lang=fr", []string{"format", "lang"}},
		{"/v1/listings?limit=0&sort=relevance&cursor=zz&kind=plant", []string{"kind", "limit", "sort"}},
		{"/v1/listings?sort=fee&cursor=zz&ipc=Z99", []string{"cursor", "ipc"}},
		{"/v1/listings?sort=cheapest&q=" + url.QueryEscape("!!"), []string{"q", "sort"}},
	} {
		resp, body := h.get(c.path)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest || p.Code != "invalid_argument" {
			t.Errorf("%s: %d %s, want 400 invalid_argument", c.path, resp.StatusCode, body)
			continue
		}
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field)
		}
		if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(c.fields))) {
			t.Errorf("%s names %v, want %v: %s", c.path, got, c.fields, body)
		}
	}
}

// TestDownloadLangIsZhOrEn: lang on a /v1 route is zh or en, as the
// OpenAPI document's enum says; any other value (fr, EN, bogus) answers 400
// invalid_argument naming lang, in every format, where it used to be
// ignored. The web pages keep taking any lang (an unknown one falls back
// to Accept-Language).
func TestDownloadLangIsZhOrEn(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, route := range []string{"/v1/tallies/deals?from=2024-01-01&to=2024-12-31", "/v1/tallies/fee-reductions?from=2024-01-01&to=2024-12-31",
		"/v1/tallies/review-coverage?campaign=2024", "/v1/tallies/deals-by-region?from=2024-01-01&to=2024-12-31",
		"/v1/rankings/patentees?metric=licenses"} {
		for _, form := range []string{"", "&format=csv", "&format=xlsx&layout=report"} {
			for _, lang := range []string{"zh", "en"} {
				if resp, body := h.get(route + form + "&lang=" + lang); resp.StatusCode != http.StatusOK {
					t.Errorf("%s%s&lang=%s: %d %s", route, form, lang, resp.StatusCode, body)
				}
			}
			for _, lang := range []string{"fr", "EN", "Zh", "bogus", "zh-CN"} {
				path := route + form + "&lang=" + lang
				resp, body := h.get(path)
				var p readsProblem
				if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
					p.Code != "invalid_argument" || len(p.Errors) != 1 || p.Errors[0].Field != "lang" {
					t.Errorf("%s: %d %s, want 400 naming lang", path, resp.StatusCode, body)
				}
			}
		}
	}
	for _, page := range []string{"/?lang=fr", "/dashboard?lang=EN"} {
		if resp, body := h.get(page); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", page, resp.StatusCode, body)
		}
	}
}

// TestRegionCodeOfACityOrProvinceCoversItsDistricts: the university is in
// district 440106 and its patent is licensed in 2024. A city code (440100)
// or province code (440000) must find what its prefix (4401, 44) finds, and
// another city's code nothing.
func TestRegionCodeOfACityOrProvinceCoversItsDistricts(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := strconv.FormatInt(h.declared(1), 10)
	type answer struct {
		Total struct {
			Deals int `json:"deals"`
		} `json:"total"`
	}
	type listings struct {
		Total int `json:"total"`
	}
	deals := func(region string) int {
		var a answer
		h.getJSON("/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31&min_position="+pos+"&region="+region, &a)
		return a.Total.Deals
	}
	listed := func(region string) int {
		var l listings
		h.getJSON("/v1/listings?min_position="+pos+"&region="+region, &l)
		return l.Total
	}
	for _, c := range []struct {
		region string
		want   int
	}{{"440106", 1}, {"4401", 1}, {"440100", 1}, {"44", 1}, {"440000", 1}, {"440300", 0}, {"110000", 0}, {"440113", 0}} {
		if got := deals(c.region); got != c.want {
			t.Errorf("deals in region %s: %d, want %d", c.region, got, c.want)
		}
		if got := listed(c.region); got != c.want {
			t.Errorf("listings in region %s: %d, want %d", c.region, got, c.want)
		}
	}
}

// shanghaiDeals adds to the harness's world a Shanghai university
// (district 310104) with two free open licences to the SME, effective on
// 2024-05-01, and waits for the tallies; with declared(1), Guangzhou's
// district 440106 then has one deal (fee ¥50,000) and 310104 two.
func (h *readsHarness) shanghaiDeals() {
	h.t.Helper()
	shanghai := h.org(9, "复旦大学", domain.OrgUniversity, "310104", false)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	var last int64
	for serial := 2; serial <= 3; serial++ {
		digits := fmt.Sprintf("2020100%05d", serial)
		c, err := domain.PatentCheckChar(digits)
		if err != nil {
			h.t.Fatal(err)
		}
		n := domain.PatentNumber("ZL" + digits + "." + string(c))
		if _, err := h.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "一种半导体器件",
			PatenteeIDs: []string{shanghai}, IPC: []string{"H01L 23/367"}, FiledOn: date("2020-03-15"), GrantedOn: date("2022-01-10")}); err != nil {
			h.t.Fatal(err)
		}
		decl, err := h.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
			TermMonths: 36, DeclaredOn: date("2024-01-02")})
		if err != nil {
			h.t.Fatal(err)
		}
		lic, err := h.svc.GrantLicense(ctx, admin, n, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: h.sme,
			EffectiveOn: date("2024-05-01"), DeclarationID: decl.ID})
		if err != nil {
			h.t.Fatal(err)
		}
		last = lic.Position
	}
	// The web pages do not wait for min_position: the API does, first.
	h.getJSON(fmt.Sprintf("/v1/tallies/deals?from=2024-01-01&to=2024-12-31&min_position=%d", last), &struct{}{})
}

// TestDashboardListsTheBusiestDistricts: the dashboard's districts are
// those of the licensors with the most deals in its range, wherever they
// are, named in the page's language when the catalogue has the name, by
// the GB/T 2260 name otherwise, and by code alone when no name is known.
func TestDashboardListsTheBusiestDistricts(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.shanghaiDeals()
	_, page := h.get("/dashboard?from=2024-01-01&to=2024-12-31&lang=en")
	first := strings.Index(string(page), `<tr><td lang="zh-CN">徐汇区 (310104)</td><td>2</td>`)
	second := strings.Index(string(page), `<tr><td lang="en">Tianhe (440106)</td><td>1</td>`)
	if first < 0 || second < first {
		t.Fatalf("the districts, busiest first: at %d and %d in\n%s", first, second, page)
	}
	if !strings.Contains(string(page), "region=310104") || !strings.Contains(string(page), "/v1/tallies/deals-by-region?format=csv") {
		t.Error("no download of the deals of district 310104, or of every district")
	}
	// The rows may add up to more than the deals chart's total; the page
	// says why, in its language, and that its downloads list every district.
	for lang, note := range map[string]string{"en": "the 10 busiest (the downloads list every district); a licence whose licensors are in several districts counts in each",
		"zh": "列出成交最多的 10 个区县（下载文件列出全部区县）；许可方分属多个区县的许可在每个区县各计一次"} {
		if _, page := h.get("/dashboard?from=2024-01-01&to=2024-12-31&lang=" + lang); !strings.Contains(string(page), note) {
			t.Errorf("lang=%s: the districts table does not say how it counts (%q)", lang, note)
		}
	}
}

// TestDashboardWithABadRangeShowsOnlyTheProblem: a dashboard asked for a
// range it cannot show (too many day buckets) answers 400 with the problem
// and its form, and none of the tables, whose empty rows and borrowed
// "no patent matches" said something else.
func TestDashboardWithABadRangeShowsOnlyTheProblem(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	resp, page := h.get("/dashboard?period=day&from=1990-01-01&to=2024-12-31&lang=en")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), `class="problem"`) || !strings.Contains(string(page), `id="period"`) {
		t.Fatalf("a bad range: %d\n%s", resp.StatusCode, page)
	}
	for _, absent := range []string{"Licences by district", "Patentees by licences", "No open-licence patent matches."} {
		if strings.Contains(string(page), absent) {
			t.Errorf("the failed dashboard shows %q", absent)
		}
	}
	if _, page := h.get("/dashboard?from=2030-01-01&to=2030-12-31&lang=en"); !strings.Contains(string(page), "No patentee granted a licence in this range.") {
		t.Error("an empty ranking does not say so in its own words")
	}
}

// TestDealsByRegion reads the deals by district, city and province, as JSON
// and as CSV, and refuses bad queries naming the parameter.
func TestDealsByRegion(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.shanghaiDeals()
	const path = "/v1/tallies/deals-by-region?from=2024-01-01&to=2024-12-31"
	for query, want := range map[string]string{
		"": `{"from":"2024-01-01","to":"2024-12-31","level":"district","regions":[{"region":"310104","deals":2,"fees_fen":0},` +
			`{"region":"440106","deals":1,"fees_fen":5000000}]}`,
		"&level=city&limit=1": `{"from":"2024-01-01","to":"2024-12-31","level":"city","regions":[{"region":"3101","deals":2,"fees_fen":0}]}`,
		"&level=province":     `{"from":"2024-01-01","to":"2024-12-31","level":"province","regions":[{"region":"31","deals":2,"fees_fen":0},` + `{"region":"44","deals":1,"fees_fen":5000000}]}`,
	} {
		resp, body := h.get(path + query)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Errorf("%s: %d %s\nwant %s", query, resp.StatusCode, body, want)
		}
	}
	_, body := h.getWith(path + "&format=csv&layout=report&lang=en")
	meta, rows := splitCSV(t, body)
	if meta["Level"] != "district" || !slices.Equal(rows[0], []string{"Region code", "Region", "Deals", "Fees (yuan)"}) ||
		!slices.Equal(rows[1], []string{"310104", "徐汇区", "2", "0.00"}) ||
		!slices.Equal(rows[2], []string{"440106", "Tianhe", "1", "50000.00"}) || len(rows) != 3 {
		t.Errorf("CSV: %v %q", meta, rows)
	}
	_, body = h.getWith(path + "&format=csv&layout=report&lang=zh&level=province")
	if _, rows := splitCSV(t, body); len(rows) != 3 || !slices.Equal(rows[0][:2], []string{"地区代码", "地区名称"}) ||
		!slices.Equal(rows[1][:2], []string{"31", "上海市"}) || !slices.Equal(rows[2][:2], []string{"44", "广东省"}) {
		t.Errorf("CSV by province: %q", rows)
	}
	for query, field := range map[string]string{"?to=2024-12-31": "from", "?from=2024-01-01&to=2023-12-31": "to",
		"?from=2024-01-01&to=2024-12-31&level=county": "level", "?from=2024-01-01&to=2024-12-31&limit=0": "limit",
		"?from=2024-01-01&to=2024-12-31&format=pdf": "format", "?from=2024-01-01&to=2024-12-31&region=44": "region"} {
		resp, body := h.get("/v1/tallies/deals-by-region" + query)
		var p readsProblem
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %s, want 400 naming %s", query, resp.StatusCode, body, field)
		}
	}
}

// TestSearchPageTakesAnyRegionCode: the search page's region field takes
// any code, a city's among them, not only the districts it suggests.
func TestSearchPageTakesAnyRegionCode(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", h.declared(1)), &struct{}{})
	for region, found := range map[string]bool{"440100": true, "44": true, "440300": false, "310104": false, "４４０１": true} {
		resp, page := h.get("/?lang=en&region=" + region)
		listed := strings.Contains(string(page), "一种固态锂电池电解质")
		if resp.StatusCode != http.StatusOK || listed != found || !strings.Contains(string(page), `value="`+region+`"`) {
			t.Errorf("region %s: %d, listed %v, want %v", region, resp.StatusCode, listed, found)
		}
	}
}

// TestSearchPageFollowsItsNextLink: the search page's "next" link keeps
// its filters, the fee cap in yuan among them, and continues the listing
// one page on; each page numbers the results it shows, and a later page
// links back to the first.
func TestSearchPageFollowsItsNextLink(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.declared(2)
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", h.declared(3)), &struct{}{})
	nextLink := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	firstLink := regexp.MustCompile(`<a href="([^"]+)" rel="first">`)
	path := "/?lang=en&max_fee_yuan=60000&limit=2"
	for i, want := range []struct {
		shown      string
		next, back bool
	}{{"showing 1–2", true, false}, {"showing 3–3", false, true}} {
		resp, page := h.get(path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Patents found: 3 · "+want.shown+"<") ||
			strings.Count(string(page), "一种固态锂电池电解质") != 2-i || nextLink.Match(page) != want.next || firstLink.Match(page) != want.back {
			t.Fatalf("page %d (%s): %d\n%s", i+1, path, resp.StatusCode, page)
		}
		if m := firstLink.FindSubmatch(page); m != nil && html.UnescapeString(string(m[1])) != "/?lang=en&limit=2&max_fee_yuan=60000" {
			t.Errorf("page %d: first page link %s", i+1, m[1])
		}
		if m := nextLink.FindSubmatch(page); m != nil {
			path = html.UnescapeString(string(m[1]))
		}
	}
	for _, bad := range []string{"0", "x", "1000001"} {
		if resp, page := h.get(path + "&page=" + bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "page") {
			t.Errorf("page=%s: %d, want 400 naming page", bad, resp.StatusCode)
		}
	}
}

// TestSearchPageRelevanceWithoutText: the search form offers relevance;
// chosen without a search text it lists in the default order (the API
// refuses it: relevance needs q), and keeps the choice in the form.
func TestSearchPageRelevanceWithoutText(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", h.declared(1)), &struct{}{})
	resp, page := h.get("/?lang=en&sort=relevance")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "一种固态锂电池电解质") ||
		!strings.Contains(string(page), `<option value="relevance" selected>`) {
		t.Errorf("relevance without text: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := h.get("/v1/listings?sort=relevance"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the API: %d, want 400", resp.StatusCode)
	}
}

// TestPatentOfALapsedPatentOffersNothing: once the patent lapses, its
// view has no declaration in effect (its declarations stay listed) and the
// listings leave it out; restored, it offers its declaration again.
func TestPatentOfALapsedPatentOffersNothing(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	c, err := domain.PatentCheckChar("202010000001") // declared(1)'s patent
	if err != nil {
		t.Fatal(err)
	}
	n := "ZL202010000001." + string(c)
	today := h.svc.Today()
	for _, step := range []struct {
		status domain.PatentStatus
		listed bool
	}{{domain.StatusLapsed, false}, {domain.StatusActive, true}} {
		status := step.status
		res, err := h.svc.ChangeStatus(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.PatentNumber(n),
			domain.ChangeStatus{Status: &status, EffectiveOn: today, Reason: "登记"})
		if err != nil {
			t.Fatal(err)
		}
		var view struct {
			Status       string           `json:"status"`
			Declaration  *json.RawMessage `json:"declaration"`
			Declarations []any            `json:"declarations"`
		}
		h.getJSON(fmt.Sprintf("/v1/patents/%s?min_position=%d", n, res.Position), &view)
		var page struct {
			Total int `json:"total"`
		}
		h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", res.Position), &page)
		if view.Status != string(status) || (view.Declaration != nil) != step.listed || len(view.Declarations) != 1 ||
			(page.Total == 1) != step.listed {
			t.Errorf("%s: status %s, declaration %v, %d declarations, %d listed", status, view.Status,
				view.Declaration != nil, len(view.Declarations), page.Total)
		}
	}
}

func TestReadsDownloadTalliesAndRankings(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := strconv.FormatInt(h.declared(1), 10)
	resp, body := h.get("/v1/tallies/deals?period=quarter&from=2024-01-01&to=2024-06-30&format=csv&layout=report&min_position=" + pos)
	want := "\n\n统计周期,许可成交(件),被许可人(个),涉及专利(件),许可费(元)\n2024-Q1,1,1,1,50000.00\n2024-Q2,0,0,0,0.00\n合计,1,1,1,50000.00\n"
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), want) ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="deals-quarter-2024-01-01-2024-06-30-report-zh.csv";`) ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	resp, body = h.get("/v1/tallies/reviews?period=year&from=2024-01-01&to=2024-12-31&format=xlsx&layout=report")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("xlsx: %d %v", resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 3 || rows[len(rows)-3][1] != "评价(件)" || rows[len(rows)-3][2] != "评级-高(件)" || rows[len(rows)-1][0] != "合计" {
		t.Fatalf("xlsx rows %v, %v", rows, err)
	}
	resp, body = h.get("/v1/rankings/patentees?format=csv&layout=report")
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "\n\n名次,专利权人编号,专利权人,许可(件)\n1,"+h.uni+",华南理工大学,1\n") {
		t.Fatalf("ranking csv: %d\n%s", resp.StatusCode, body)
	}
	// Conversion: the university's one declaration reached an open licence
	// in March 2024, so it converted in 2024 and not yet by February.
	var ranks []projections.Ranking
	h.getJSON("/v1/rankings/patentees?metric=conversion_bp&from=2024-01-01&to=2024-12-31", &ranks)
	if len(ranks) != 1 || ranks[0].PatenteeID != h.uni || ranks[0].Value != 10_000 {
		t.Fatalf("conversion ranking %+v", ranks)
	}
	h.getJSON("/v1/rankings/patentees?metric=conversion_bp&to=2024-02-29", &ranks)
	if len(ranks) != 1 || ranks[0].Value != 0 {
		t.Fatalf("conversion ranking by February %+v", ranks)
	}
	resp, body = h.get("/v1/rankings/patentees?metric=conversion_bp&format=csv&layout=report")
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "\n\n名次,专利权人编号,专利权人,转化率(基点)\n1,"+h.uni+",华南理工大学,10000\n") {
		t.Fatalf("conversion csv: %d\n%s", resp.StatusCode, body)
	}
}

func TestReadsHealthAndMetrics(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	// The indexes load once the projections have caught up with the store
	// and the relay runs: from then on, every append is relayed and
	// counted. (Events the catch-up finds in the store are not appends of
	// this process.)
	for _, index := range []string{"tallies", "search"} {
		h.waitForMetric(`ledger_memory_index_loaded{index="` + index + `"} 1`)
	}
	pos := h.declared(1)
	h.caughtUp(pos)
	var health struct {
		Status      string                   `json:"status"`
		Position    int64                    `json:"position"`
		Projections []map[string]interface{} `json:"projections"`
	}
	h.getJSON("/healthz", &health)
	if health.Status != "ok" || health.Position != pos || len(health.Projections) != 2 ||
		health.Projections[0]["name"] != projections.ListingsName || health.Projections[0]["lag"] != 0.0 ||
		health.Projections[1]["checkpoint"] != float64(pos) || health.Projections[1]["healthy"] != true {
		t.Fatalf("health %+v", health)
	}
	// The projections may reach pos before the relay has published its
	// last events: a handler applies the rest of a relayed batch from the
	// store at once. The appends are counted as the relay publishes them.
	h.waitForMetric(`ledger_events_appended_total{type="patent.license_granted.v1"} 1`)
	resp, body := h.get("/metrics")
	for _, want := range []string{`ledger_projection_checkpoint{projection="tallies"} ` + strconv.FormatInt(pos, 10),
		`ledger_projection_lag_events{projection="listings"} 0`, `ledger_projection_healthy{projection="listings"} 1`,
		`ledger_http_request_duration_seconds_count{method="GET",route="/v1/listings",status="200"} 1`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

// waitForMetric waits up to 5 s for /metrics to show want.
func (h *readsHarness) waitForMetric(want string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := h.get("/metrics")
		if strings.Contains(string(body), want) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("metrics lack %s:\n%s", want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadsWithoutMemoryIndexes serves the reads with the in-memory
// indexes left unloaded (serve --memory-indexes=false): the answers come
// from SQL, and the metrics say the indexes are not loaded.
func TestReadsWithoutMemoryIndexes(t *testing.T) {
	h := newReadsHarness(t, readsOptions{sqlOnly: true})
	pos := strconv.FormatInt(h.declared(1), 10)
	var tally struct {
		Total struct {
			Deals int64 `json:"deals"`
		} `json:"total"`
	}
	h.getJSON("/v1/tallies/deals?period=month&from=2024-01-01&to=2024-12-31&min_position="+pos, &tally)
	var listings struct {
		Total int64 `json:"total"`
	}
	h.getJSON("/v1/listings?q="+url.QueryEscape("电池")+"&min_position="+pos, &listings)
	if tally.Total.Deals != 1 || listings.Total != 1 {
		t.Fatalf("deals %d, listings total %d", tally.Total.Deals, listings.Total)
	}
	time.Sleep(200 * time.Millisecond) // a loaded index would have loaded by now
	for _, index := range []string{"tallies", "search"} {
		h.waitForMetric(`ledger_memory_index_loaded{index="` + index + `"} 0`)
	}
}

// readsBroken is a projection that cannot apply the second organisation.
type readsBroken struct{}

func (readsBroken) Name() string     { return "broken" }
func (readsBroken) Tables() []string { return []string{"broken"} }
func (readsBroken) Schema() []string { return []string{"CREATE TABLE broken (id TEXT)"} }
func (readsBroken) Apply(tx *projections.Tx, e domain.RecordedEvent, _ domain.Event) error {
	if e.Position == 2 {
		return errors.New("no room for a second organisation")
	}
	return tx.Exec("INSERT INTO broken (id) VALUES (?)", e.ID)
}

func TestReadsReportAStoppedProjection(t *testing.T) {
	h := newReadsHarness(t, readsOptions{projections: append(projections.All(), readsBroken{})})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := h.get("/healthz")
		if resp.StatusCode == http.StatusServiceUnavailable {
			if !strings.Contains(string(body), "broken stopped at position 1") || resp.Header.Get("Retry-After") != "" {
				t.Fatalf("health: Retry-After %q (it stays stopped until the server starts again), %s", resp.Header.Get("Retry-After"), body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never reported the stopped projection: %d %s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, body := h.get("/v1/listings?min_position=2")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a listing does not read the stopped projection: %d %s", resp.StatusCode, body)
	}
}

// TestEnglishPagesUseEnglishPunctuation: the search results and the patent
// page name co-owners with the page language's colon and separator, not
// the Chinese full-width ones on an English page.
func TestEnglishPagesUseEnglishPunctuation(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	c, err := domain.PatentCheckChar("202010777777")
	if err != nil {
		t.Fatal(err)
	}
	n := domain.PatentNumber("ZL202010777777." + string(c))
	day := func(s string) domain.Date { d, _ := domain.ParseDate(s); return d }
	if _, err := h.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "一种共有电池",
		PatenteeIDs: []string{h.uni, h.sme}, IPC: []string{"H01M 10/0562"}, FiledOn: day("2020-03-15"), GrantedOn: day("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 36, DeclaredOn: day("2024-01-02"), CoOwnerConsent: []string{h.uni, h.sme}})
	if err != nil {
		t.Fatal(err)
	}
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", res.Position), &struct{}{})
	for _, tc := range []struct{ path, want string }{
		{"/?lang=en", `Patentees: <a href="/?patentee_id=` + h.uni + `&amp;lang=en" lang="zh-CN">华南理工大学</a>; <a`},
		{"/", `专利权人：<a href="/?patentee_id=` + h.uni + `" lang="zh-CN">华南理工大学</a>；<a`},
		{"/patents/" + string(n) + "?lang=en", `<dd><span lang="zh-CN">华南理工大学</span>; <span lang="zh-CN">广州星能电池科技有限公司</span></dd>`},
		{"/patents/" + string(n), `<dd><span lang="zh-CN">华南理工大学</span>；<span lang="zh-CN">广州星能电池科技有限公司</span></dd>`},
	} {
		resp, page := h.get(tc.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), tc.want) {
			t.Errorf("%s: %d, want %q in\n%s", tc.path, resp.StatusCode, tc.want, page)
		}
	}
}

// TestListingsShowAPledgeThatBlocksLicences: a listed patent pledged
// without the pledgee's consent says so in the API's listing, on the
// search page and on its own page, where an SME would otherwise try a
// licence that is refused.
func TestListingsShowAPledgeThatBlocksLicences(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.declared(2)
	bank := h.org(3, "中国工商银行广州分行", domain.OrgBank, "440104", false)
	pledged := patentNumberOf(t, 1)
	on, _ := domain.ParseDate("2024-05-01")
	res, err := h.svc.RegisterPledge(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterPledge{
		PledgorID: h.uni, PledgeeID: bank, Patents: []string{pledged}, SecuredAmountFen: 1_000_000,
		RegisteredOn: on, DebtDueOn: on.AddDays(365)})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			Number                string `json:"number"`
			PledgedWithoutConsent bool   `json:"pledged_without_consent"`
		} `json:"items"`
	}
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", res.Position), &page)
	blocked := map[string]bool{}
	for _, it := range page.Items {
		blocked[it.Number] = it.PledgedWithoutConsent
	}
	if len(blocked) != 2 || !blocked[pledged] {
		t.Fatalf("listings: %+v; want two, %s pledged without consent", page.Items, pledged)
	}
	_, html := h.get("/")
	if n := strings.Count(string(html), "质权人尚未同意许可"); n != 1 {
		t.Fatalf("the search page shows the pledge %d times:\n%s", n, html)
	}
	for number, want := range map[string]int{pledged: 1, patentNumberOf(t, 2): 0} {
		if _, html := h.get("/patents/" + number); strings.Count(string(html), "质权人尚未同意许可") != want {
			t.Errorf("the page of %s shows the pledge %d times, want %d", number, strings.Count(string(html), "质权人尚未同意许可"), want)
		}
	}
}

// TestListingsShowAWithdrawalToComeAndASuspension: a listed declaration
// whose withdrawal is recorded to take effect in a few days says when, and
// a listed patent under suspension says so, in the API's listing and on
// the search page; the others say neither.
func TestListingsShowAWithdrawalToComeAndASuspension(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.declared(2)
	h.declared(3)
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	withdrawn, suspended := patentNumberOf(t, 1), patentNumberOf(t, 2)
	today := h.svc.Today()
	var decl struct {
		Declaration struct {
			ID string `json:"declaration_id"`
		} `json:"declaration"`
	}
	h.getJSON("/v1/patents/"+withdrawn, &decl)
	if _, err := h.svc.WithdrawDeclaration(ctx, admin, domain.PatentNumber(withdrawn),
		domain.WithdrawDeclaration{DeclarationID: decl.Declaration.ID, EffectiveOn: today.AddDays(5), Reason: "调整许可条件"}); err != nil {
		t.Fatal(err)
	}
	yes := true
	res, err := h.svc.ChangeStatus(ctx, admin, domain.PatentNumber(suspended), domain.ChangeStatus{Suspended: &yes,
		EffectiveOn: today, Reason: "权属纠纷"})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			Number      string  `json:"number"`
			WithdrawnOn *string `json:"withdrawn_on"`
			Suspended   bool    `json:"suspended"`
		} `json:"items"`
	}
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", res.Position), &page)
	if len(page.Items) != 3 {
		t.Fatalf("listings: %+v", page.Items)
	}
	for _, it := range page.Items {
		withdrawal := ""
		if it.WithdrawnOn != nil {
			withdrawal = *it.WithdrawnOn
		}
		if wantWithdrawal, wantSuspended := map[bool]string{true: today.AddDays(5).String()}[it.Number == withdrawn],
			it.Number == suspended; withdrawal != wantWithdrawal || it.Suspended != wantSuspended {
			t.Errorf("%s: withdrawn_on %q, suspended %v; want %q, %v", it.Number, withdrawal, it.Suspended, wantWithdrawal, wantSuspended)
		}
	}
	_, html := h.get("/?lang=en")
	for _, want := range []string{"the withdrawal takes effect on " + today.AddDays(5).String(), "The patent is suspended"} {
		if n := strings.Count(string(html), want); n != 1 {
			t.Errorf("the search page says %q %d times:\n%s", want, n, html)
		}
	}
}

// TestIPCGroupFilterMeansTheGroup: a main group in the ipc filter means
// that group, as IPC reads it: ipc=H01M 10 finds H01M 10/0562, and
// ipc=H01M 1 does not, though "H01M 1" starts its text; the tallies'
// filter reads it alike.
func TestIPCGroupFilterMeansTheGroup(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.declared(1)
	for ipc, want := range map[string]int64{"H01M": 1, "H01M 10": 1, "h01m10": 1, "H01M 10/05": 1, "H01M 1": 0, "H01M 1/": 0} {
		var page struct {
			Total int64 `json:"total"`
		}
		h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d&ipc=%s", pos, url.QueryEscape(ipc)), &page)
		var tally struct {
			Total struct {
				Deals int64 `json:"deals"`
			} `json:"total"`
		}
		h.getJSON(fmt.Sprintf("/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31&min_position=%d&ipc=%s", pos, url.QueryEscape(ipc)), &tally)
		if page.Total != want || tally.Total.Deals != want {
			t.Errorf("ipc=%s: %d listed, %d deals; want %d", ipc, page.Total, tally.Total.Deals, want)
		}
	}
}

// patentNumberOf is the number of the patent declared(serial) registers.
func patentNumberOf(t testing.TB, serial int) string {
	t.Helper()
	digits := fmt.Sprintf("2020100%05d", serial)
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	return "ZL" + digits + "." + string(c)
}

// TestHeadAnswersAsGet sends HEAD to read routes, the web pages included:
// the status and headers of the GET, no body; a bad query gets the GET's
// 400, and a route without a GET answers 405.
func TestHeadAnswersAsGet(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, c := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/v1/listings", 200, "application/json"},
		{"/v1/tallies/deals?period=month&from=2024-01-01&to=2024-12-31&format=csv", 200, "text/csv; charset=utf-8"},
		{"/v1/tallies/deals?period=fortnight&from=2024-01-01&to=2024-12-31", 400, "application/problem+json"},
		{"/", 200, "text/html; charset=UTF-8"},
		{"/v1/pledges", 405, "application/problem+json"},
	} {
		get, err := http.Get(h.url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		head, err := http.Head(h.url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(head.Body)
		head.Body.Close()
		if head.StatusCode != c.status || get.StatusCode != c.status || head.Header.Get("Content-Type") != c.ctype ||
			get.Header.Get("Content-Type") != c.ctype || len(body) != 0 {
			t.Errorf("%s: HEAD %d %q %d bytes, GET %d %q", c.path, head.StatusCode, head.Header.Get("Content-Type"), len(body),
				get.StatusCode, get.Header.Get("Content-Type"))
		}
	}
	// OPTIONS, and a 405, list HEAD beside GET in Allow, since every
	// route that answers GET answers HEAD.
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodOptions, "/v1/tallies/deals", http.StatusNoContent, "OPTIONS, GET, HEAD"},
		{http.MethodOptions, "/v1/patents/ZL202010000001.6", http.StatusNoContent, "OPTIONS, GET, HEAD"},
		{http.MethodOptions, "/signin", http.StatusNoContent, "OPTIONS, GET, HEAD, POST"},
		{http.MethodOptions, "/v1/pledges", http.StatusNoContent, "OPTIONS, POST"},
		{http.MethodPost, "/v1/tallies/deals", http.StatusMethodNotAllowed, "OPTIONS, GET, HEAD"},
		{http.MethodDelete, "/dashboard", http.StatusMethodNotAllowed, "OPTIONS, GET, HEAD"},
		{http.MethodHead, "/v1/pledges", http.StatusMethodNotAllowed, "OPTIONS, POST"},
	} {
		req, err := http.NewRequest(c.method, h.url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || strings.Join(resp.Header.Values("Allow"), ", ") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", c.method, c.path, resp.StatusCode, resp.Header.Values("Allow"), c.status, c.allow)
		}
	}
}

// TestPatentFeeReductionsByYear reads a declared patent's annual-fee
// reductions by year from its detail and its web page, and checks them
// against the fee-reductions tally, which sums them over patents.
func TestPatentFeeReductionsByYear(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.declared(1) // declared 2024-01-02 for 36 months: to 2027-01-01
	var p struct {
		FeeReductions []domain.YearReduction `json:"fee_reductions"`
	}
	h.getJSON("/v1/patents/"+patentNumberOf(t, 1), &p)
	want := []domain.YearReduction{{Year: 2024, DeclaredDays: 365, ReductionBP: 1496}, {Year: 2025, DeclaredDays: 365, ReductionBP: 1500},
		{Year: 2026, DeclaredDays: 365, ReductionBP: 1500}, {Year: 2027, DeclaredDays: 1, ReductionBP: 4}}
	if !slices.Equal(p.FeeReductions, want) {
		t.Fatalf("fee_reductions %+v, want %+v", p.FeeReductions, want)
	}
	var tally struct {
		Buckets []struct {
			Period             string `json:"period"`
			DeclaredPatentDays int64  `json:"declared_patent_days"`
			ReductionBP        int64  `json:"reduction_bp"`
		} `json:"buckets"`
	}
	h.getJSON(fmt.Sprintf("/v1/tallies/fee-reductions?period=year&from=2024-01-01&to=2027-12-31&min_position=%d", pos), &tally)
	for lang, heading := range map[string]string{"en": "Annual-fee reductions", "zh": "年费减免"} {
		_, page := h.get("/patents/" + patentNumberOf(t, 1) + "?lang=" + lang)
		for _, cell := range []string{heading, "<td>2024</td><td>365</td><td>14.96%</td>", "<td>2027</td><td>1</td><td>0.04%</td>"} {
			if !strings.Contains(string(page), cell) {
				t.Errorf("the %s page lacks %q", lang, cell)
			}
		}
	}
	if len(tally.Buckets) != len(want) {
		t.Fatalf("the tally has %d buckets, want %d", len(tally.Buckets), len(want))
	}
	for i, b := range tally.Buckets {
		if b.Period != fmt.Sprint(want[i].Year) || b.DeclaredPatentDays != want[i].DeclaredDays || b.ReductionBP != want[i].ReductionBP {
			t.Errorf("tally bucket %+v, the patent's year %+v", b, want[i])
		}
	}
}

// TestSearchPageNamesEveryBadField: a search with a fee cap that is no
// amount in yuan and a region that is no region code names both on
// the page, not just the first.
func TestSearchPageNamesEveryBadField(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	resp, page := h.get("/?lang=en&region=" + url.QueryEscape("天河") + "&max_fee_yuan=5,5")
	_, problem, _ := strings.Cut(string(page), `class="problem"`)
	problem, _, _ = strings.Cut(problem, "</div>")
	if resp.StatusCode != http.StatusBadRequest || strings.Count(problem, "<li>") != 2 ||
		!strings.Contains(problem, "Max fee (yuan): is not an amount in yuan such as 50000 or 50,000.50") || !strings.Contains(problem, "Region: must be 1 to 6 digits") {
		t.Fatalf("a search with two bad fields: %d\n%s", resp.StatusCode, problem)
	}
}

// TestSearchPageFeeCapInFen: the search form's fee cap is read in yuan to
// the fen, so a cap one fen below a ¥50,000.00 fee leaves its patent out,
// and the cap written as people write amounts lets it in.
func TestSearchPageFeeCapInFen(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", h.declared(1)), &struct{}{})
	for cap, listed := range map[string]bool{"49999.99": false, "49,999.99": false, "50000": true, "￥50,000.00": true} {
		resp, page := h.get("/?lang=en&max_fee_yuan=" + url.QueryEscape(cap))
		if resp.StatusCode != http.StatusOK || strings.Contains(string(page), "一种固态锂电池电解质") != listed {
			t.Errorf("fee cap %q: %d, patent listed %v, want %v", cap, resp.StatusCode, !listed, listed)
		}
	}
}

// TestMadeUpMethodsAndRequestIDsStayBounded: a made-up HTTP method (Go
// reads one of nearly a megabyte) is labelled "other" in the metrics,
// where each used to add a series of its own for good; a client's
// X-Request-ID longer than 128 characters or with spaces is replaced by a
// fresh one, since it is logged and recorded with the events a write
// makes; a usable one is kept.
func TestMadeUpMethodsAndRequestIDsStayBounded(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	host := strings.TrimPrefix(h.url, "http://")
	for i := range 5 {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "M%03d%s / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i, strings.Repeat("A", 100_000))
		_, _ = io.ReadAll(conn)
		conn.Close()
	}
	_, body := h.get("/metrics")
	if strings.Contains(string(body), "M000") || !strings.Contains(string(body), `method="other"`) || len(body) > 200_000 {
		t.Errorf("the made-up methods are labelled as sent (%d bytes of metrics)", len(body))
	}
	for sent, kept := range map[string]bool{"order-42": true, strings.Repeat("r", 129): false, "two words": false} {
		req, err := http.NewRequest(http.MethodGet, h.url+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Request-ID", sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-ID")
		if (got == sent) != kept || got == "" || len(got) > 128 {
			t.Errorf("X-Request-ID %.20q answered as %.20q; kept %v, want %v", sent, got, got == sent, kept)
		}
	}
}

// TestSearchPageShowsADesignsLocarnoClass: a design listed with its
// Locarno class only is found by the class and shows it on the search page.
func TestSearchPageShowsADesignsLocarnoClass(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	digits := "202130000001"
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	n := "ZL" + digits + "." + string(c)
	from := func(s string) domain.Date { d, _ := domain.ParseDate(s); return d }
	if _, err := h.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: n, Title: "包装盒", PatenteeIDs: []string{h.uni},
		Locarno: "09-01", FiledOn: from("2021-07-01"), GrantedOn: from("2022-01-10")}); err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.FileDeclaration(ctx, admin, domain.PatentNumber(n), domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree},
		TermMonths: 12, DeclaredOn: h.svc.Today(), EvaluationReportRef: "PJ-2022-001"})
	if err != nil {
		t.Fatal(err)
	}
	h.getJSON(fmt.Sprintf("/v1/listings?min_position=%d", res.Position), &struct{}{})
	resp, page := h.get("/?lang=en&q=09-01")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), n) || !strings.Contains(string(page), "Locarno class 09-01") {
		t.Errorf("q=09-01: %d\n%s", resp.StatusCode, page)
	}
}

// readsOnAFullDisk is a projection whose disk is full from the second
// organisation on, until room is made: it caps the read-model file at its
// size (PRAGMA max_page_count, as on a full disk) and writes more than the
// file's free pages hold.
type readsOnAFullDisk struct{ room *atomic.Bool }

func (readsOnAFullDisk) Name() string     { return "cramped" }
func (readsOnAFullDisk) Tables() []string { return []string{"cramped"} }
func (readsOnAFullDisk) Schema() []string {
	return []string{"CREATE TABLE cramped (id TEXT, pad BLOB)"}
}
func (p readsOnAFullDisk) Apply(tx *projections.Tx, e domain.RecordedEvent, _ domain.Event) error {
	limit := "PRAGMA max_page_count = 4294967294"
	if e.Position >= 2 && !p.room.Load() {
		limit = "PRAGMA max_page_count = 1"
	}
	if err := tx.Exec(limit); err != nil {
		return err
	}
	return tx.Exec("INSERT INTO cramped (id, pad) VALUES (?, zeroblob(65536))", e.ID)
}

// TestReadsReportAProjectionWaitingForItsDisk: /healthz says a projection
// whose disk is full waits (not that it stopped), and once there is room
// it goes on by itself and the server is healthy again.
func TestReadsReportAProjectionWaitingForItsDisk(t *testing.T) {
	room := &atomic.Bool{}
	h := newReadsHarness(t, readsOptions{projections: append(projections.All(), readsOnAFullDisk{room: room})})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := h.get("/healthz")
		if resp.StatusCode == http.StatusServiceUnavailable {
			if !strings.Contains(string(body), "cramped waits at position") || !strings.Contains(string(body), "disk is full") ||
				resp.Header.Get("Retry-After") != "60" {
				t.Fatalf("health: Retry-After %q, %s", resp.Header.Get("Retry-After"), body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never reported the waiting projection: %d %s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	room.Store(true)
	for {
		resp, body := h.get("/healthz")
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("health once there is room: %d %s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
