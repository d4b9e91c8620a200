package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// downloadRoute is a tally or ranking route with its query (without
// period, format, layout or lang) and the periods it takes ("" for none).
type downloadRoute struct {
	path    string
	periods []string
}

// everyDownloadRoute lists every tally and ranking route: the tallies in
// every period they take, the rankings by every metric.
func everyDownloadRoute() []downloadRoute {
	var routes []downloadRoute
	for _, s := range append(slices.Clone(projections.Subjects), projections.ExtraSubjects...) {
		periods := []string{}
		for _, p := range projections.Periods {
			if s != projections.FeeReductions || p == projections.Year {
				periods = append(periods, string(p))
			}
		}
		routes = append(routes, downloadRoute{"/v1/tallies/" + s + "?from=2024-01-01&to=2024-12-31", periods})
	}
	routes = append(routes, downloadRoute{"/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31", []string{""}},
		downloadRoute{"/v1/tallies/deals-by-region?from=2024-01-01&to=2024-12-31", []string{""}})
	for _, m := range []string{projections.MetricLicenses, "fees_fen", "declared", "conversion_bp"} {
		routes = append(routes, downloadRoute{"/v1/rankings/patentees?metric=" + m + "&from=2024-01-01&to=2024-12-31", []string{""}})
	}
	return routes
}

// TestEveryDownloadHoldsTheJSONFigures asks every tally (in every period)
// and every ranking for its JSON answer and its four files (CSV and Excel,
// layout data and report) in both languages, with a university whose name
// has a comma, quotes and a leading '=': the data files hold the JSON's
// figures, the reports the same figures with money in yuan and the total
// labelled in the language, their header blocks only translated filters;
// every number in Excel is a number cell.
func TestEveryDownloadHoldsTheJSONFigures(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	h.uni = h.org(3, `=HYPERLINK("http://x.example","点击"),大学`, domain.OrgUniversity, "440106", false)
	h.openLicence(1, domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 123_451}, "2024-03-01", 123_451)
	_, res := h.openLicence(2, domain.FeeTerms{Mode: domain.FeeFree}, "2024-05-20", 0)
	pos := strconv.FormatInt(res.Position, 10)
	for _, route := range everyDownloadRoute() {
		for _, period := range route.periods {
			path := route.path + "&min_position=" + pos
			if period != "" {
				path += "&period=" + period
			}
			want := jsonRows(t, h, path)
			_, body := h.getWith(path + "&format=csv")
			data, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			compareRows(t, path+" csv", data, csvEscaped(want))
			resp, body := h.getWith(path + "&format=xlsx")
			compareRows(t, path+" xlsx", xlsxRows(t, openXLSX(t, resp, body)), want)
			for _, lang := range []string{"zh", "en"} {
				resp, body := h.getWith(path + "&format=csv&layout=report&lang=" + lang)
				meta, report := splitCSV(t, body)
				checkHeaderBlock(t, path, lang, meta)
				checkFileName(t, path, resp.Header.Get("Content-Disposition"), meta[""], ".csv")
				compareReport(t, path+" csv "+lang, report, data, lang, false)
				resp, body = h.getWith(path + "&format=xlsx&layout=report&lang=" + lang)
				checkFileName(t, path, resp.Header.Get("Content-Disposition"), meta[""], ".xlsx")
				compareReport(t, path+" xlsx "+lang, reportSheet(t, path, openXLSX(t, resp, body), report[0][0]), data, lang, true)
			}
		}
	}
}

// withoutColumn returns rows without their column j.
func withoutColumn(rows [][]string, j int) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = slices.Delete(slices.Clone(row), j, min(j+1, len(row)))
	}
	return out
}

// csvEscaped returns rows with each text that a spreadsheet would run as
// a formula led by an apostrophe, as a CSV download shows it (OpenAPI:
// layout).
func csvEscaped(rows []map[string]string) []map[string]string {
	out := make([]map[string]string, len(rows))
	for i, row := range rows {
		out[i] = map[string]string{}
		for k, v := range row {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				v = "'" + v
			}
			out[i][k] = v
		}
	}
	return out
}

