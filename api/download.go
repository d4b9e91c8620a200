package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// Cells of a download table. tallyTable and rankingTableFor lay figures out
// with these types; download translates and formats them for the request's
// language. Plain strings, int64 and other values pass through as they are.
type (
	// heading is a column heading: the name of a tally column ("fees_fen",
	// "by_grade.high") or of a ranking column; the catalogue entry
	// col.<name> translates it.
	heading string
	// fen is an amount of money in fen: CSV shows it as yuan with exactly
	// two decimals ("1234.50"), Excel as a number of yuan formatted "#,##0.00".
	fen int64
	// term is a text the catalogue translates, such as the total row's
	// label "dash.total".
	term string
	// regionNamed is a region code (or the start of one: 44, 4401) shown
	// by its name: the catalogue's in the request's language, else the
	// GB/T 2260 name (domain.RegionName), else empty.
	regionNamed string
	// counted is a text the catalogue translates with a count in it: its
	// entry key is a format with one %d.
	counted struct {
		key string
		n   int
	}
	// day is a business date, such as a day bucket's label: CSV shows it
	// as YYYY-MM-DD, Excel as a date cell formatted yyyy-mm-dd, so that
	// Excel sorts, filters and charts it as a date.
	day domain.Date
)

// csvBOM starts every CSV report so that Excel (notably on Chinese
// Windows) reads it as UTF-8.
const csvBOM = "\ufeff"

// csvMetaMark starts the first cell of each row of a CSV download's header
// block, so that a program can skip the block (pandas: comment="#").
const csvMetaMark = "# "

// document is a download: a title, label–value rows saying what was asked
// and when, then the table (first row the headings). A document without a
// title is a data table (layout=data): the file holds the table alone,
// without a BOM.
type document struct {
	title string
	meta  [][2]string
	table [][]any
	// generated is when the figures were read: a workbook's creation
	// time in its document properties.
	generated time.Time
}

// reportDocument lays rows (from tallyTable, rankingTableFor or any [][]any
// whose first row holds the headings) out as a report for people: headings
// and terms translated into the request's language (pageLang: ?lang=,
// Accept-Language, then Chinese), and a header block naming the figures,
// the request's filters and the generation time.
func (s *Server) reportDocument(c echo.Context, rows [][]any) document {
	lang := pageLang(c)
	t := translator(lang)
	now := time.Now()
	doc := document{title: downloadTitle(c, lang), meta: downloadFilters(c, t, s.orgNamesOf(c.Request().Context())), generated: now}
	doc.meta = append(doc.meta,
		[2]string{t("download.generated_utc"), now.UTC().Format(time.RFC3339)},
		[2]string{t("download.generated_local"), now.In(domain.Shanghai).Format(time.RFC3339)})
	doc.table = translateTable(rows, t)
	return doc
}

// download answers doc as a CSV or Excel attachment whose file name starts
// with name (and, for a report, its title). It calls built once the file is
// built, before it is sent: a client that reads slowly must not hold the
// workbook slot (takeWorkbookSlot) the building took.
func download(c echo.Context, format, name string, doc document, built func()) error {
	var body bytes.Buffer
	contentType := "text/csv; charset=utf-8"
	var err error
	if format == formatXLSX {
		contentType = mimeXLSX
		err = writeWorkbook(&body, doc)
	} else {
		err = writeCSVDocument(&body, doc)
	}
	built()
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, contentDisposition(name, doc.title, format))
	return c.Blob(http.StatusOK, contentType, body.Bytes())
}

// workbookWait is how long a request for an Excel file waits for a
// workbook slot before it answers 503.
const workbookWait = 30 * time.Second

// newWorkbookSlots returns the slots of Excel files built at once: one per
// CPU the process may use, at least two. Building one (its figures, its
// table, its workbook) is CPU work that holds tens of megabytes until it
// is written, so more at once would not answer sooner, and thirty at once
// took a server over a gigabyte.
func newWorkbookSlots() chan struct{} { return make(chan struct{}, max(2, runtime.GOMAXPROCS(0))) }

