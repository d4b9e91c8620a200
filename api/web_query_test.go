package api_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
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
// the dashboard answer 400 in the page's language, naming the parameter,
// for a query they cannot read (a broken %-escape, a ';') and a parameter
// given twice (of which only the first would count), rather than silently
// showing other figures; the page keeps its form, to correct the query
// (it showed the problem alone, a dead end).
func TestSearchAndDashboardRefuseQueriesTheyCannotRead(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	for _, tc := range []struct{ path, want string }{
		{"/?q=%ZZ", "关键词：%-转义有误（&#34;q=%ZZ&#34;）"},
		{"/?q=a;b", "关键词：含有“;”，它不分隔参数"},
		{"/?q=" + url.QueryEscape("电池") + "&q=" + url.QueryEscape("芯片"), "关键词：给出了 2 次；请只给一次"},
		{"/?lang=en&q=%ZZ", "Keywords: has a malformed %-escape in &#34;q=%ZZ&#34;"},
		{"/?utm_source=wechat&q=%ZZ", "关键词：%-转义有误（&#34;q=%ZZ&#34;）"},
		{"/dashboard?period=year&period=month", "统计周期：给出了 2 次；请只给一次"},
		{"/dashboard?period=year&period=month&lang=en", "Period: is given 2 times; give it once"},
		{"/dashboard?from=2024-01-01%", "起始日：%-转义有误"},
		{"/dashboard?to=2024-12-31;from=2024-01-01", "截止日：含有“;”"},
		{"/dashboard?from=singlemessage&isappinstalled=0", "起始日：日期 &#34;singlemessage&#34; 不是 YYYY-MM-DD 格式"},
	} {
		status, page := h.getPage(tc.path, "")
		form := `<form method="get" action="` + strings.SplitN(tc.path, "?", 2)[0] + `"`
		if status != http.StatusBadRequest || !strings.Contains(page, tc.want) || !strings.Contains(page, form) {
			t.Errorf("GET %s: %d, want 400 saying %q, and the page's form:\n%s", tc.path, status, tc.want, page)
		}
	}
}