// checkFileName checks that a report's Content-Disposition is an
// attachment with an ASCII filename and an RFC 5987 filename* that
// starts with the report's title and ends like the ASCII one.
func checkFileName(t *testing.T, path, disposition, title, ext string) {
	t.Helper()
	ascii, _, _ := strings.Cut(strings.TrimPrefix(disposition, `attachment; filename="`), `"`)
	kind, params, err := mime.ParseMediaType(disposition)
	if err != nil || kind != "attachment" || !strings.HasSuffix(ascii, ext) ||
		strings.ContainsFunc(ascii, func(r rune) bool { return r > 0x7e || strings.ContainsRune(`/\:*?"<>|`, r) }) ||
		params["filename"] != title+"_"+ascii {
		t.Errorf("%s: Content-Disposition %q (%v): name %q", path, disposition, err, params["filename"])
	}
}

// checkHeaderBlock checks that every label of a Chinese report's header
// block is translated (IPC is the same in both languages).
func checkHeaderBlock(t *testing.T, path, lang string, meta map[string]string) {
	t.Helper()
	for label := range meta {
		if lang == "zh" && label != "" && label != "IPC" && !strings.ContainsFunc(label, func(r rune) bool { return r > 0x7f }) {
			t.Errorf("%s: header block row %q is no translated filter (%v)", path, label, meta)
		}
	}
}

// reportSheet returns the table of a report's sheet (from its heading row,
// whose first cell is first), the first column as shown, the others as
// raw cell values, and checks that every
// figure (a number in any column but the first, outside the review
// coverage's region codes) is a number cell.
func reportSheet(t *testing.T, path string, f *excelize.File, first string) [][]string {
	t.Helper()
	rows, head := sheetRows(t, f, first)
	sheet := f.GetSheetName(0)
	var out [][]string
	for i := head; i < len(rows); i++ {
		var row []string
		for j := range rows[i] {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: j > 0})
			if err != nil {
				t.Fatal(err)
			}
			_, isNumber := strconv.ParseFloat(v, 64)
			if typ, _ := f.GetCellType(sheet, cell); i > head && j > 0 && isNumber == nil && !strings.Contains(path, "coverage") &&
				typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("%s: %s %q is %v, not a number", path, cell, v, typ)
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}

// compareReport checks a report table against the data table of the same
// answer: the same figures, a ranking's rank first, money in yuan (text
// with two decimals in CSV, a number of yuan in Excel), the total row
// labelled in lang; a text that CSV shows with a leading apostrophe (a
// formula's start) is the text itself in Excel. The data table's columns
// after the report's hold the answer's figures outside its list and total
// (the review coverage's universities), on the total row only.
func compareReport(t *testing.T, name string, report, data [][]string, lang string, xlsx bool) {
	t.Helper()
	switch {
	case strings.Contains(name, "/deals-by-region"):
		report = withoutColumn(report, 1) // the region's name, beside its code (TestDealsByRegion)
	case strings.Contains(name, "/review-coverage"):
		report = withoutColumn(report, 3) // the region's name, beside its code (TestReviewCoverage)
	}
	if len(report) != len(data) {
		t.Fatalf("%s: %d rows, the data table %d", name, len(report), len(data))
	}
	offset := 0
	if strings.Contains(name, "/rankings/") {
		offset = 1 // the rank
	}
	width := len(report[0]) - offset
	for j := width; j < len(data[0]); j++ {
		for i := 1; i < len(data)-1; i++ {
			if cell(data[i], j) != "" {
				t.Errorf("%s: the data table's %s, which the report lacks, is %q in row %d", name, data[0][j], data[i][j], i)
			}
		}
	}
	total := map[string]string{"zh": "合计", "en": "Total"}[lang]
	for i := 1; i < len(data); i++ {
		if offset == 1 && report[i][0] != strconv.Itoa(i) {
			t.Errorf("%s: rank %q in row %d", name, report[i][0], i)
		}
		for j, d := range data[i][:min(width, len(data[i]))] {
			got, want := cell(report[i], j+offset), d
			switch {
			case j == 0 && i == len(data)-1 && (d == "total" || d == ""):
				want = total
			case i == len(data)-1 && data[0][j] == "name" && strings.Contains(name, "/review-coverage"):
				// The report's total row says over how many universities.
				n := cell(data[i], slices.Index(data[0], "universities"))
				want = map[string]string{"zh": "有效专利高校共" + n + "所", "en": "universities with active patents: " + n}[lang]
			case strings.HasSuffix(data[0][j], "_fen") || data[0][j] == "value" && strings.Contains(name, "fees_fen"):
				n, _ := strconv.ParseInt(d, 10, 64)
				want = fmt.Sprintf("%d.%02d", n/100, n%100)
				if xlsx {
					f, _ := strconv.ParseFloat(got, 64)
					got = fmt.Sprintf("%.2f", f)
				}
			case xlsx && strings.HasPrefix(d, "'="):
				want = d[1:]
			}
			if got != want {
				t.Errorf("%s: row %d %s = %q, want %q", name, i, data[0][j], got, want)
			}
		}
	}
}