// takeWorkbookSlot waits for a free workbook slot and returns the function
// that frees it. When none frees within the server's workbookPatience it
// answers 503 with a Retry-After; when the request ends first, 503 without
// one (nobody reads it).
func (s *Server) takeWorkbookSlot(ctx context.Context) (release func(), err error) {
	wait := time.NewTimer(s.workbookPatience)
	defer wait.Stop()
	select {
	case s.workbooks <- struct{}{}:
		return func() { <-s.workbooks }, nil
	case <-ctx.Done():
		return nil, &unavailableError{detail: "the request ended while it waited to build its Excel file"}
	case <-wait.C:
		return nil, &unavailableError{detail: "the server is building as many Excel files as it can at once; retry shortly, or ask for format=csv",
			retryAfter: "5"}
	}
}

// rankingTableFor lays a ranking by metric out as rows with a header; the
// value of fees_fen is money (yuan in the file), the others counts.
func rankingTableFor(metric string, ranks []projections.Ranking) [][]any {
	rows := [][]any{{heading("rank"), heading("patentee_id"), heading("name"), heading("value." + metric)}}
	for i, r := range ranks {
		var v any = r.Value
		if strings.HasSuffix(metric, "_fen") {
			v = fen(r.Value)
		}
		rows = append(rows, []any{int64(i + 1), r.PatenteeID, r.Name, v})
	}
	return rows
}

// rankingFileName names a ranking download: metric, range (when one is
// given; "open" for a missing end) and a limit other than the default.
func rankingFileName(q projections.RankingQuery) string {
	n := newDownloadName("ranking").value("metric", q.Metric)
	if !q.From.IsZero() || !q.To.IsZero() {
		n.date("from", q.From).date("to", q.To)
	}
	if q.Limit != projections.DefaultRankingLimit {
		n.filter("limit", strconv.Itoa(q.Limit))
	}
	return n.String()
}

// downloadName builds the file name of a download, without its extension,
// from every parameter that its figures depend on, in a fixed order: the
// subject, the values that say which figures and range
// ("deals-month-2024-01-01-2024-12-31"), then each other parameter given
// as "-name-value" ("-region-440106"). When every value is written as it
// is (letters, digits, '.' and '_': not the '-' that separates them, nor
// what the ASCII name would lose), the name alone tells downloads of
// different figures apart. Otherwise, or when it would be longer than
// maxFileName, the name keeps its start and ends in "--" and the first 8
// hex digits of the SHA-256 of the canonical query (the subject and every
// name and value), which a name of such plain values never holds: so that
// two downloads of different figures never share a name.
type downloadName struct {
	subject string
	name    strings.Builder
	// params are the canonical query's "name=value", escaped, in order.
	params []string
	// hashed is set once a value cannot be written as it is.
	hashed bool
}

// newDownloadName starts the name of a download of subject ("deals",
// "ranking").
func newDownloadName(subject string) *downloadName {
	n := &downloadName{subject: subject}
	n.name.WriteString(subject)
	return n
}

// value adds a value that says which figures the file holds (a period, a
// metric, a level, a campaign): "-value".
func (n *downloadName) value(name, v string) *downloadName {
	n.add(name, v, "-"+v, isPlainValue(v))
	return n
}

// date adds a date of the range, "open" when it has none.
func (n *downloadName) date(name string, d domain.Date) *downloadName {
	shown, v := "open", ""
	if !d.IsZero() {
		shown, v = d.String(), d.String()
	}
	n.add(name, v, "-"+shown, true)
	return n
}

// filter adds "-name-value" unless v is "": the parameter is not given, or
// has its default.
func (n *downloadName) filter(name, v string) *downloadName {
	if v != "" {
		n.add(name, v, "-"+name+"-"+v, isPlainValue(v))
	}
	return n
}

