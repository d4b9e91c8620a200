package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
)

// licensedFor registers and declares a patent of the university and grants
// an open licence to the SME for feeFen on 2024-03-01; it returns the last
// position written.
func (h *readsHarness) licensedFor(serial int, feeFen int64) string {
	h.t.Helper()
	_, lic := h.openLicence(serial, domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: domain.Fen(feeFen)}, "2024-03-01",
		domain.Fen(feeFen))
	return strconv.FormatInt(lic.Position, 10)
}

// openLicence registers a battery patent of the university (H01M 4/36,
// granted 2022-02-10), declares it open on 2024-01-02 with fee and grants
// the SME an open licence effective on for firstFen; it returns the
// patent's number and the licence's result.
func (h *readsHarness) openLicence(serial int, fee domain.FeeTerms, on string, firstFen domain.Fen) (domain.PatentNumber, domain.Result) {
	h.t.Helper()
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	digits := fmt.Sprintf("2021100%05d", serial)
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		h.t.Fatal(err)
	}
	n := domain.PatentNumber("ZL" + digits + "." + string(c))
	day := func(s string) domain.Date { d, _ := domain.ParseDate(s); return d }
	if _, err := h.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "一种钠离子电池正极材料",
		PatenteeIDs: []string{h.uni}, IPC: []string{"H01M 4/36"}, FiledOn: day("2021-05-15"), GrantedOn: day("2022-02-10")}); err != nil {
		h.t.Fatal(err)
	}
	decl, err := h.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: fee, TermMonths: 36, DeclaredOn: day("2024-01-02")})
	if err != nil {
		h.t.Fatal(err)
	}
	lic, err := h.svc.GrantLicense(ctx, admin, n, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: h.sme,
		EffectiveOn: day(on), FeePaidFen: firstFen, DeclarationID: decl.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	return n, lic
}

// getWith answers a GET of path with the headers given as name, value
// pairs, which must answer 200.
func (h *readsHarness) getWith(path string, header ...string) (*http.Response, []byte) {
	h.t.Helper()
	resp, body := h.getAny(path, header...)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return resp, body
}

// getAny answers a GET of path with the headers given as name, value
// pairs, whatever its status.
func (h *readsHarness) getAny(path string, header ...string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		h.t.Fatal(err)
	}
	return resp, b.Bytes()
}

// splitCSV checks a CSV download's framing and returns its header block
// (label → value, the "# " mark removed; the title under "") and its table.
func splitCSV(t *testing.T, body []byte) (map[string]string, [][]string) {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("no BOM: %q", body[:min(len(body), 20)])
	}
	head, table, ok := strings.Cut(strings.TrimPrefix(string(body), "\ufeff"), "\n\n")
	if !ok {
		t.Fatalf("no blank row between header block and table:\n%s", body)
	}
	meta := map[string]string{}
	r := csv.NewReader(strings.NewReader(head))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if !strings.HasPrefix(rec[0], "# ") {
			t.Fatalf("header row %v not marked", rec)
		}
		if i == 0 {
			meta[""] = strings.TrimPrefix(rec[0], "# ")
			continue
		}
		meta[strings.TrimPrefix(rec[0], "# ")] = rec[1]
	}
	rows, err := csv.NewReader(strings.NewReader(table)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return meta, rows
}