// TestReportHeaderBlockNamesNoLayout: layout=report (what the dashboard
// links) chooses the file's form; it is no filter of the figures, so the
// header block does not list it.
func TestReportHeaderBlockNamesNoLayout(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, lang := range []string{"zh", "en"} {
		_, body := h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-12-31&format=csv&layout=report&lang=" + lang)
		meta, _ := splitCSV(t, body)
		if v, ok := meta["layout"]; ok || len(meta) != 6 {
			t.Errorf("%s: header block %v lists layout %q", lang, meta, v)
		}
		resp, body := h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-12-31&format=xlsx&layout=report&lang=" + lang)
		if rows := xlsxRows(t, openXLSX(t, resp, body)); slices.ContainsFunc(rows, func(r []string) bool { return slices.Contains(r, "layout") }) {
			t.Errorf("%s: the sheet lists layout: %q", lang, rows)
		}
	}
}

// TestDownloadFaultsAreNamedTogether: a bad format, a bad layout and a
// bad date of the same query are named in one 400 problem answer, on
// every tally and ranking route.
func TestDownloadFaultsAreNamedTogether(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for _, route := range everyDownloadRoute() {
		dateField := "to"
		if strings.Contains(route.path, "as_of=") {
			dateField = "as_of"
		}
		badDate := strings.Replace(route.path, dateField+"=2024-12-31", dateField+"=2024-02-30", 1)
		for path, fields := range map[string][]string{
			route.path + "&format=pdf&layout=pretty": {"format", "layout"},
			route.path + "&format=csv&layout=pretty": {"layout"},
			badDate + "&format=xlsx&layout=x":        {dateField, "layout"},
		} {
			resp, body := h.get(path)
			var p readsProblem
			if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusBadRequest ||
				resp.Header.Get("Content-Type") != "application/problem+json" || p.Code != "invalid_argument" {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Field)
			}
			if !slices.Equal(got, fields) {
				t.Errorf("%s: fields %q, want %q", path, got, fields)
			}
		}
	}
}

var (
	chartRow    = regexp.MustCompile(`<tr><td>([^<]+)</td><td>(\d+)</td></tr>`)
	chartTotal  = regexp.MustCompile(`<span class="total">(\d+)</span>`)
	downloadRef = regexp.MustCompile(`href="(/v1/[^"]+)"`)
)