// add writes shown into the name and name=v into the canonical query.
func (n *downloadName) add(name, v, shown string, plain bool) {
	n.name.WriteString(shown)
	n.params = append(n.params, url.QueryEscape(name)+"="+url.QueryEscape(v))
	n.hashed = n.hashed || !plain
}

// String returns the file name, without extension: ASCII, at most
// maxFileName long.
func (n *downloadName) String() string {
	name := asciiFileName(n.name.String())
	if !n.hashed && len(name) <= maxFileName {
		return name
	}
	sum := sha256.Sum256([]byte(n.subject + "?" + strings.Join(n.params, "&")))
	suffix := "--" + hex.EncodeToString(sum[:4])
	return strings.TrimRight(name[:min(len(name), maxFileName-len(suffix))], "-") + suffix
}

// isPlainValue reports whether v can stand in a file name as it is: one
// or more letters, digits, '.' and '_'.
func isPlainValue(v string) bool {
	return v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_')
	}) < 0
}

// amountCell returns the cell of a column's value: money for *_fen columns.
func amountCell(column string, v int64) any {
	if strings.HasSuffix(column, "_fen") {
		return fen(v)
	}
	return v
}

// yuan writes fen as yuan with exactly two decimals ("1234.50").
func yuan(f fen) string { return domain.Fen(f).YuanString() }

// yuanFloat is the double nearest to the exact yuan amount of f, for a
// spreadsheet cell (Excel stores numbers as doubles).
func yuanFloat(f fen) float64 {
	v, _ := strconv.ParseFloat(yuan(f), 64)
	return v
}

// translateTable resolves headings and terms into text of the language of
// t; other cells are kept.
func translateTable(rows [][]any, t func(string) string) [][]any {
	out := make([][]any, len(rows))
	for i, row := range rows {
		out[i] = make([]any, len(row))
		for j, v := range row {
			switch v := v.(type) {
			case heading:
				out[i][j] = headingText(string(v), t)
			case term:
				out[i][j] = t(string(v))
			case counted:
				out[i][j] = fmt.Sprintf(t(v.key), v.n)
			case regionNamed:
				out[i][j], _ = regionName(t, string(v))
			default:
				out[i][j] = v
			}
		}
	}
	return out
}

// headingText translates a column name; a nested one ("by_grade.high")
// joins its group and its value ("评级-高(件)"). An unknown name is shown as
// the JSON field it comes from, dots as underscores.
func headingText(name string, t func(string) string) string {
	if m := t("col." + name); m != "col."+name {
		return m
	}
	group, value, nested := strings.Cut(name, ".")
	if nested {
		g, v := t("col."+group), t(strings.TrimPrefix(group, "by_")+"."+value)
		if g != "col."+group && v != strings.TrimPrefix(group, "by_")+"."+value {
			return g + "-" + v + t("col.count_unit")
		}
	}
	return strings.ReplaceAll(name, ".", "_")
}

// downloadSubject returns what the request downloads: the tally subject of
// /v1/tallies/{subject}, "ranking" for rankings, else the path's last part.
func downloadSubject(c echo.Context) string {
	p := c.Path()
	if p == "" {
		p = c.Request().URL.Path
	}
	switch {
	case strings.HasPrefix(p, "/v1/tallies/"):
		return strings.TrimPrefix(p, "/v1/tallies/")
	case strings.HasPrefix(p, "/v1/rankings/"):
		return "ranking"
	}
	return p[strings.LastIndex(p, "/")+1:]
}

// downloadDefaults are the values that a download request's missing
// parameters take, so that the header block says what was counted.
func downloadDefaults(subject string) map[string]string {
	switch subject {
	case "ranking": // a ranking's range may be left open at either end
		return map[string]string{"metric": projections.MetricLicenses, "limit": strconv.Itoa(projections.DefaultRankingLimit),
			"from": "", "to": ""}
	case reviewCoverageSubject:
		return map[string]string{} // as_of is set by the handler
	case dealsByRegionSubject:
		return map[string]string{"level": "district"}
	}
	return map[string]string{"period": string(projections.Month)}
}