var (
	utcStamp   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	localStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$`)
)

func TestDownloadTallyCSVInBothLanguages(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	path := "/v1/tallies/deals?period=quarter&from=2024-01-01&to=2024-06-30&region=4401&sme=true&type=open&format=csv&layout=report&min_position=" + pos
	cases := []struct {
		name    string
		path    string
		header  []string
		title   string
		meta    map[string]string
		heading []string
		total   string
		utc     string
		local   string
	}{
		{"zh by default", path, nil, "许可成交统计（按季度）",
			map[string]string{"统计周期": "按季度", "起始日": "2024-01-01", "截止日": "2024-06-30", "地区": "4401 广州市", "中小企业": "是", "许可类型": "开放许可"},
			[]string{"统计周期", "许可成交(件)", "被许可人(个)", "涉及专利(件)", "许可费(元)"}, "合计", "生成时间(UTC)", "生成时间(北京时间)"},
		{"en by lang", path + "&lang=en", []string{"Accept-Language", "zh-CN"}, "Deals (Quarterly)",
			map[string]string{"Period": "Quarterly", "From": "2024-01-01", "To": "2024-06-30", "Region": "4401 Guangzhou", "SME": "yes", "Licence type": "Open"},
			[]string{"Period", "Deals", "Licensees", "Patents", "Fees (yuan)"}, "Total", "Generated (UTC)", "Generated (Beijing time)"},
		{"en by Accept-Language", path, []string{"Accept-Language", "en-GB,en;q=0.9"}, "Deals (Quarterly)",
			map[string]string{"Region": "4401 Guangzhou"}, []string{"Period", "Deals", "Licensees", "Patents", "Fees (yuan)"}, "Total",
			"Generated (UTC)", "Generated (Beijing time)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := h.getWith(c.path, c.header...)
			if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			cd := resp.Header.Get("Content-Disposition")
			lang := map[bool]string{true: "en", false: "zh"}[c.title == "Deals (Quarterly)"]
			name := "deals-quarter-2024-01-01-2024-06-30-region-4401-type-open-sme-true-report-" + lang + ".csv"
			if !strings.HasPrefix(cd, `attachment; filename="`+name+`"; filename*=UTF-8''`) ||
				!strings.Contains(cd, "_"+name) || strings.ContainsAny(cd, "许（") {
				t.Errorf("Content-Disposition %q", cd)
			}
			meta, rows := splitCSV(t, body)
			if meta[""] != c.title {
				t.Errorf("title %q, want %q", meta[""], c.title)
			}
			for k, v := range c.meta {
				if meta[k] != v {
					t.Errorf("header block %s = %q, want %q (%v)", k, meta[k], v, meta)
				}
			}
			if !utcStamp.MatchString(meta[c.utc]) || !localStamp.MatchString(meta[c.local]) {
				t.Errorf("generation time %q, %q", meta[c.utc], meta[c.local])
			}
			want := [][]string{c.heading, {"2024-Q1", "1", "1", "1", "1234.50"}, {"2024-Q2", "0", "0", "0", "0.00"}, {c.total, "1", "1", "1", "1234.50"}}
			if !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("table %q, want %q", rows, want)
			}
		})
	}
}

// TestReportNamesItsOrganisationFilters: a report's header block names
// the patentee and licensee it is filtered by after their IDs, as people
// read it; the data file's name keeps the IDs.
func TestReportNamesItsOrganisationFilters(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	_, body := h.getWith("/v1/tallies/deals?from=2024-01-01&to=2024-06-30&format=csv&layout=report&lang=en&patentee_id=" + h.uni +
		"&licensee_id=" + h.sme + "&min_position=" + pos)
	meta, rows := splitCSV(t, body)
	if meta["Patentee ID"] != h.uni+" 华南理工大学" || meta["Licensee ID"] != h.sme+" 广州星能电池科技有限公司" {
		t.Errorf("header block %q", meta)
	}
	if total := rows[len(rows)-1]; !slices.Equal(total[:2], []string{"Total", "1"}) {
		t.Errorf("total row %q", total)
	}
}

// sheetRows returns the first sheet's rows and the index of the table's
// heading row: the row after the blank one, whose first cell must be first.
func sheetRows(t *testing.T, f *excelize.File, first string) ([][]string, int) {
	t.Helper()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) == 0 && i+1 < len(rows) && len(rows[i+1]) > 0 && rows[i+1][0] == first {
			return rows, i + 1
		}
	}
	t.Fatalf("no row starting %q in %q", first, rows)
	return nil, 0
}

// numberCell checks that a cell holds a number (not text) and returns its
// raw value and number format.
func numberCell(t *testing.T, f *excelize.File, cell string) (float64, string) {
	t.Helper()
	sheet := f.GetSheetName(0)
	typ, err := f.GetCellType(sheet, cell)
	if err != nil || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
		t.Fatalf("%s: type %v, %v; want a number", cell, typ, err)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("%s: %q is not a number", cell, raw)
	}
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	numFmt := strconv.Itoa(st.NumFmt)
	if st.CustomNumFmt != nil {
		numFmt = *st.CustomNumFmt
	}
	return v, numFmt
}

func openXLSX(t *testing.T, resp *http.Response, body []byte) *excelize.File {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestDownloadTallyXLSX(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	resp, body := h.getWith("/v1/tallies/deals?period=quarter&from=2024-01-01&to=2024-06-30&ipc=H01M&format=xlsx&layout=report&lang=en&min_position=" + pos)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="deals-quarter-2024-01-01-2024-06-30-ipc-H01M-report-en.xlsx"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	f := openXLSX(t, resp, body)
	rows, head := sheetRows(t, f, "Period")
	if rows[0][0] != "Deals (Quarterly)" || len(rows[head-1]) != 0 {
		t.Errorf("title %q, row before the table %q", rows[0], rows[head-1])
	}
	meta := map[string]string{}
	for _, r := range rows[1 : head-1] {
		meta[r[0]] = r[1]
	}
	if meta["IPC"] != "H01M" || meta["From"] != "2024-01-01" || meta["To"] != "2024-06-30" || meta["Period"] != "Quarterly" ||
		!utcStamp.MatchString(meta["Generated (UTC)"]) || !localStamp.MatchString(meta["Generated (Beijing time)"]) {
		t.Errorf("header block %v", meta)
	}
	if want := []string{"Period", "Deals", "Licensees", "Patents", "Fees (yuan)"}; !slices.Equal(rows[head], want) {
		t.Errorf("heading row %q", rows[head])
	}
	sheet := f.GetSheetName(0)
	for _, cell := range []string{"A1", fmt.Sprintf("B%d", head+1)} {
		id, _ := f.GetCellStyle(sheet, cell)
		if st, err := f.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s is not bold", cell)
		}
	}
	q1 := head + 2 // 1-based row of 2024-Q1
	if v, numFmt := numberCell(t, f, fmt.Sprintf("E%d", q1)); v != 1234.5 || !strings.Contains(numFmt, "0.00") {
		t.Errorf("fees cell %v with format %q, want 1234.5 with two decimals", v, numFmt)
	}
	if v, _ := numberCell(t, f, fmt.Sprintf("E%d", q1+2)); v != 1234.5 {
		t.Errorf("total fees %v", v)
	}
	for _, cell := range []string{fmt.Sprintf("B%d", q1), fmt.Sprintf("D%d", q1), fmt.Sprintf("B%d", q1+1)} {
		if v, numFmt := numberCell(t, f, cell); v != float64(int64(v)) || strings.Contains(numFmt, ".") {
			t.Errorf("count cell %s = %v (%q)", cell, v, numFmt)
		}
	}
	if rows[q1+1][0] != "Total" {
		t.Errorf("total row %q", rows[q1+1])
	}
	if w, err := f.GetColWidth(sheet, "E"); err != nil || w < 10 {
		t.Errorf("column E width %v, %v", w, err)
	}

	// Every subject's columns are translated, nested ones included.
	for subject, want := range map[string][]string{
		"deals":        {"统计周期", "许可成交(件)", "被许可人(个)", "涉及专利(件)", "许可费(元)"},
		"declarations": {"统计周期", "发布声明(件)", "撤回声明(件)", "期末有效声明(件)"},
		"pledges":      {"统计周期", "质押登记(件)", "质押注销(件)", "担保金额(元)", "期末在押(件)"},
		"transfers":    {"统计周期", "转让(件)", "涉及专利(件)", "转让价款(元)", "高校转让给企业(件)"},
		"reviews": {"统计周期", "评价(件)", "评级-高(件)", "评级-中(件)", "评级-低(件)", "评级-无(件)",
			"处置方式-开放许可(件)", "处置方式-许可(件)", "处置方式-转让(件)", "处置方式-维持(件)", "处置方式-放弃(件)"},
	} {
		resp, body := h.getWith("/v1/tallies/" + subject + "?period=year&from=2024-01-01&to=2024-12-31&format=xlsx&layout=report")
		f := openXLSX(t, resp, body)
		rows, head := sheetRows(t, f, "统计周期")
		if !slices.Equal(rows[head], want) || len(rows) != head+3 || rows[head+2][0] != "合计" {
			t.Errorf("%s: heading %q, rows %q", subject, rows[head], rows[head:])
		}
		for j := range want[1:] {
			cell, _ := excelize.CoordinatesToCellName(j+2, head+2)
			numberCell(t, f, cell)
		}
	}
}

func TestDownloadRankingByFeesInYuan(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	_, body := h.getWith("/v1/rankings/patentees?metric=fees_fen&from=2024-01-01&to=2024-12-31&format=csv&layout=report&min_position=" + pos)
	meta, rows := splitCSV(t, body)
	if meta[""] != "专利权人排名（许可费）" || meta["排名指标"] != "许可费" || meta["起始日"] != "2024-01-01" ||
		!utcStamp.MatchString(meta["生成时间(UTC)"]) {
		t.Errorf("header block %v", meta)
	}
	want := [][]string{{"名次", "专利权人编号", "专利权人", "许可费(元)"}, {"1", h.uni, "华南理工大学", "1234.50"}}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("ranking %q, want %q", rows, want)
	}

	_, body = h.getWith("/v1/rankings/patentees?format=csv&layout=report&lang=en")
	meta, rows = splitCSV(t, body)
	want = [][]string{{"Rank", "Patentee ID", "Patentee", "Licences"}, {"1", h.uni, "华南理工大学", "1"}}
	if meta["Ranked by"] != "licences" || !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("ranking by licences %v %q", meta, rows)
	}

	resp, body := h.getWith("/v1/rankings/patentees?metric=fees_fen&from=2024-01-01&format=xlsx&layout=report&lang=en")
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="ranking-fees_fen-2024-01-01-open-report-en.xlsx"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	f := openXLSX(t, resp, body)
	rows2, head := sheetRows(t, f, "Rank")
	if !slices.Equal(rows2[head], []string{"Rank", "Patentee ID", "Patentee", "Fees (yuan)"}) {
		t.Errorf("heading %q", rows2[head])
	}
	if v, numFmt := numberCell(t, f, fmt.Sprintf("D%d", head+2)); v != 1234.5 || !strings.Contains(numFmt, "0.00") {
		t.Errorf("fees %v (%q)", v, numFmt)
	}
	if v, _ := numberCell(t, f, fmt.Sprintf("A%d", head+2)); v != 1 {
		t.Errorf("rank %v", v)
	}
}

// TestDataDownloadsHoldTheJSONFigures asks every operation that takes
// layout (read from the OpenAPI document) for its JSON answer and its data
// downloads: the CSV (no BOM, no header block) and the Excel sheet hold a
// header row of the JSON's field paths and, row by row, exactly its
// figures: the items of its one list, then its total.
func TestDataDownloadsHoldTheJSONFigures(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	reviewed, _ := h.openLicence(1, domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 123_450}, "2024-03-01", 123_450)
	h.openLicence(2, domain.FeeTerms{Mode: domain.FeeFree}, "2024-05-20", 0)
	res, err := h.svc.RecordReview(context.Background(), domain.Request{Actor: domain.AdminActor}, reviewed, domain.RecordReview{
		Campaign: "2024", ReviewedOn: domain.NewDate(2024, 6, 1), Grade: domain.Grades[0], Disposition: domain.Dispositions[0],
		ReviewerID: h.uni})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		op := item.Get
		if op == nil || !slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool { return p.Value.Name == "layout" }) {
			continue
		}
		values := map[string]string{"from": "2024-01-01", "to": "2024-12-31", "period": "quarter", "campaign": "2024",
			"as_of": "2024-12-31", "min_position": strconv.FormatInt(res.Position, 10)}
		if slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
			return p.Value.Name == "period" && len(p.Value.Schema.Value.Enum) == 1
		}) {
			values["period"] = "year"
		}
		q := url.Values{}
		for _, p := range op.Parameters {
			if v, ok := values[p.Value.Name]; ok {
				q.Set(p.Value.Name, v)
			}
		}
		query := "?" + q.Encode()
		want := jsonRows(t, h, path+query)
		_, body := h.getWith(path + query + "&format=csv")
		if bytes.HasPrefix(body, []byte("\ufeff")) || bytes.HasPrefix(body, []byte("#")) {
			t.Errorf("%s: a data CSV starts %q", path, body[:min(len(body), 8)])
		}
		got, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		compareRows(t, path+" csv", got, want)
		resp, body := h.getWith(path + query + "&format=xlsx&layout=data")
		compareRows(t, path+" xlsx", xlsxRows(t, openXLSX(t, resp, body)), want)
		n++
	}
	if n < 13 {
		t.Errorf("only %d operations take layout", n)
	}
	// An empty list still names its columns.
	for path, want := range map[string]string{"/v1/rankings/patentees?from=2030-01-01&format=csv": "patentee_id,name,value\n",
		"/v1/tallies/deals-by-region?from=2030-01-01&to=2030-12-31&format=csv": "region,deals,fees_fen\n"} {
		if _, body := h.getWith(path); string(body) != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
	}
}

// jsonRows flattens the JSON answer of path the way a data download must:
// the header is taken from the rows, each a map from field path
// ("by_grade.high") to its value as text: a row per item of its list, then
// its total with the answer's other figures (numbers and true/false
// outside the list and the total, such as the review coverage's
// universities; its text fields echo the query).
func jsonRows(t *testing.T, h *readsHarness, path string) []map[string]string {
	t.Helper()
	_, body := h.getWith(path)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var answer any
	if err := dec.Decode(&answer); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var items []any
	var total any
	switch a := answer.(type) {
	case []any:
		items = a
	case map[string]any:
		lists := 0
		for _, v := range a {
			if l, ok := v.([]any); ok {
				items, lists = l, lists+1
			}
		}
		if lists != 1 {
			t.Fatalf("%s: %d lists in %s", path, lists, body)
		}
		total = a["total"]
		figures := map[string]any{}
		for k, v := range a {
			switch v.(type) {
			case json.Number, bool:
				figures[k] = v
			}
		}
		if len(figures) > 0 {
			if total == nil {
				total = map[string]any{}
			}
			maps.Copy(total.(map[string]any), figures)
		}
	}
	if total != nil {
		items = append(items, total)
	}
	if len(items) == 0 {
		t.Fatalf("%s: nothing to compare in %s", path, body)
	}
	rows := make([]map[string]string, len(items))
	for i, item := range items {
		rows[i] = map[string]string{}
		flattenJSON("", item.(map[string]any), rows[i])
	}
	return rows
}

func flattenJSON(prefix string, obj map[string]any, out map[string]string) {
	for k, v := range obj {
		if nested, ok := v.(map[string]any); ok {
			flattenJSON(prefix+k+".", nested, out)
			continue
		}
		out[prefix+k] = fmt.Sprint(v)
	}
}

// compareRows checks that got (a header row, then data rows) holds want
// row by row: every field of each wanted row under its heading, and no
// heading that no wanted row has.
func compareRows(t *testing.T, name string, got [][]string, want []map[string]string) {
	t.Helper()
	if len(got) != len(want)+1 {
		t.Fatalf("%s: %d rows, want a header and %d: %q", name, len(got), len(want), got)
	}
	header := got[0]
	for _, heading := range header {
		if !slices.ContainsFunc(want, func(r map[string]string) bool { _, ok := r[heading]; return ok }) {
			t.Errorf("%s: heading %q is no JSON field", name, heading)
		}
	}
	for i, w := range want {
		for field, value := range w {
			j := slices.Index(header, field)
			if j < 0 || j >= len(got[i+1]) || got[i+1][j] != value {
				t.Errorf("%s: row %d %s = %q, want %q (%q)", name, i+1, field, cell(got[i+1], j), value, got[i+1])
			}
		}
	}
}

func cell(row []string, j int) string {
	if j < 0 || j >= len(row) {
		return "(none)"
	}
	return row[j]
}

// xlsxRows returns every row of the first sheet.
func xlsxRows(t *testing.T, f *excelize.File) [][]string {
	t.Helper()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestWorkbookSheetIsStable checks that one data download gives the same
// sheet bytes whatever the language asked (the data layout has none) and
// however often it is asked, and that the sheet's dimension covers every
// cell written.
func TestWorkbookSheetIsStable(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	var first []byte
	for i, lang := range []string{"zh", "en", "zh", "en", "zh"} {
		resp, body := h.getWith("/v1/tallies/deals?period=month&from=2024-01-01&to=2024-03-31&format=xlsx&lang=" + lang + "&min_position=" + pos)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		sheet := zipEntry(t, body, "xl/worksheets/sheet1.xml")
		if i == 0 {
			first = sheet
			if dim := regexp.MustCompile(`<dimension ref="([^"]+)"`).FindSubmatch(sheet); dim == nil || string(dim[1]) != "A1:E5" {
				t.Errorf("dimension %q, want A1:E5 (five columns, a heading row, three months and the total)", dim)
			}
			continue
		}
		if !bytes.Equal(sheet, first) {
			t.Fatalf("request %d (lang=%s) gave another sheet:\n%s\nthe first:\n%s", i+1, lang, sheet, first)
		}
	}
}

