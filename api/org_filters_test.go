package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestOrgFiltersNameAnOrganisation: a tally, the review coverage or the
// listings filtered by an organisation's ID in capitals answer as with the
// ID in lower case; an ID that names no organisation (unknown, or with a
// space around it) is refused naming its parameter, not answered with
// figures of zero that look like no activity.
func TestOrgFiltersNameAnOrganisation(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	routes := []struct{ path, param, id string }{
		{"/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31", "patentee_id", h.uni},
		{"/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31", "licensee_id", h.sme},
		{"/v1/tallies/fees?period=year&from=2024-01-01&to=2024-12-31", "licensee_id", h.sme},
		{"/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31", "patentee_id", h.uni},
		{"/v1/listings?limit=5", "patentee_id", h.uni},
	}
	for _, r := range routes {
		get := func(id string) (*http.Response, []byte) {
			return h.getAny(r.path + "&min_position=" + pos + "&" + r.param + "=" + url.QueryEscape(id))
		}
		_, lower := get(r.id)
		if resp, upper := get(strings.ToUpper(r.id)); resp.StatusCode != http.StatusOK || !bytes.Equal(upper, lower) {
			t.Errorf("%s with %s in capitals: %d %s\nin lower case: %s", r.path, r.param, resp.StatusCode, upper, lower)
		}
		if bytes.Contains(lower, []byte(`"total":{"values":[0`)) || bytes.Contains(lower, []byte(`"items":[]`)) {
			t.Errorf("%s with %s: the harness's organisation has no figures: %s", r.path, r.param, lower)
		}
		for _, id := range []string{"0190a5b2-7c3e-7d4f-9a1b-2c3d4e5f6a02", " " + r.id, r.id + " ", "x"} {
			resp, body := get(id)
			var p struct {
				Code   string `json:"code"`
				Errors []struct{ Field, Message string }
			}
			if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest || p.Code != "invalid_argument" ||
				len(p.Errors) != 1 || p.Errors[0].Field != r.param || !strings.HasPrefix(p.Errors[0].Message, "no organisation ") {
				t.Errorf("%s with %s=%q: %d %s", r.path, r.param, id, resp.StatusCode, body)
			}
		}
	}
}

// TestSearchPageNamesAnUnknownPatentee: the search page filtered by an ID
// that names no organisation says so beside its form (400), as the API
// does, rather than "0 patents"; the ID in capitals finds the patentee's
// listings.
func TestSearchPageNamesAnUnknownPatentee(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	h.getWith("/v1/listings?min_position=" + pos) // the page takes no min_position: wait through the API
	status, page := h.getPage("/?patentee_id=0190a5b2-7c3e-7d4f-9a1b-2c3d4e5f6a02", "zh")
	if status != http.StatusBadRequest || !strings.Contains(page, `专利权人：没有机构 &#34;0190a5b2-7c3e-7d4f-9a1b-2c3d4e5f6a02&#34;`) || !strings.Contains(page, `name="q"`) {
		t.Errorf("an unknown patentee: %d\n%s", status, page)
	}
	status, page = h.getPage("/?patentee_id="+strings.ToUpper(h.uni), "zh")
	if status != http.StatusOK || !strings.Contains(page, "ZL") {
		t.Errorf("the patentee's ID in capitals: %d\n%s", status, page)
	}
}

// TestSearchForAPatentNumberOpensThePatent: a patent's number typed in the
// search box, as an SME copies it from a notice (with or without ZL and
// the check character), opens the patent's page, which the search over
// titles would not find; a number the ledger does not hold is searched as
// text.
func TestSearchForAPatentNumberOpensThePatent(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	n, _ := h.openLicence(1, domain.FeeTerms{Mode: domain.FeeFree}, "2024-03-01", 0)
	number := string(n)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, typed := range []string{number, " " + strings.ToLower(number) + " ", strings.TrimPrefix(number, "ZL"), number[2:14]} {
		resp, err := client.Get(h.url + "/?lang=en&q=" + url.QueryEscape(typed))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/patents/"+number+"?lang=en" {
			t.Errorf("q=%q: %d to %q, want the patent's page", typed, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if status, page := h.getPage("/?q=ZL209910000001.3", "zh"); status != http.StatusOK || !strings.Contains(page, `name="q"`) {
		t.Errorf("a number the ledger does not hold: %d\n%s", status, page)
	}
}

// TestSearchPageShowsThePatenteeFilter: a search filtered by a patentee (a
// result's patentee followed) names the patentee above its form and links
// to the same search over every patentee, which keeps the other filters
// and starts again at the first page; a search without one shows neither
// (a11y audit F3: the filter was an invisible field that every later
// search kept).
func TestSearchPageShowsThePatenteeFilter(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	h.getWith("/v1/listings?min_position=" + pos)
	status, page := h.getPage("/?patentee_id="+h.uni+"&q=%E7%94%B5%E6%B1%A0&page=3&lang=en", "")
	want := `<p class="filter-note" id="patentee-filter">Only patents of this patentee: <strong lang="zh-CN">华南理工大学</strong> · ` +
		`<a href="/?lang=en&amp;q=%E7%94%B5%E6%B1%A0">Search every patentee</a></p>`
	if status != http.StatusOK || !strings.Contains(page, want) {
		t.Errorf("a search by a patentee: %d, want %s in\n%s", status, want, page)
	}
	status, page = h.getPage("/?patentee_id="+h.uni+"&lang=en", "")
	if status != http.StatusOK || !strings.Contains(page, `Only patents of this patentee: <strong lang="zh-CN">华南理工大学</strong> · <a href="/?lang=en">`) {
		t.Errorf("a search by a patentee alone: %d\n%s", status, page)
	}
	if _, page := h.getPage("/?patentee_id="+h.sme+"&lang=en", ""); !strings.Contains(page, "Patents found: 0") {
		t.Errorf("a search by a patentee of no listed patent found some:\n%s", page)
	}
	if _, page := h.getPage("/?lang=en", ""); strings.Contains(page, "patentee-filter") {
		t.Errorf("a search without a patentee names one:\n%s", page)
	}
}
