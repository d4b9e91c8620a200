package api_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// getPage answers a GET of path as a browser asks for it (HTML, in the
// language of acceptLanguage when not ""); redirects are followed.
func (h *readsHarness) getPage(path, acceptLanguage string) (int, string) {
	h.t.Helper()
	header := []string{"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
	if acceptLanguage != "" {
		header = append(header, "Accept-Language", acceptLanguage)
	}
	resp, body := h.getAny(path, header...)
	return resp.StatusCode, string(body)
}

// TestSearchAndDashboardRefuseQueriesTheyCannotRead: the search page and
// the dashboard answer 400 with an error page in the page's language,
// naming the parameter, for a query they cannot read (a broken %-escape, a
// ';'), a parameter given twice (of which only the first would count) and
// one they do not take, rather than silently showing other figures.
func TestSearchAndDashboardRefuseQueriesTheyCannotRead(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	for _, tc := range []struct{ path, want string }{
		{"/?q=%ZZ", "关键词：%-转义有误（&#34;q=%ZZ&#34;）"},
		{"/?q=a;b", "关键词：含有“;”，它不分隔参数"},
		{"/?q=" + url.QueryEscape("电池") + "&q=" + url.QueryEscape("芯片"), "关键词：给出了 2 次；请只给一次"},
		{"/?foo=1", "foo：不是该地址的参数；可用参数为 cursor, fee_mode, ipc, kind, lang, limit, max_fee_fen, max_fee_yuan, page, patentee_id, q, region, sort"},
		{"/?lang=en&foo=1", "foo: is not a parameter of this route; it takes cursor, fee_mode"},
		{"/?lang=en&q=%ZZ", "Keywords: has a malformed %-escape in &#34;q=%ZZ&#34;"},
		{"/dashboard?period=year&period=month", "统计周期：给出了 2 次；请只给一次"},
		{"/dashboard?period=year&period=month&lang=en", "Period: is given 2 times; give it once"},
		{"/dashboard?foo=1", "foo：不是该地址的参数；可用参数为 campaign, from, lang, period, to"},
		{"/dashboard?from=2024-01-01%", "起始日：%-转义有误"},
		{"/dashboard?to=2024-12-31;from=2024-01-01", "截止日：含有“;”"},
	} {
		status, page := h.getPage(tc.path, "")
		if status != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("GET %s: %d, want 400 saying %q:\n%s", tc.path, status, tc.want, page)
		}
	}
}

// TestSearchAndDashboardLinksAndFormsWork follows every link of the search
// page (a page of results with the next page's link and the patentees'
// links) and of the dashboard, and submits each of their forms as a browser
// would, in both languages and with Chinese chosen against an English
// browser: none may be refused as a query the page does not take.
func TestSearchAndDashboardLinksAndFormsWork(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.get("/v1/listings?min_position=" + strconv.FormatInt(h.declared(2), 10)) // the pages do not wait for the read models
	href := regexp.MustCompile(`href="(/[^"]*)"`)
	followed := 0
	for _, start := range []string{"/?limit=1", "/?q=" + url.QueryEscape("电池") + "&sort=relevance&limit=1", "/dashboard"} {
		for _, lang := range []struct{ query, accept string }{{"", ""}, {"&lang=en", ""}, {"&lang=zh", "en"}} {
			path := start + lang.query
			if !strings.Contains(path, "?") {
				path = strings.Replace(path, "&", "?", 1)
			}
			status, page := h.getPage(path, lang.accept)
			if status != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", path, status, page)
			}
			targets := []string{}
			for _, m := range href.FindAllStringSubmatch(page, -1) {
				targets = append(targets, html.UnescapeString(m[1]))
			}
			targets = append(targets, formQueries(t, page)...)
			if strings.HasPrefix(start, "/?") && (!anyContains(targets, "cursor=") || !anyContains(targets, "patentee_id=")) {
				t.Fatalf("%s: no next page or patentee link among %q", path, targets)
			}
			for _, target := range targets {
				followed++
				if status, body := h.getPage(target, lang.accept); status != http.StatusOK {
					t.Errorf("%s links to %s, which answers %d:\n%.3000s", path, target, status, body)
				}
			}
		}
	}
	if followed < 60 {
		t.Fatalf("only %d links and forms followed", followed)
	}
}