// zipEntry returns the bytes of the named file of a zip archive.
func zipEntry(t *testing.T, archive []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDownloadsSayWhatTheyAre: an office audit found that the data file
// (in fen) and the reports (in yuan) of the same figures shared one ASCII
// file name, which `curl -OJ` reads alone, so the second download failed;
// that every workbook said it was made by the workbook library's author on
// 2006-09-16; and that a ranking over an open range did not say so. Each
// now has a name of its own, the ledger as author with the time its
// figures were read, and an open bound says it is open.
func TestDownloadsSayWhatTheyAre(t *testing.T) {
	h := newReadsHarness(t, readsOptions{})
	pos := h.licensedFor(1, 123450)
	names := map[string]string{}
	for _, layout := range []string{"", "&layout=report&lang=zh", "&layout=report&lang=en"} {
		resp, body := h.getWith("/v1/tallies/deals?period=month&from=2024-01-01&to=2024-03-31&format=xlsx&min_position=" + pos + layout)
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if other, seen := names[params["filename"]]; err != nil || seen {
			t.Errorf("%q: file name %q (%v), as %q's", layout, params["filename"], err, other)
		}
		names[params["filename"]] = layout
		core, app := string(zipEntry(t, body, "docProps/core.xml")), string(zipEntry(t, body, "docProps/app.xml"))
		year := time.Now().UTC().Format("2006")
		if !strings.Contains(core, "<dc:creator>Patent open-licensing ledger</dc:creator>") || strings.Contains(core, "xuri") ||
			!strings.Contains(core, `<dcterms:created xsi:type="dcterms:W3CDTF">`+year) ||
			!strings.Contains(app, "<Application>Patent open-licensing ledger</Application>") {
			t.Errorf("%q: document properties\n%s\n%s", layout, core, app)
		}
	}
	for lang, open := range map[string]string{"en": "open", "zh": "不限"} {
		_, body := h.getWith("/v1/rankings/patentees?format=csv&layout=report&lang=" + lang)
		meta, _ := splitCSV(t, body)
		from, to := map[string]string{"en": "From", "zh": "起始日"}[lang], map[string]string{"en": "To", "zh": "截止日"}[lang]
		if meta[from] != open || meta[to] != open {
			t.Errorf("ranking over an open range, lang=%s: header block %v, want %s and %s %q", lang, meta, from, to, open)
		}
	}
}