// TestDashboardShowsTheTalliesAndLinksTheirFiles opens the dashboard in
// both languages: each chart's figures and total are the tally API's for
// the same range, and every download link answers the report file of the
// same figures in the page's language; a bad query value answers a 400
// page.
func TestDashboardShowsTheTalliesAndLinksTheirFiles(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123_451)
	h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-12-31&min_position=" + pos)
	const query = "from=2024-01-01&to=2024-12-31&period=quarter"
	for _, lang := range []string{"zh", "en"} {
		_, page := h.getWith("/dashboard?" + query + "&lang=" + lang)
		for _, series := range []struct{ id, column string }{{"deals", "deals"}, {"declarations", "declared"}, {"pledges", "registered"}} {
			start := bytes.Index(page, []byte(`id="chart-`+series.id+`"`))
			end := bytes.Index(page[start:], []byte("</figure>"))
			figure := string(page[start : start+end])
			var tally struct {
				Buckets []map[string]any `json:"buckets"`
				Total   map[string]any   `json:"total"`
			}
			h.getJSON("/v1/tallies/"+series.id+"?"+query, &tally)
			var want [][]string
			for _, b := range tally.Buckets {
				want = append(want, []string{"", b["period"].(string), fmt.Sprint(b[series.column])})
			}
			got := chartRow.FindAllStringSubmatch(figure, -1)
			if !slices.EqualFunc(got, want, func(g, w []string) bool { return g[1] == w[1] && g[2] == w[2] }) {
				t.Errorf("%s %s: chart %q, API %q", lang, series.id, got, want)
			}
			if m := chartTotal.FindStringSubmatch(figure); m == nil || m[1] != fmt.Sprint(tally.Total[series.column]) {
				t.Errorf("%s %s: total %q, API %v", lang, series.id, m, tally.Total[series.column])
			}
		}
		if !strings.Contains(string(page), "<td>1</td><td>¥1,234.51</td>") || !strings.Contains(string(page), `<span lang="zh-CN">华南理工大学</span> — 1</li>`) {
			t.Errorf("%s: no district with 1 deal and ¥1,234.51, or no ranking", lang)
		}
		links := downloadRef.FindAllStringSubmatch(string(page), -1)
		if len(links) != 12 { // deals, declarations, pledges, districts, Tianhe's deals, ranking; CSV and Excel each
			t.Errorf("%s: %d download links", lang, len(links))
		}
		heading := map[string]string{"zh": "统计周期", "en": "Period"}[lang]
		for _, l := range links {
			link := html.UnescapeString(l[1])
			resp, body := h.getWith(link)
			if strings.Contains(link, "format=csv") {
				meta, rows := splitCSV(t, body)
				if strings.Contains(link, "/v1/tallies/deals?") && !strings.Contains(link, "region=") &&
					(rows[0][0] != heading || rows[1][1] != "1" || rows[1][4] != "1234.51" || rows[len(rows)-1][4] != "1234.51") {
					t.Errorf("%s: %s: %v %q", lang, link, meta, rows)
				}
				continue
			}
			rows := xlsxRows(t, openXLSX(t, resp, body))
			if lang == "en" && rows[0][0] == "" || lang == "zh" && !strings.ContainsFunc(rows[0][0], func(r rune) bool { return r > 0x7f }) {
				t.Errorf("%s: %s: title %q", lang, link, rows[0])
			}
		}
	}
	for _, bad := range []string{"period=day", "from=2024-13-01", "to=2023-12-31&from=2024-01-01", "campaign=%E5%B9%B4"} {
		resp, _ := h.get("/dashboard?" + bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("/dashboard?%s: %d %s", bad, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestExcelReportDayBucketsAreDates: in an Excel report of day buckets
// the period column holds date cells shown as yyyy-mm-dd (Excel sorts,
// filters and charts them as dates); the CSV and the longer periods keep
// their labels as text.
func TestExcelReportDayBucketsAreDates(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	resp, body := h.getWith("/v1/tallies/deals?from=2024-02-28&to=2024-03-01&period=day&format=xlsx&layout=report")
	f := openXLSX(t, resp, body)
	_, head := sheetRows(t, f, "统计周期")
	sheet := f.GetSheetName(0)
	for i, want := range []string{"2024-02-28", "2024-02-29", "2024-03-01"} {
		cell := fmt.Sprintf("A%d", head+2+i)
		shown, _ := f.GetCellValue(sheet, cell)
		serial, numFmt := numberCell(t, f, cell)
		if shown != want || serial != float64(45350+i) || numFmt != "yyyy-mm-dd" {
			t.Errorf("%s: shown %q, serial %v, format %q; want %s, %d, yyyy-mm-dd", cell, shown, serial, numFmt, want, 45350+i)
		}
	}
	if total, _ := f.GetCellValue(sheet, fmt.Sprintf("A%d", head+5)); total != "合计" {
		t.Errorf("total row %q", total)
	}
	// The headings stay in view while the rows scroll, and the columns are
	// wide enough for their values.
	if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != head+1 || panes.TopLeftCell != fmt.Sprintf("A%d", head+2) {
		t.Errorf("panes %+v, %v; want the rows down to the headings (%d) frozen", panes, err, head+1)
	}
	if w, err := f.GetColWidth(sheet, "A"); err != nil || w < 12 {
		t.Errorf("column A width %v, %v; want 12 or more, for a date", w, err)
	}
	resp, body = h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-03-31&period=month&format=xlsx&layout=report")
	f = openXLSX(t, resp, body)
	_, head = sheetRows(t, f, "统计周期")
	if typ, _ := f.GetCellType(f.GetSheetName(0), fmt.Sprintf("A%d", head+2)); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
		t.Errorf("a month's label is of type %v, want text", typ)
	}
}

// TestExcelReportFollowsAcceptLanguage: without lang, an Excel report is
// written in the language of Accept-Language, as a CSV report is.
func TestExcelReportFollowsAcceptLanguage(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	for accept, want := range map[string][]string{
		"en-US,en;q=0.9":          {"Deals (Monthly)", "Period", "Total"},
		"zh-CN,zh;q=0.9,en;q=0.8": {"许可成交统计（按月）", "统计周期", "合计"},
		"":                        {"许可成交统计（按月）", "统计周期", "合计"},
	} {
		resp, body := h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-02-29&format=xlsx&layout=report", "Accept-Language", accept)
		rows, head := sheetRows(t, openXLSX(t, resp, body), want[1])
		if rows[0][0] != want[0] || rows[len(rows)-1][0] != want[2] || len(rows) != head+4 {
			t.Errorf("Accept-Language %q: %q", accept, rows)
		}
	}
}

// TestReportsDefuseFormulas: an organisation's name that a spreadsheet
// would run as a formula is shown after an apostrophe in a CSV report and
// is a text cell, never a formula, in Excel, formatted as text so that
// editing the cell keeps it text.
func TestReportsDefuseFormulas(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	names := []string{"=1+1大学", "+1大学", "-1大学", "@SUM(A1)大学"}
	for i, name := range names {
		h.universityPatent(i+1, h.org(10+i, name, domain.OrgUniversity, "440106", false))
	}
	head, err := h.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v1/tallies/review-coverage?campaign=2024&as_of=2024-12-31&layout=report&lang=en&min_position=%d", head.Position)
	_, body := h.getWith(path + "&format=csv")
	_, table := splitCSV(t, body)
	resp, body := h.getWith(path + "&format=xlsx")
	f := openXLSX(t, resp, body)
	sheet := f.GetSheetName(0)
	for _, name := range names {
		if !slices.ContainsFunc(table, func(row []string) bool { return slices.Contains(row, "'"+name) }) {
			t.Errorf("%q: no CSV cell %q in %q", name, "'"+name, table)
		}
		cells, err := f.SearchSheet(sheet, "^"+regexp.QuoteMeta(name)+"$", true)
		if err != nil || len(cells) != 1 {
			t.Fatalf("%q: Excel cells %v, %v", name, cells, err)
		}
		value, _ := f.GetCellValue(sheet, cells[0])
		formula, _ := f.GetCellFormula(sheet, cells[0])
		typ, _ := f.GetCellType(sheet, cells[0])
		if value != name || formula != "" || typ == excelize.CellTypeFormula {
			t.Errorf("%q: Excel cell %s %q, formula %q, type %v", name, cells[0], value, formula, typ)
		}
		if numFmt := cellNumFmt(t, f, sheet, cells[0]); numFmt != 49 {
			t.Errorf("%q: Excel cell %s has number format %d, not text (49): editing it would make it a formula", name, cells[0], numFmt)
		}
	}
	if numFmt := cellNumFmt(t, f, sheet, "A1"); numFmt != 0 {
		t.Errorf("the title has number format %d, want General (0)", numFmt)
	}
}

// cellNumFmt returns the built-in number format of a workbook cell.
func cellNumFmt(t *testing.T, f *excelize.File, sheet, cell string) int {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	style, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return style.NumFmt
}

// TestFilteredDownloadsHaveTheirOwnFileNames: a tally's file name names
// its filters, so that the dashboard's downloads of each district's deals
// and of all deals are not saved under one name; a name that would be too
// long, or whose values the file name cannot show as they are, keeps a
// readable start and ends in "--" and a hash of the query.
func TestFilteredDownloadsHaveTheirOwnFileNames(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	hashed := func(prefix string) *regexp.Regexp {
		return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `[A-Za-z0-9._-]*--[0-9a-f]{8}\.xlsx$`)
	}
	for query, want := range map[string]*regexp.Regexp{
		"":               regexp.MustCompile(`^deals-year-2024-01-01-2024-12-31\.xlsx$`),
		"&region=440106": regexp.MustCompile(`^deals-year-2024-01-01-2024-12-31-region-440106\.xlsx$`),
		"&kind=invention&sme=true": regexp.MustCompile(
			`^deals-year-2024-01-01-2024-12-31-kind-invention-sme-true\.xlsx$`),
		"&ipc=H01M%204%2F36&kind=invention":                                  hashed("deals-year-2024-01-01-2024-12-31-ipc-H01M_4_36-kind-invention"),
		"&patentee_id=" + h.uni + "&licensee_id=" + h.sme + "&region=440106": hashed("deals-year-2024-01-01-2024-12-31-region-440106-patentee_id-" + h.uni + "-licensee_id-"),
	} {
		resp, _ := h.getWith("/v1/tallies/deals?period=year&from=2024-01-01&to=2024-12-31&format=xlsx" + query)
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || !want.MatchString(params["filename"]) {
			t.Errorf("%s: %s, want %s", query, resp.Header.Get("Content-Disposition"), want)
		}
	}
}

// maxDownloadName is the longest ASCII file name of a download, its
// extension included.
const maxDownloadName = 120 + len(".xlsx")

// TestDownloadsOfOtherFiguresHaveOtherFileNames asks every download route
// for files whose queries differ in one parameter that changes the
// figures (a filter, the range, the period, the order, the limit…): no
// two get the same file name, however long or unusual the values
// (non-ASCII, '/', '-' that would blur where a value ends), and every name
// is ASCII and at most maxDownloadName long.
func TestDownloadsOfOtherFiguresHaveOtherFileNames(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	// Organisations registered one after the other: IDs sharing their
	// first characters, which a name cut short must still tell apart.
	ids := []string{h.uni, h.sme}
	for i := range 4 {
		ids = append(ids, h.org(20+i, fmt.Sprintf("测试机构%d", i), domain.OrgEnterprise, "440106", true))
	}
	tallyFilters := map[string][]string{"type": {"open", "ordinary"}, "patentee_id": ids, "licensee_id": ids,
		"region": {"44", "4401", "440106", "440113"}, "ipc": {"H01M", "H01M 4/36", "H01M 4/3"}, "kind": {"invention", "design"},
		"sme": {"true", "false"}, "campaign": {"2024", "2024-H1", "2024_H1"}}
	type route struct {
		path   string
		base   url.Values
		varied map[string][]string
	}
	var routes []route
	for _, s := range append(slices.Clone(projections.Subjects), projections.ExtraSubjects...) {
		varied := map[string][]string{"from": {"2024-01-01", "2024-02-01"}, "to": {"2024-12-31", "2024-11-30"},
			"period": {"day", "week", "month", "quarter", "year"}}
		if s == projections.FeeReductions {
			varied["period"] = []string{"year"}
		}
		for name, values := range tallyFilters {
			// Only the filters that apply to the tally: the others are refused.
			if _, body := h.get("/v1/tallies/" + s + "?from=2024-01-01&to=2024-12-31&period=year&" + name + "=" +
				url.QueryEscape(values[0])); !bytes.Contains(body, []byte(`"invalid_argument"`)) {
				varied[name] = values
			}
		}
		routes = append(routes, route{"/v1/tallies/" + s, url.Values{"from": {"2024-01-01"}, "to": {"2024-12-31"},
			"period": {"year"}}, varied})
	}
	routes = append(routes,
		route{"/v1/tallies/review-coverage", url.Values{"campaign": {"2024"}, "as_of": {"2024-12-31"}},
			map[string][]string{"campaign": {"2024", "2025", "2024-H1", "2024_H1"}, "as_of": {"2024-12-31", "2024-06-30"},
				"region": {"44", "4401", "440106", "440113"}, "patentee_id": ids, "sort": {"patentee_id", "share"},
				"limit": {"1", "2", "10000"}}},
		route{"/v1/tallies/deals-by-region", url.Values{"from": {"2024-01-01"}, "to": {"2024-12-31"}},
			map[string][]string{"from": {"2024-01-01", "2024-02-01"}, "to": {"2024-12-31", "2024-11-30"},
				"level": {"district", "city", "province"}, "limit": {"1", "2", "10000"}}},
		route{"/v1/rankings/patentees", url.Values{},
			map[string][]string{"metric": {"licenses", "fees_fen", "declared", "conversion_bp"}, "from": {"2024-01-01", "2024-02-01"},
				"to": {"2024-12-31", "2024-11-30"}, "limit": {"1", "2", "10", "100"}}})
	safe := regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	for _, r := range routes {
		if len(r.varied) < 3 {
			t.Errorf("%s: only %d parameters to vary", r.path, len(r.varied))
		}
		for name, values := range r.varied {
			seen := map[string]string{}
			for _, v := range values {
				q := maps.Clone(r.base)
				q.Set(name, v)
				q.Set("format", "xlsx")
				path := r.path + "?" + q.Encode()
				resp, body := h.get(path)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d %s", path, resp.StatusCode, body)
					continue
				}
				_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
				file := params["filename"]
				if err != nil || !safe.MatchString(file) || len(file) > maxDownloadName {
					t.Errorf("%s: file name %q (%d characters, %v)", path, file, len(file), err)
				}
				if other, ok := seen[file]; ok {
					t.Errorf("%s=%q and %s=%q: both downloads of %s are named %s", name, other, name, v, r.path, file)
				}
				seen[file] = v
			}
		}
	}
	// Two organisations as patentee and licensee, and the other way round.
	names := map[string]string{}
	for _, query := range []string{"patentee_id=" + ids[0] + "&licensee_id=" + ids[1], "patentee_id=" + ids[1] + "&licensee_id=" + ids[0]} {
		resp, _ := h.get("/v1/tallies/deals?from=2024-01-01&to=2024-12-31&format=csv&" + query)
		file := resp.Header.Get("Content-Disposition")
		if other, ok := names[file]; ok {
			t.Errorf("%s and %s: both named %s", other, query, file)
		}
		names[file] = query
	}
}