// reviewCoverageSubject is the download subject of the review coverage.
const reviewCoverageSubject = "review-coverage"

// downloadTitle is "subject (period)", "ranking (metric)" or "review
// coverage (campaign)".
func downloadTitle(c echo.Context, lang string) string {
	t := translator(lang)
	subject := downloadSubject(c)
	title := t("download.title." + subject)
	if title == "download.title."+subject {
		title = subject
	}
	qual := ""
	defaults := downloadDefaults(subject)
	if subject == "ranking" {
		qual = t("metric." + cmpOr(c.QueryParam("metric"), defaults["metric"]))
	} else if subject == reviewCoverageSubject {
		qual = c.QueryParam("campaign")
	} else if p, ok := defaults["period"]; ok {
		qual = t("period." + cmpOr(c.QueryParam("period"), p))
	}
	if qual == "" {
		return title
	}
	if lang == langZH {
		return title + "（" + qual + "）"
	}
	return title + " (" + qual + ")"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// downloadParamsOrder is the order of the known parameters in the header
// block; other parameters follow in name order.
var downloadParamsOrder = []string{"period", "from", "to", "as_of", "level", "metric", "type", "patentee_id", "licensee_id",
	"region", "ipc", "kind", "sme", "campaign", "sort", "limit"}

// downloadFilters lists the request's parameters (and the defaults of the
// missing period or metric) as label–value rows, an organisation's ID
// followed by its name; format, layout, lang and min_position are not
// filters.
func downloadFilters(c echo.Context, t func(string) string, orgName orgNames) [][2]string {
	q := c.QueryParams()
	subject := downloadSubject(c)
	values := map[string]string{}
	for k, v := range downloadDefaults(subject) {
		values[k] = v
	}
	var extra []string
	for k, vs := range q {
		switch k {
		case "format", "layout", "lang", "min_position":
			continue
		}
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		values[k] = vs[0]
		if !slices.Contains(downloadParamsOrder, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	var out [][2]string
	for _, k := range append(slices.Clone(downloadParamsOrder), extra...) {
		v, ok := values[k]
		if !ok {
			continue
		}
		label := t("filter." + k)
		if label == "filter."+k {
			label = k
		}
		value := filterValue(k, v, t)
		if name, ok := orgName(v); ok && (k == "patentee_id" || k == "licensee_id") {
			value = v + " " + name
		}
		out = append(out, [2]string{label, value})
	}
	return out
}

// filterValue translates an enumerated filter value where the catalogue
// knows it; a region code keeps its code before its name.
func filterValue(name, v string, t func(string) string) string {
	key := ""
	switch name {
	case "period":
		key = "period." + v
	case "type":
		key = "license." + v
	case "kind":
		key = "kind." + v
	case "metric":
		key = "metric." + v
	case "sort": // only the review coverage downloads
		key = "coverage_sort." + v
	case "level": // only the deals by region downloads
		key = "level." + v
	case "sme":
		if b, err := strconv.ParseBool(v); err == nil {
			return map[bool]string{true: t("download.yes"), false: t("download.no")}[b]
		}
	case "region":
		if name, ok := regionName(t, v); ok {
			return v + " " + name
		}
	case "from", "to":
		if v == "" { // a bound left open
			return t("download.unbounded")
		}
	}
	if key != "" {
		if m := t(key); m != key {
			return m
		}
	}
	return v
}

// contentDisposition names the attachment: an ASCII file name from name,
// and the UTF-8 one (RFC 5987 filename*) starting with the title, if any.
func contentDisposition(name, title, format string) string {
	ascii := asciiFileName(name) + "." + format
	full := ascii
	if title != "" {
		full = strings.Map(func(r rune) rune {
			if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
				return '_'
			}
			return r
		}, title) + "_" + ascii
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, rfc5987(full))
}

// maxFileName bounds the ASCII file name of a download (without its
// extension), well within what Windows and Excel take with a folder;
// downloadName keeps to it.
const maxFileName = 120

// asciiFileName keeps letters, digits, '.', '-' and '_' of name (each
// other byte becomes '_').
func asciiFileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "download"
	}
	return string(b)
}