// anyContains reports whether any of targets contains s.
func anyContains(targets []string, s string) bool {
	for _, target := range targets {
		if strings.Contains(target, s) {
			return true
		}
	}
	return false
}

// formQueries returns the address each GET form of page submits to as a
// browser submits it untouched: every named input with its value, and
// every select with its selected option (or its first).
func formQueries(t *testing.T, page string) []string {
	t.Helper()
	forms := regexp.MustCompile(`(?s)<form method="get" action="([^"]*)"[^>]*>(.*?)</form>`).FindAllStringSubmatch(page, -1)
	if len(forms) == 0 {
		t.Fatal("the page has no GET form")
	}
	attr := func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	var out []string
	for _, form := range forms {
		q := url.Values{}
		for _, input := range regexp.MustCompile(`<input[^>]*>`).FindAllString(form[2], -1) {
			if name, ok := attr(input, "name"); ok {
				value, _ := attr(input, "value")
				q.Add(name, value)
			}
		}
		for _, sel := range regexp.MustCompile(`(?s)<select[^>]*>.*?</select>`).FindAllString(form[2], -1) {
			name, _ := attr(sel, "name")
			options := regexp.MustCompile(`<option[^>]*>`).FindAllString(sel, -1)
			value := ""
			for i, option := range options {
				if v, _ := attr(option, "value"); i == 0 || strings.Contains(option, " selected") {
					value = v
				}
			}
			q.Add(name, value)
		}
		out = append(out, html.UnescapeString(form[1])+"?"+q.Encode())
	}
	return out
}

// TestDashboardSaysWhenNoReviewCovers: the dashboard says so when no
// review is recorded by its last day, and when the campaign asked for has
// no review of a university's active patent (a campaign mistyped), rather
// than showing nothing or bare zeros.
func TestDashboardSaysWhenNoReviewCovers(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.get("/v1/listings?min_position=" + strconv.FormatInt(h.declared(1), 10))
	for path, want := range map[string]string{
		"/dashboard?to=2025-12-31":                       "截至 2025-12-31 尚无存量专利盘活评价记录。",
		"/dashboard?to=2025-12-31&lang=en":               "No stock-patent review is recorded by 2025-12-31.",
		"/dashboard?to=2025-12-31&campaign=nope":         "盘活批次 nope 截至 2025-12-31 没有覆盖任何高校有效专利的评价记录，覆盖率均为 0。",
		"/dashboard?to=2025-12-31&campaign=nope&lang=en": "No review of campaign nope covers a university&#39;s active patent by 2025-12-31: every share is 0.",
	} {
		if status, page := h.getPage(path, ""); status != http.StatusOK || !strings.Contains(page, `id="coverage-note">`+want+"</p>") {
			t.Errorf("GET %s: %d, want the note %q:\n%s", path, status, want, page)
		}
	}
}

// TestDashboardChartsDescribeThemselves: a chart's description, which a
// screen reader reads after its title, says what is charted, by what
// period, over what range, and the total.
func TestDashboardChartsDescribeThemselves(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.get("/v1/listings?min_position=" + strconv.FormatInt(h.declared(1), 10))
	for lang, want := range map[string]string{
		"zh": `<desc id="deals-desc">许可成交（件），按月，2024-01-01 至 2024-12-31，合计 1。</desc>`,
		"en": `<desc id="deals-desc">Licences concluded (Monthly), 2024-01-01 to 2024-12-31: 1 in all.</desc>`,
	} {
		if _, page := h.getPage("/dashboard?from=2024-01-01&to=2024-12-31&lang="+lang, ""); !strings.Contains(page, want) {
			t.Errorf("lang=%s: want %s in\n%s", lang, want, page)
		}
	}
}
