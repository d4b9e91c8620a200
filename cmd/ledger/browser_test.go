package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the headless browser for the browser tests, or skips the
// test loudly: CI installs Debian's chromium package (.ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("LEDGER_TEST_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		t.Skip("SKIPPED: no Chromium for the browser tests — install Debian's chromium package or set LEDGER_TEST_CHROMIUM to its path")
	}
	return path
}

// newBrowser starts headless Chromium; on failure the test saves a
// screenshot of the last page under $LEDGER_TEST_ARTIFACTS (default
// ./test-artifacts) for CI to keep.
func newBrowser(t *testing.T) (context.Context, func(name string)) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(412, 915))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	shot := func(name string) {
		dir := os.Getenv("LEDGER_TEST_ARTIFACTS")
		if dir == "" {
			dir = "test-artifacts"
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil || os.MkdirAll(dir, 0o755) != nil {
			return
		}
		path := filepath.Join(dir, name+".png")
		if os.WriteFile(path, png, 0o644) == nil {
			t.Logf("screenshot saved: %s", path)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			shot(t.Name())
		}
	})
	return ctx, shot
}

// TestBrowserUniversityDeclaresThroughTheForm signs in as a university in a
// phone-width headless Chromium, opens its patent, declares an open licence
// through the form and sees it on the page, in English (as the browser asks)
// and in Chinese, and listed by the search page.
func TestBrowserUniversityDeclaresThroughTheForm(t *testing.T) {
	ctx, _ := newBrowser(t)
	s := startServer(t)
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")

	err := do(ctx,
		chromedp.Navigate(s.base+"/signin"),
		chromedp.SendKeys(chromedp.ID("key"), p.uniKey),
		chromedp.Submit(chromedp.ID("key")),
		chromedp.WaitVisible(chromedp.CSS("main dl.facts")), // the signed-in view has loaded
		chromedp.Navigate(s.base+"/patents/"+n),
	)
	if err != nil {
		t.Fatal(err)
	}
	if misplaced := labelsOutOfPlace(t, ctx); len(misplaced) > 0 {
		t.Fatalf("form labels not right above their boxes: %v", misplaced)
	}
	err = do(ctx,
		chromedp.SetValue(chromedp.ID("mode"), "lump_sum"),
		chromedp.SetValue(chromedp.ID("lump_sum_yuan"), "50,000"),
		chromedp.SetValue(chromedp.ID("term_months"), "24"),
		chromedp.Click(chromedp.CSS(`#declare-h + form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatal(err)
	}
	notice := text(t, ctx, ".notice")
	fee := text(t, ctx, "dd.fee")
	if err := do(ctx, chromedp.Navigate(s.base+"/patents/"+n+"?lang=zh")); err != nil {
		t.Fatal(err)
	}
	feeZH := text(t, ctx, "dd.fee")
	// Headless Chromium asks for English (Accept-Language); ?lang=zh switches.
	if !strings.Contains(notice, "Recorded at ledger position") || fee != "Lump sum ¥50,000.00" || feeZH != "一次性支付 ¥50,000.00" {
		t.Fatalf("after the form: notice %q, fee %q / %q", notice, fee, feeZH)
	}
	// The declared patent is now listed: the search page finds it.
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", s.head(t)), "", nil), 200)
	if err := do(ctx, chromedp.Navigate(s.base+"/?q="+url.QueryEscape("固态锂电池")), chromedp.WaitVisible(chromedp.CSS(".results"))); err != nil {
		t.Fatalf("the declared patent is not listed: %v", err)
	}
	if got := text(t, ctx, ".result-title a"); got != "一种固态锂电池电解质及其制备方法" {
		t.Fatalf("the search lists %q", got)
	}
	view := must(t, s.call(t, "GET", "/v1/patents/"+n, "", nil), 200)
	decl, _ := view.body["declaration"].(map[string]any)
	if decl == nil || decl["term_months"] != float64(24) {
		t.Fatalf("the API does not show the form's declaration: %s", view.raw)
	}
}

// labelsOutOfPlace returns the boxes of the page's forms whose labels are
// not right above them, at the same left edge: a form laid out in a row
// puts one box's label beside another box.
func labelsOutOfPlace(t *testing.T, ctx context.Context) []string {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	out, err := chromedp.Run(step, chromedp.Evaluate[[]string](`[...document.querySelectorAll("form label[for]")].filter(l => {
		const lr = l.getBoundingClientRect(), br = document.getElementById(l.htmlFor).getBoundingClientRect();
		return !(lr.bottom <= br.top + 1 && Math.abs(lr.left - br.left) < 2);
	}).map(l => l.htmlFor)`))
	if err != nil {
		t.Fatalf("the labels' places: %v", err)
	}
	return out
}

// text returns the text of the first element matching the CSS selector.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(v)
}

// stepTimeout bounds each browser step, so a failing test still has a live
// browser to take its screenshot with.
const stepTimeout = 20 * time.Second

// do runs browser steps within stepTimeout.
func do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	step, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(step, steps...)
}

// waitForQuery waits until the browser shows the page of the search q,
// through the navigation a submitted form starts.
func waitForQuery(t *testing.T, ctx context.Context, q string) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		step, cancel := context.WithTimeout(ctx, time.Second)
		got, err := chromedp.Run(step, chromedp.Evaluate[string](`new URLSearchParams(location.search).get("q") || ""`))
		cancel()
		if err == nil && got == q {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page of the search %q did not load (at %q, %v)", q, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listedWorld registers and declares patents with the given titles and
// has the SMEs take licences in 2024, then waits until the read models
// have caught up. It returns the numbers.
func listedWorld(t *testing.T, s *server, p parties, titles []string) []string {
	t.Helper()
	var numbers []string
	for i, title := range titles {
		digits := fmt.Sprintf("20201%07d", 100+i)
		n := patentNumber(t, digits)
		must(t, s.call(t, "POST", "/v1/patents", p.uniKey, map[string]any{"number": n, "title": title,
			"patentee_ids": []string{p.uni}, "ipc": []string{"H01M 10/0562"}, "filed_on": "2020-03-15", "granted_on": "2022-01-10"}), 201)
		declID := s.declare(t, p, n)
		for j, who := range []struct{ id, key string }{{p.sme, p.smeKey}, {p.sme2, p.sme2Key}}[:1+i%2] {
			body := openLicenseBody(who.id, declID)
			body["effective_on"] = fmt.Sprintf("2024-%02d-15", 3+i+j)
			must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", who.key, body), 201)
		}
		numbers = append(numbers, n)
	}
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", s.head(t)), "", nil), 200)
	return numbers
}

var listedTitles = []string{"一种固态锂电池电解质及其制备方法", "一种芯片封装结构", "基于图像识别的电池缺陷检测系统", "一种污水处理装置"}

// TestBrowserSearchInChinese types a Chinese query on the search page and
// sees exactly the patents the listings API finds.
func TestBrowserSearchInChinese(t *testing.T) {
	ctx, _ := newBrowser(t)
	s := startServer(t)
	p := s.parties(t)
	listedWorld(t, s, p, listedTitles)
	api := must(t, s.call(t, "GET", "/v1/listings?q="+url.QueryEscape("电池"), "", nil), 200)
	var want []string
	for _, it := range api.body["items"].([]any) {
		want = append(want, it.(map[string]any)["title"].(string))
	}
	if len(want) != 2 {
		t.Fatalf("the API finds %v", want)
	}
	if err := do(ctx, chromedp.Navigate(s.base+"/?lang=zh"), chromedp.SendKeys(chromedp.ID("q"), "电池"),
		chromedp.Submit(chromedp.ID("q"))); err != nil {
		t.Fatal(err)
	}
	// The page without a query lists everything too: wait for the page of
	// the submitted query before reading the results.
	waitForQuery(t, ctx, "电池")
	if err := do(ctx, chromedp.WaitVisible(chromedp.CSS(".results"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".result-title a")).map(a => a.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the page shows %v, the API %v", got, want)
	}
	// The content security policy lets the page's own stylesheet apply.
	rules, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0)`))
	if err != nil || rules == 0 {
		t.Fatalf("the page applies %d style rules (%v)", rules, err)
	}
	if err := do(ctx, chromedp.Navigate(s.base+"/?q="+url.QueryEscape("区块链")), chromedp.WaitVisible(chromedp.CSS(".empty"))); err != nil {
		t.Fatalf("a search that finds nothing must say so: %v", err)
	}
}

// TestBrowserDashboardMatchesTallies opens the dashboard for 2024 and
// checks that the deals chart's total is the tally API's.
func TestBrowserDashboardMatchesTallies(t *testing.T) {
	ctx, _ := newBrowser(t)
	s := startServer(t)
	p := s.parties(t)
	listedWorld(t, s, p, listedTitles)
	q := "period=month&from=2024-01-01&to=2024-12-31"
	// listedWorld waits for the listings only: wait for the tallies too, or
	// the API could answer before the last deals and the page after them.
	tally := must(t, s.call(t, "GET", fmt.Sprintf("/v1/tallies/deals?%s&min_position=%d", q, s.head(t)), "", nil), 200)
	want := fmt.Sprint(tallyTotal(t, tally, "deals"))
	if err := do(ctx, chromedp.Navigate(s.base+"/dashboard?"+q), chromedp.WaitVisible(chromedp.CSS("#chart-deals svg"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#chart-deals .total"); got != want || want == "0" {
		t.Fatalf("the chart's total is %s, the API's %s", got, want)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart-deals rect.bar").length`))
	if err != nil || bars != 12 {
		t.Fatalf("want 12 monthly bars, got %d (%v)", bars, err)
	}
	checkChartReadableOnAPhone(t, ctx)
}

// checkChartReadableOnAPhone checks, in the phone-width browser, that the
// deals chart's axis labels are drawn at 9 px or more (the chart scrolls in
// its box rather than shrink to the screen) and that the page itself does
// not scroll sideways.
func checkChartReadableOnAPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	labelPx, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
		const svg = document.querySelector("#chart-deals svg");
		const font = parseFloat(getComputedStyle(svg.querySelector("text.axis")).fontSize);
		return font * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
	})()`))
	if err != nil || labelPx < 9 {
		t.Errorf("the chart's axis labels are drawn at %.1f px on a phone, want 9 or more (%v)", labelPx, err)
	}
	pageWider, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || pageWider {
		t.Errorf("the dashboard scrolls sideways on a phone (%v)", err)
	}
}

// tallyTotal reads a column of a tally answer's total.
func tallyTotal(t *testing.T, r reply, column string) int64 {
	t.Helper()
	total, ok := r.body["total"].(map[string]any)
	if !ok {
		t.Fatalf("no total in %s", r.raw)
	}
	v, _ := total[column].(float64)
	return int64(v)
}