// rfc5987 percent-encodes s as an RFC 5987 value-chars.
func rfc5987(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// csvText is the text of a cell in a CSV download: money as yuan, numbers
// in decimal, text that a spreadsheet would read as a formula with a
// leading apostrophe.
func csvText(v any) string {
	switch v := v.(type) {
	case fen:
		return yuan(v)
	case heading:
		return string(v)
	case term:
		return string(v)
	case day:
		return domain.Date(v).String()
	case string:
		if formulaLike(v) {
			return "'" + v
		}
		return v
	}
	return fmt.Sprint(v)
}

// formulaLike says whether a spreadsheet would read text s, typed into a
// cell, as a formula.
func formulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// writeCSVDocument writes doc as CSV. A report starts with the BOM, the
// header block (each row marked "# " in its first cell) and a blank row;
// every row has as many fields as the table's, so that strict CSV readers
// accept it. A data table is the table alone.
func writeCSVDocument(w *bytes.Buffer, doc document) error {
	cw := csv.NewWriter(w)
	if doc.title == "" {
		return writeCSVRows(cw, doc.table)
	}
	w.WriteString(csvBOM)
	width := 2
	for _, row := range doc.table {
		width = max(width, len(row))
	}
	pad := func(rec ...string) []string {
		return append(rec, make([]string, width-len(rec))...)
	}
	block := [][]string{pad(csvMetaMark + doc.title)}
	for _, m := range doc.meta {
		block = append(block, pad(csvMetaMark+m[0], csvText(m[1])))
	}
	if err := cw.WriteAll(block); err != nil {
		return err
	}
	w.WriteString("\n")
	return writeCSVRows(cw, doc.table)
}

func writeCSVRows(cw *csv.Writer, rows [][]any) error {
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = csvText(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeWorkbook writes doc to the first sheet of an Excel workbook: the
// title in bold, the header block, a blank row, the table with its heading
// row in bold; counts as integers, money as yuan formatted "#,##0.00",
// days as dates formatted "yyyy-mm-dd", and text that a spreadsheet would
// read as a formula in the text format "@", so that it stays text when the
// cell is edited.
func writeWorkbook(w *bytes.Buffer, doc document) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newWorkbookStyles(f)
	if err != nil {
		return err
	}
	rows, widths, headRow := layOutWorkbook(doc, st)
	sheet := f.GetSheetName(0)
	// The stream writer writes the sheet's dimension as it stands when it
	// starts: readers that size the sheet by it need the whole range.
	if err := f.SetSheetDimension(sheet, usedRange(rows)); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	for _, col := range slices.Sorted(maps.Keys(widths)) { // in order: the same figures give the same bytes
		if err := sw.SetColWidth(col, col, float64(min(max(widths[col]+2, 10), 42))); err != nil {
			return err
		}
	}
	if len(doc.table) > 1 {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headRow, TopLeftCell: fmt.Sprintf("A%d", headRow+1),
			ActivePane: "bottomLeft"}); err != nil {
			return err
		}
	}
	for i, row := range rows {
		if row == nil {
			continue // the blank row before the table
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+1), row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := setWorkbookProperties(f, doc); err != nil {
		return err
	}
	return f.Write(w)
}

// workbookAuthor names the ledger as the author and application of its
// workbooks, in place of the workbook library's defaults (its author's
// name, 2006-09-16).
const workbookAuthor = "Patent open-licensing ledger"

// setWorkbookProperties sets the document properties that office software
// shows: the ledger as author and application, doc's title, and when its
// figures were read as the creation and modification times.
func setWorkbookProperties(f *excelize.File, doc document) error {
	when := doc.generated.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: workbookAuthor, LastModifiedBy: workbookAuthor,
		Title: doc.title, Created: when, Modified: when}); err != nil {
		return err
	}
	return f.SetAppProps(&excelize.AppProperties{Application: workbookAuthor})
}