// TestSearchAndDashboardIgnoreParametersTheyDoNotTake: a parameter the
// search page or the dashboard does not take, as links shared by WeChat or
// e-mail carry (utm_source, from, isappinstalled), is ignored: the page
// shows what the rest asks for, and its links do not carry it on (it
// answered an error page without the form). The API still refuses it.
func TestSearchAndDashboardIgnoreParametersTheyDoNotTake(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.caughtUp(h.declared(2))
	for path, want := range map[string]string{
		"/?utm_source=wechat&limit=1&from=singlemessage&isappinstalled=0": `符合条件的专利： 2 · 本页：1–1</p>`,
		"/?lang=en&foo=1&q=" + url.QueryEscape("电池"):                      "Patents found: 2",
		"/dashboard?foo=bar&to=2025-12-31":                                "截至 2025-12-31 尚无存量专利盘活评价记录。",
	} {
		status, page := h.getPage(path, "")
		if status != http.StatusOK || !strings.Contains(page, want) || strings.Contains(page, "utm_source") ||
			strings.Contains(page, "isappinstalled") || strings.Contains(page, "foo") {
			t.Errorf("GET %s: %d, want 200 saying %q, and no link carrying what the page does not take:\n%s", path, status, want, page)
		}
	}
	if resp, _ := h.getAny("/v1/listings?utm_source=wechat"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the API takes a parameter it does not know: %d", resp.StatusCode)
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
	h.caughtUp(h.declared(2))
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
	h.caughtUp(h.declared(1))
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
	h.caughtUp(h.declared(1))
	for lang, want := range map[string]string{
		"zh": `<desc id="deals-desc">许可成交（件），按月，2024-01-01 至 2024-12-31，合计 1。</desc>`,
		"en": `<desc id="deals-desc">Licences concluded (Monthly), 2024-01-01 to 2024-12-31: 1 in all.</desc>`,
	} {
		if _, page := h.getPage("/dashboard?from=2024-01-01&to=2024-12-31&lang="+lang, ""); !strings.Contains(page, want) {
			t.Errorf("lang=%s: want %s in\n%s", lang, want, page)
		}
	}
}

// TestSearchAndDashboardMarkTheFieldAtFault: a search or dashboard query
// refused for a field marks that field invalid, with what is wrong beside
// it and the focus on it, and the dashboard keeps what was asked: the
// campaign, and a period it does not offer, shown chosen rather than
// another.
func TestSearchAndDashboardMarkTheFieldAtFault(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	for path, want := range map[string][]string{
		"/?kind=foo": {`<select id="kind" name="kind" aria-invalid="true" aria-describedby="kind-problem problem" autofocus>`,
			`<p class="field-problem" id="kind-problem">未知的专利类型 &#34;foo&#34;；应为发明、实用新型或外观设计</p>`},
		"/?region=abc": {`<input id="region" name="region" aria-invalid="true" aria-describedby="region-problem problem" autofocus`},
		"/dashboard?period=week&campaign=2024": {`<select id="period" name="period" aria-invalid="true" aria-describedby="period-problem problem" autofocus>`,
			`<option value="week" selected>week</option></select><p class="field-problem" id="period-problem">应为月、季度或年</p>`,
			`<input id="campaign" name="campaign" value="2024"`},
	} {
		status, page := h.getPage(path, "")
		for _, w := range want {
			if status != http.StatusBadRequest || !strings.Contains(page, w) {
				t.Errorf("GET %s: %d, want 400 and %s in\n%s", path, status, w, page)
			}
		}
	}
}

// TestSearchPageSaysWhatItsFieldsMean: the search page names its page
// parameter as a page number (it read "page：应为…"), and says beside the
// maximum fee that it limits the fixed fee only, royalties aside: a
// royalty-only licence counts as fee 0 and is listed under any maximum.
func TestSearchPageSaysWhatItsFieldsMean(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.caughtUp(h.declared(1))
	for path, want := range map[string]string{
		"/?page=0":         "<li>页码：应为 1 到 1000000 之间的整数</li>",
		"/?page=0&lang=en": "<li>Page number: must be an integer from 1 to 1000000</li>",
	} {
		if status, page := h.getPage(path, ""); status != http.StatusBadRequest || !strings.Contains(page, want) {
			t.Errorf("GET %s: %d, want 400 saying %q:\n%s", path, status, want, page)
		}
	}
	for lang, want := range map[string]string{"zh": "只限定固定费用（一次性金额、分期合计或入门费）；提成不计入，只收提成的按 0 计。",
		"en": "Limits the fixed fee only (lump sum, instalments in all, or entry fee); royalties are not counted, royalty-only terms count as 0."} {
		_, page := h.getPage("/?lang="+lang, "")
		if !strings.Contains(page, `aria-describedby="max_fee_yuan-hint"`) || !strings.Contains(page, `<small class="hint" id="max_fee_yuan-hint">`+want+"</small>") {
			t.Errorf("lang=%s: the maximum fee does not say %q:\n%s", lang, want, page)
		}
	}
}

// TestDashboardRankingNamesItsUnit: the ranking says what its figures
// count ("华南理工大学 — 36" said nothing), and over what range.
func TestDashboardRankingNamesItsUnit(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.caughtUp(h.declared(1))
	for lang, want := range map[string]string{
		"zh": `<p class="muted" id="ranking-unit">各数字为 2024-01-01 至 2024-12-31 期间达成的许可数（项）。</p>
<ol aria-describedby="ranking-unit"><li><span lang="zh-CN">华南理工大学</span> — 1</li></ol>`,
		"en": `<p class="muted" id="ranking-unit">Each figure is the number of licences concluded from 2024-01-01 to 2024-12-31.</p>`,
	} {
		if _, page := h.getPage("/dashboard?from=2024-01-01&to=2024-12-31&lang="+lang, ""); !strings.Contains(page, want) {
			t.Errorf("lang=%s: want %s in\n%s", lang, want, page)
		}
	}
}

// TestDashboardAndSearchMarkRegionsAndLanguages: on the dashboard the
// districts' table scrolls in a named keyboard region of its own, so that
// a phone's page does not scroll sideways with it (WCAG 1.4.10, 2.1.1),
// and an English search page marks the Chinese titles it lists as Chinese
// (WCAG 3.1.2).
func TestDashboardAndSearchMarkRegionsAndLanguages(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.caughtUp(h.declared(1))
	for path, want := range map[string]string{
		"/dashboard?from=2024-01-01&to=2024-12-31&lang=en": `<div class="scroll" tabindex="0" role="region" aria-label="Licences by district"><table>`,
		"/dashboard?from=2024-01-01&to=2024-12-31":         `<div class="scroll" tabindex="0" role="region" aria-label="`,
		"/?lang=en": `" lang="zh-CN">一种固态锂电池电解质</a></h2>`,
	} {
		if status, page := h.getPage(path, ""); status != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("GET %s: %d, want %s in\n%s", path, status, want, page)
		}
	}
	// The figures under a chart are a table named by its caption (a11y audit F5: it had no name).
	if _, page := h.getPage("/dashboard?from=2024-01-01&to=2024-12-31&lang=en", ""); !strings.Contains(page,
		`<details><summary>Figures</summary>
  <table><caption>Licences concluded</caption><thead>`) {
		t.Errorf("the dashboard's figures are not named by a caption:\n%s", page)
	}
}

// TestSearchSuggestsThePatenteesRegions: the search page's region field
// suggests the cities and districts of the organisations holding patents,
// named, a city before its districts, and no region where no patentee is.
func TestSearchSuggestsThePatenteesRegions(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.declared(1)
	h.shanghaiDeals()
	_, page := h.getPage("/?lang=en", "")
	start, end := strings.Index(page, `<datalist id="regions">`), strings.Index(page, `</datalist>`)
	if start < 0 || end < start {
		t.Fatalf("no region suggestions in\n%s", page)
	}
	want := `<datalist id="regions"><option value="3101">上海市</option><option value="310104">徐汇区</option>` +
		`<option value="4401">Guangzhou</option><option value="440106">Tianhe</option>`
	if got := page[start:end]; got != want {
		t.Errorf("suggestions\n%s\nwant\n%s", got, want)
	}
}