// usedRange is the range of cells rows fill, from A1.
func usedRange(rows [][]any) string {
	cols := 1
	for _, row := range rows {
		cols = max(cols, len(row))
	}
	last, _ := excelize.CoordinatesToCellName(cols, max(len(rows), 1))
	return "A1:" + last
}

// workbookStyles are the cell styles of a workbook download.
type workbookStyles struct{ title, label, head, money, integer, date, text int }

// newWorkbookStyles adds the styles of a download to f.
func newWorkbookStyles(f *excelize.File) (workbookStyles, error) {
	moneyFmt, dateFmt := "#,##0.00", "yyyy-mm-dd"
	var st workbookStyles
	for _, s := range []struct {
		id    *int
		style *excelize.Style
	}{
		{&st.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.label, &excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&st.head, &excelize.Style{Font: &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}}},
		{&st.money, &excelize.Style{CustomNumFmt: &moneyFmt}},
		{&st.integer, &excelize.Style{NumFmt: 1}}, // "0"
		{&st.date, &excelize.Style{CustomNumFmt: &dateFmt}},
		{&st.text, &excelize.Style{NumFmt: 49}}, // "@": what is typed in stays text
	} {
		id, err := f.NewStyle(s.style)
		if err != nil {
			return st, err
		}
		*s.id = id
	}
	return st, nil
}

// layOutWorkbook returns the rows of doc's sheet as stream cells (nil for
// the blank row before the table), the width each column needs (by
// column number) and the row of the table's headings.
func layOutWorkbook(doc document, st workbookStyles) (rows [][]any, widths map[int]int, headRow int) {
	widths = map[int]int{}
	measure := func(col int, s string) {
		n := 0
		for _, r := range s {
			n++
			if utf8.RuneLen(r) > 1 {
				n++ // CJK characters are about two columns wide
			}
		}
		widths[col] = max(widths[col], n)
	}
	cell := func(col int, v any, style int) excelize.Cell {
		switch v := v.(type) {
		case fen:
			measure(col, yuan(v)+"  ")
			return excelize.Cell{StyleID: cmp.Or(style, st.money), Value: yuanFloat(v)}
		case int64:
			measure(col, strconv.FormatInt(v, 10))
			return excelize.Cell{StyleID: cmp.Or(style, st.integer), Value: v}
		case day:
			measure(col, domain.Date(v).String())
			y, m, d := domain.Date(v).Time().Date()
			return excelize.Cell{StyleID: cmp.Or(style, st.date), Value: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
		case heading, term:
			measure(col, fmt.Sprint(v))
			return excelize.Cell{StyleID: style, Value: fmt.Sprint(v)}
		case string:
			if style != st.title {
				measure(col, v)
			}
			if style == 0 && formulaLike(v) {
				style = st.text // a cell edited in Excel must not turn into a formula
			}
		}
		return excelize.Cell{StyleID: style, Value: v}
	}
	if doc.title != "" || len(doc.meta) > 0 {
		rows = append(rows, []any{cell(1, doc.title, st.title)})
		for _, m := range doc.meta {
			rows = append(rows, []any{cell(1, m[0], st.label), cell(2, m[1], 0)})
		}
		rows = append(rows, nil)
	}
	headRow = len(rows) + 1
	for i, r := range doc.table {
		style := 0
		if i == 0 {
			style = st.head
		}
		row := make([]any, len(r))
		for j, v := range r {
			row[j] = cell(j+1, v, style)
		}
		rows = append(rows, row)
	}
	return rows, widths, headRow
}
