// Package importer reads patent lists — CSV (UTF-8 with or without a BOM,
// GB18030 or UTF-16; comma-, semicolon- or tab-separated) and Excel .xlsx
// workbooks with the Chinese or English headers of CONTRACT.md — as a
// stream of domain.ImportRow values, chunk by chunk, so that a file of any
// length is imported in bounded memory. A row the reader cannot make sense
// of becomes a row with Problems, never a failure of the whole file.
package importer

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/patentledger/ledger/domain"
)

// headerAliases maps each header a file may use, in its folded form (see
// foldHeader), to its column.
var headerAliases = map[string]string{
	"number": domain.ColNumber, "patent_number": domain.ColNumber, "专利号": domain.ColNumber,
	"title": domain.ColTitle, "专利名称": domain.ColTitle,
	"patentees": domain.ColPatentees, "patentee": domain.ColPatentees, "专利权人": domain.ColPatentees,
	"ipc": domain.ColIPC, "ipc分类号": domain.ColIPC,
	"locarno": domain.ColLocarno, "洛迦诺分类号": domain.ColLocarno,
	"filed_on": domain.ColFiledOn, "申请日": domain.ColFiledOn,
	"granted_on": domain.ColGrantedOn, "授权公告日": domain.ColGrantedOn,
	"abstract": domain.ColAbstract, "摘要": domain.ColAbstract,
	"fee_mode": domain.ColFeeMode, "许可费支付方式": domain.ColFeeMode,
	"lump_sum_fen":   domain.ColLumpSumFen,
	"instalment_fen": domain.ColInstalmentFen, "installment_fen": domain.ColInstalmentFen,
	"instalments": domain.ColInstalments, "installments": domain.ColInstalments,
	"entry_fee_fen": domain.ColEntryFeeFen,
	"royalty_bp":    domain.ColRoyaltyBP,
	"royalty_base":  domain.ColRoyaltyBase, "提成基数": domain.ColRoyaltyBase,
	"term_months": domain.ColTermMonths, "许可期限(月)": domain.ColTermMonths,
	"declared_on": domain.ColDeclaredOn, "声明日期": domain.ColDeclaredOn,
	"evaluation_report_ref": domain.ColEvaluationReportRef, "评价报告编号": domain.ColEvaluationReportRef,
	"co_owner_consent": domain.ColCoOwnerConsent, "共有人同意": domain.ColCoOwnerConsent,
	"other_terms": domain.ColOtherTerms, "其他条件": domain.ColOtherTerms,
}

// fallbackAliases are headers of exports (CNIPA's, patent databases') that
// name a column only when no other header of the row names it as
// headerAliases do: a list may have both 专利号 and 申请号.
var fallbackAliases = map[string]string{
	"申请号": domain.ColNumber, "发明名称": domain.ColTitle, "授权日": domain.ColGrantedOn,
	"主分类号": domain.ColIPC, "分类号": domain.ColIPC,
}

// totalWords are what the number cell of a total row under a list says;
// such a row is no patent.
var totalWords = map[string]bool{"合计": true, "总计": true, "小计": true, "共计": true, "total": true}

// lesserAliases rank fallback aliases that yield to another of the same
// column: 分类号 holds every IPC code of a patent, 主分类号 only the main
// one, and a list may have both.
var lesserAliases = map[string]int{"主分类号": 1}

// columnTitles are the Chinese headers of the required columns, for the
// messages that name a missing one.
var columnTitles = map[string]string{
	domain.ColNumber: "专利号", domain.ColTitle: "专利名称", domain.ColPatentees: "专利权人", domain.ColIPC: "IPC分类号",
	domain.ColLocarno: "洛迦诺分类号", domain.ColFiledOn: "申请日", domain.ColGrantedOn: "授权公告日",
}

// requiredColumns must each have a header; a file needs ipc or locarno
// besides.
var requiredColumns = []string{domain.ColNumber, domain.ColTitle, domain.ColPatentees, domain.ColFiledOn, domain.ColGrantedOn}

// declarationColumns are the columns of a declaration: a row with any of
// them filled in declares its patent.
var declarationColumns = []string{domain.ColFeeMode, domain.ColLumpSumFen, domain.ColInstalmentFen, domain.ColInstalments,
	domain.ColEntryFeeFen, domain.ColRoyaltyBP, domain.ColRoyaltyBase, domain.ColTermMonths, domain.ColDeclaredOn,
	domain.ColEvaluationReportRef, domain.ColCoOwnerConsent, domain.ColOtherTerms}

// feeModeNames are the words that name each fee mode in a cell besides
// its code: the Chinese words of lists, in the order messages list them,
// and English spellings.
var feeModeNames = []struct {
	mode  domain.FeeMode
	words []string
}{
	{domain.FeeFree, []string{"免费", "免费许可"}},
	{domain.FeeLumpSum, []string{"一次性支付", "一次性", "一次性付款", "一次总付"}},
	{domain.FeeInstalment, []string{"分期付款", "分期", "分期支付", "installment"}},
	{domain.FeeRoyalty, []string{"提成", "提成支付", "按销售额提成", "销售额提成"}},
	{domain.FeeEntryPlusRoyalty, []string{"入门费+提成", "入门费加提成", "入门费+销售提成", "入门费加销售提成"}},
}

// feeModeWords maps fee modes in Chinese (and English), folded (see
// foldHeader), to their codes.
var feeModeWords = func() map[string]domain.FeeMode {
	m := map[string]domain.FeeMode{}
	for _, n := range feeModeNames {
		m[string(n.mode)] = n.mode
		for _, w := range n.words {
			m[foldHeader(w)] = n.mode
		}
	}
	return m
}()

// feeModeBases are the fee mode words that name the royalty base too: a
// row whose royalty_base is blank takes it from them.
var feeModeBases = map[string]domain.RoyaltyBase{
	foldHeader("按销售额提成"): domain.BaseNetSales, foldHeader("销售额提成"): domain.BaseNetSales,
	foldHeader("入门费+销售提成"): domain.BaseNetSales, foldHeader("入门费加销售提成"): domain.BaseNetSales,
}

// feeModeHint lists the Chinese fee mode words with the codes, for a
// message: "免费, 免费许可 (free); …".
var feeModeHint = func() string {
	parts := make([]string, len(feeModeNames))
	for i, n := range feeModeNames {
		chinese := slices.DeleteFunc(slices.Clone(n.words), func(w string) bool { return w[0] < utf8.RuneSelf })
		parts[i] = fmt.Sprintf("%s (%s)", strings.Join(chinese, ", "), n.mode)
	}
	return strings.Join(parts, "; ")
}()

// royaltyBaseWords maps royalty bases in Chinese (and English) to their
// codes.
var royaltyBaseWords = map[string]domain.RoyaltyBase{
	"净销售额": domain.BaseNetSales, "销售额": domain.BaseNetSales, "net_sales": domain.BaseNetSales,
	"利润": domain.BaseProfit, "净利润": domain.BaseProfit, "profit": domain.BaseProfit,
}

// headerSearchRows is how many non-empty rows at the top of a sheet may
// come before the header row (a title line such as "2024年开放许可专利清单").
const headerSearchRows = 10

// Encodings a CSV file may be in.
const (
	EncodingUTF8    = "UTF-8"
	EncodingUTF8BOM = "UTF-8 with BOM"
	EncodingGB18030 = "GB18030"
	// EncodingUTF16 is UTF-16 with a BOM, either byte order: Excel's
	// "Unicode text" (tab-separated).
	EncodingUTF16 = "UTF-16"
)

// source yields the rows of a sheet in order.
type source interface {
	// next returns the next row that has a cell, with its number as the
	// spreadsheet shows it; io.EOF after the last. A *rowError is a
	// malformed row: reading can go on.
	next() (row int, cells []string, err error)
	// mergedFrom returns the top row of the merged range that gave cell i
	// of the last row next returned its value, 0 when none did.
	mergedFrom(i int) int
	close() error
}

// rowError is a row that cannot be read (a malformed CSV line).
type rowError struct {
	row int
	msg string
}

func (e *rowError) Error() string { return fmt.Sprintf("row %d: %s", e.row, e.msg) }

// Reader reads a patent list row by row. It is not safe for concurrent use.
type Reader struct {
	src       source
	serials   bool // dates may be Excel serial numbers
	date1904  bool
	format    string
	encoding  func() string
	counted   *countingReader
	index     map[string]int    // column → cell index
	labels    map[string]string // column → header as the file spells it
	ignored   []string
	headerRow int
	// lastHeader is the index of the header row's last cell: a CSV row with
	// cells beyond it was split by a separator left unquoted.
	lastHeader int
	separator  rune   // of a CSV file
	dup        string // two columns with the same meaning, when found
	// held is the last data row read, held back until the next row shows
	// whether it continues the same patent (see continues); ready are the
	// rows Next returns next, and ended says the file has no more.
	held  *heldRow
	ready []domain.ImportRow
	ended bool
}

// Option changes how NewReader reads a file.
type Option func(*options)

// options are what the Options given to NewReader set.
type options struct {
	tempDir string // "" for the system's temporary folder
}

// TempFilePrefix starts the name of every temporary file an import makes:
// the copy of a workbook read from a stream (here) and an upload spooled
// to disk (the API's), so that a server can tell its own leftovers apart.
const TempFilePrefix = "ledger-import-"

// TempDir makes the reader keep its temporary files (the copy of a
// workbook that is not a regular file, and what the workbook library
// unzips to disk) in dir rather than in the system's temporary folder: a
// server gives a folder of its own, which it empties when it starts, so
// that a process killed while it reads leaves nothing behind for good.
func TempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// NewReader detects the format of r (an .xlsx workbook by its ZIP
// signature, CSV otherwise), reads up to the header row and returns a
// reader positioned on the first data row. A workbook is read from the
// sheet that holds the list (see readWorkbookHeader); when r is not an
// *os.File it is first copied to a temporary file, so that it is never
// held in memory whole. NewReader returns an invalid_argument
// *domain.Error naming the field "file" when the file is not a patent list
// (an empty file, a PDF, Word or OpenDocument file, a legacy .xls, no
// header row, a required column missing or given twice, a workbook with
// several lists, a header cell merged with the row below it), and the
// reading error when r fails. In a workbook,
// a range of cells merged below the header row gives the value of its
// top-left cell to the rows it spans (see mergeFiller). Temporary files
// go to the system's temporary folder unless an option says otherwise
// (TempDir).
func NewReader(r io.Reader, opts ...Option) (*Reader, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	counted := &countingReader{r: r}
	br := bufio.NewReaderSize(counted, sniffWindow)
	magic, err := br.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	rd := &Reader{counted: counted}
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		rd.format = "xlsx"
		book, err := openXLSX(r, br, o.tempDir)
		if err != nil {
			return nil, err
		}
		rd.serials, rd.date1904 = true, book.date1904
		rd.encoding = func() string { return "" }
		if err := rd.readWorkbookHeader(book); err != nil {
			book.close()
			return nil, err
		}
		return rd, nil
	case bytes.HasPrefix(magic, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, domain.Invalid("file", "is a legacy Excel .xls workbook (or an encrypted one); save it as .xlsx or CSV")
	case bytes.HasPrefix(magic, []byte("%PDF")):
		return nil, domain.Invalid("file", "is a PDF file, not a spreadsheet; save the list as .xlsx or CSV")
	default:
		rd.format = "csv"
		cs, err := openCSV(br)
		if err != nil {
			return nil, err
		}
		rd.src, rd.encoding, rd.separator = cs, cs.encoding, cs.r.Comma
	}
	if err := rd.readHeader(); err != nil {
		rd.src.close()
		return nil, err
	}
	return rd, nil
}

// Format returns "csv" or "xlsx".
func (r *Reader) Format() string { return r.format }

// Encoding returns the text encoding of a CSV file as detected so far
// (EncodingUTF8 until a non-ASCII byte says otherwise), "" for a workbook.
func (r *Reader) Encoding() string { return r.encoding() }

// BytesRead returns how many bytes of the input have been read.
// It is safe to call from any goroutine.
func (r *Reader) BytesRead() int64 { return r.counted.n.Load() }

// Ignored returns the headers the reader does not know; their columns are
// not imported.
func (r *Reader) Ignored() []string { return r.ignored }

// HeaderRow returns the number of the header row, as a spreadsheet shows
// it.
func (r *Reader) HeaderRow() int { return r.headerRow }

// ColumnLabel returns the header of column (domain.Col…) as the file spells
// it, or "" when the file has no such column.
func (r *Reader) ColumnLabel(column string) string { return r.labels[column] }

// Close releases the reader's temporary files. It does not close the input.
func (r *Reader) Close() error { return r.src.close() }

// Next returns up to limit rows; at the end of the file it returns io.EOF
// and no rows. Empty rows are skipped; a row that cannot be read has its
// problem in Problems under the column domain.ColRow; a patent laid over
// several rows is one row (see continues). The error is that of the input
// otherwise (for a request body over its limit, an *http.MaxBytesError).
// A panic of the parsers on the file's content (Run calls Next on a
// goroutine of its own, where nothing else would catch it) is an
// invalid_argument *domain.Error naming the field "file".
func (r *Reader) Next(limit int) (_ []domain.ImportRow, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = domain.Invalid("file", "could not be read to its end: its %s reader failed on it (%v)", r.format, p)
		}
	}()
	var out []domain.ImportRow
	for len(out) < limit {
		if len(r.ready) > 0 {
			n := min(limit-len(out), len(r.ready))
			out, r.ready = append(out, r.ready[:n]...), r.ready[n:]
			continue
		}
		if r.ended {
			break
		}
		if err := r.readRow(); err != nil {
			return out, err
		}
	}
	if len(out) == 0 && r.ended {
		return nil, io.EOF
	}
	return out, nil
}

// readRow reads the next row of the file: it joins the held row when it
// continues its patent, else the held row is ready and the row is held.
// A row that cannot be read while a row is held waits with it, for the
// held patent is not known to be complete.
func (r *Reader) readRow() error {
	row, cells, err := r.src.next()
	var re *rowError
	switch {
	case errors.Is(err, io.EOF):
		r.releaseHeld()
		r.ended = true
		return nil
	case errors.As(err, &re):
		bad := domain.ImportRow{Row: re.row, Problems: []domain.FieldError{{Field: domain.ColRow, Message: re.msg}}}
		if r.held != nil {
			r.held.unreadable = append(r.held.unreadable, bad)
		} else {
			r.ready = append(r.ready, bad)
		}
		return nil
	case err != nil:
		return err
	case !r.hasKnownCell(cells):
		return nil // blank, or notes beside the list: it ends no patent
	case r.isTotalRow(cells):
		return nil // a total row under the list (合计 | 6项, 合计：6项)
	case r.repeatsHeader(cells):
		return nil // the header again, where two exports were pasted one under the other
	}
	if r.held != nil && r.continues(cells) {
		r.held.absorb(r, row, cells)
		return nil
	}
	r.releaseHeld()
	r.held = &heldRow{row: row, cells: slices.Clone(cells)}
	return nil
}

// readHeader finds the header row among the first rows and maps its cells
// to columns.
func (r *Reader) readHeader() error {
	var first []string // the non-blank cells of the first row that has some
	content := false   // a row had a cell, or could not be read
	for seen := 0; seen < headerSearchRows; seen++ {
		row, cells, err := r.src.next()
		var re *rowError
		switch {
		case errors.Is(err, io.EOF) && !content:
			return domain.Invalid("file", "is empty: it has no header row and no data; choose the file that holds the list")
		case errors.Is(err, io.EOF):
			return domain.Invalid("file", "has no header row; the first row must name the columns (专利号 or number, 专利名称 or title, …); %s", firstCells(first))
		case errors.As(err, &re):
			content = true
			continue
		case err != nil:
			return err
		}
		if r.mapHeader(cells) {
			r.headerRow = row
			return r.checkHeader()
		}
		if first == nil {
			first = nonBlank(cells)
		}
		content = content || first != nil
	}
	return domain.Invalid("file", "has no header row with 专利号 or number in its first %d rows; %s", headerSearchRows, firstCells(first))
}

// nonBlank returns a copy of the cells that are not blank, trimmed.
func nonBlank(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// firstCells says what the first row with cells holds, for a file whose
// header row was not found.
func firstCells(cells []string) string {
	if len(cells) == 0 {
		return "none of its first rows has a cell that could be read"
	}
	return "its first row holds " + quoteSome(cells, 8)
}

// readWorkbookHeader finds the patent list of a workbook and reads up to
// its header row: the list is on a sheet whose header row (within its
// first rows) has every required column, wherever the sheet is: a
// template's instructions, or an empty Sheet1, often come first. Of
// several such sheets, the one that is visible and has rows below its
// header is the list (a hidden template holds a header alone); more than
// one is refused (see chooseList). The merged cells of the list's sheet
// are read once its header row is known (see xlsxSource.readMerges).
func (r *Reader) readWorkbookHeader(book *xlsxBook) (err error) {
	lists, err := r.listSheets(book)
	var list *listSheet
	if err == nil {
		list, err = chooseList(lists)
	}
	for i := range lists {
		if &lists[i] != list {
			lists[i].src().rows.Close()
		}
	}
	if err != nil {
		return err
	}
	src := list.src()
	defer func() {
		if err != nil {
			src.rows.Close()
		}
	}()
	*r = *list.rd
	if err := src.checkWellFormed(); err != nil {
		return err
	}
	return src.readMerges(r.headerRow)
}

// listSheet is a sheet of a workbook whose header row has every required
// column.
type listSheet struct {
	rd     *Reader // positioned on the sheet's first data row
	name   string
	hidden bool
	empty  bool // no row below the header
}

func (l *listSheet) src() *xlsxSource { return l.rd.src.(*xlsxSource) }

// label names the sheet for a message, saying whether it is hidden or has
// no rows.
func (l *listSheet) label() string {
	var notes []string
	if l.hidden {
		notes = append(notes, "hidden")
	}
	if l.empty {
		notes = append(notes, "no rows")
	}
	if len(notes) == 0 {
		return domain.Quote(l.name)
	}
	return fmt.Sprintf("%s (%s)", domain.Quote(l.name), strings.Join(notes, ", "))
}

// listSheets reads every sheet of the workbook up to its header row and
// returns the sheets of lists. A workbook with none answers the problem of
// the first sheet that has a number column, else that of its only sheet,
// else that no sheet has a header row. The lists found so far are returned
// with any error, for the caller to close.
func (r *Reader) listSheets(book *xlsxBook) ([]listSheet, error) {
	sheets := book.f.GetSheetList()
	var lists []listSheet
	var first, partial error
	for _, name := range sheets {
		cand, err := r.readSheetHeader(book, name)
		var de *domain.Error
		switch {
		case err != nil && !errors.As(err, &de):
			return lists, err
		case err != nil:
			first = cmp.Or(first, err)
			if cand != nil && cand.index != nil && partial == nil {
				partial = sheetProblem(name, len(sheets), de)
			}
			continue
		}
		visible, verr := book.f.GetSheetVisible(name)
		lists = append(lists, listSheet{rd: cand, name: name, hidden: verr == nil && !visible, empty: !cand.src.(*xlsxSource).hasRow()})
	}
	switch {
	case len(lists) > 0:
		return lists, nil
	case partial != nil:
		return nil, partial
	case len(sheets) == 1:
		return nil, first
	}
	return nil, domain.Invalid("file", "has no sheet with a header row naming 专利号 or number (and the other columns) in its first %d rows", headerSearchRows)
}

// chooseList returns the list to import: the one visible sheet with rows
// below its header, or the one list of the workbook. Several visible
// lists with rows (or, when there is none, several lists) are refused,
// naming the first two.
func chooseList(lists []listSheet) (*listSheet, error) {
	var live []*listSheet
	for i := range lists {
		if l := &lists[i]; !l.hidden && !l.empty {
			live = append(live, l)
		}
	}
	if len(live) == 0 {
		for i := range lists {
			live = append(live, &lists[i])
		}
	}
	if len(live) > 1 {
		return nil, domain.Invalid("file", "sheets %s and %s both hold a patent list; import one sheet at a time (move the others to another workbook)", live[0].label(), live[1].label())
	}
	return live[0], nil
}

// readSheetHeader reads one sheet of a workbook up to its header row and
// returns a copy of r positioned on its first data row. On an error of
// readHeader the copy is returned too, its sheet closed, with the header
// it found, if any; nil when the sheet cannot be read at all (a chart
// sheet). A sheet that ends before its header row is checked for damage,
// which the row iterator takes for the sheet's end: a damaged one answers
// its damage rather than a header problem.
func (r *Reader) readSheetHeader(book *xlsxBook, name string) (*Reader, error) {
	src, err := book.sheet(name)
	if err != nil {
		return nil, err
	}
	cand := *r
	cand.src = src
	if err := cand.readHeader(); err != nil {
		if !src.hasRow() {
			err = cmp.Or(src.checkWellFormed(), err)
		}
		src.rows.Close()
		return &cand, err
	}
	return &cand, nil
}

// sheetProblem names the sheet in a header problem of a workbook with
// several sheets.
func sheetProblem(sheet string, sheets int, de *domain.Error) error {
	if sheets == 1 || len(de.Fields) != 1 {
		return de
	}
	return domain.Invalid("file", "sheet %s: %s", domain.Quote(sheet), de.Fields[0].Message)
}

// mapHeader maps the cells of a candidate header row; it reports whether
// the row is the header (it names the number column). A weak header (see
// headerColumn) names its column unless another header of the row names
// that column as it is.
func (r *Reader) mapHeader(cells []string) bool {
	heads := headerCells(cells)
	index, labels, mapped := map[string]int{}, map[string]string{}, map[int]bool{}
	dup := ""
	for _, h := range heads {
		if h.col == "" || h.weak {
			continue
		}
		if _, twice := index[h.col]; twice && dup == "" {
			dup = fmt.Sprintf("columns %s and %s are both %s", columnName(index[h.col]), columnName(h.i), h.col)
		}
		index[h.col], labels[h.col], mapped[h.i] = h.i, h.label, true
	}
	weak := slices.DeleteFunc(slices.Clone(heads), func(h headerCell) bool { return !h.weak })
	slices.SortStableFunc(weak, func(a, b headerCell) int { return cmp.Compare(a.rank, b.rank) })
	for _, h := range weak {
		if _, taken := index[h.col]; !taken {
			index[h.col], labels[h.col], mapped[h.i] = h.i, h.label, true
		}
	}
	var ignored []string
	for _, h := range heads {
		if !mapped[h.i] {
			ignored = append(ignored, h.label)
		}
	}
	if _, ok := index[domain.ColNumber]; !ok {
		return false
	}
	r.index, r.labels, r.ignored, r.dup = index, labels, ignored, dup
	r.lastHeader = heads[len(heads)-1].i
	return true
}

// headerCell is a non-blank cell of a candidate header row.
type headerCell struct {
	i     int
	label string // as the file spells it
	col   string // the column it names, "" for none
	weak  bool   // see headerColumn
	// rank orders weak headers of one column: the lower names it.
	rank int
}

func headerCells(cells []string) []headerCell {
	var heads []headerCell
	for i, cell := range cells {
		label := strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff"))
		if label == "" {
			continue
		}
		col, weak := headerColumn(label)
		heads = append(heads, headerCell{i: i, label: label, col: col, weak: weak, rank: lesserAliases[foldHeader(label)]})
	}
	return heads
}

// headerColumn returns the column a header names (see foldHeader,
// headerAliases and fallbackAliases), "" for none. Failing that, it drops
// the notes in brackets at the header's end, one by one, as templates add
// them (专利号（必填）, 申请日(yyyy-mm-dd)). weak is true for a fallback
// alias, or a header named only once its notes are dropped.
func headerColumn(label string) (col string, weak bool) {
	h := foldHeader(label)
	if col, weak, ok := alias(h); ok {
		return col, weak
	}
	for strings.HasSuffix(h, ")") {
		i := strings.LastIndexByte(h, '(')
		if i <= 0 {
			break
		}
		h = h[:i]
		if col, _, ok := alias(h); ok {
			return col, true
		}
	}
	return "", false
}

// alias returns the column a folded header names, and whether it is a
// fallback alias.
func alias(h string) (col string, fallback, ok bool) {
	if col, ok := headerAliases[h]; ok {
		return col, false, true
	}
	col, ok = fallbackAliases[h]
	return col, true, ok
}

// checkHeader refuses a header that names a column twice, or lacks a
// required one: the message names each missing column by its Chinese and
// English headers, and the headers of the file it did not know.
func (r *Reader) checkHeader() error {
	if r.dup != "" {
		return domain.Invalid("file", "%s; give each column once", r.dup)
	}
	if clash := r.unitClashes(); clash != "" {
		return domain.Invalid("file", "%s", clash)
	}
	var missing []string
	for _, col := range requiredColumns {
		if _, ok := r.index[col]; !ok {
			missing = append(missing, columnTitle(col))
		}
	}
	_, ipc := r.index[domain.ColIPC]
	_, locarno := r.index[domain.ColLocarno]
	if !ipc && !locarno {
		missing = append(missing, columnTitle(domain.ColIPC)+" or "+columnTitle(domain.ColLocarno))
	}
	if len(missing) == 0 {
		return nil
	}
	unknown := ""
	if len(r.ignored) > 0 {
		unknown = fmt.Sprintf("; the headers %s are not ones the import knows", quoteSome(r.ignored, 10))
	}
	return domain.Invalid("file", "the header row has no column %s%s; see the README's import columns for the Chinese and English headers",
		strings.Join(missing, ", "), unknown)
}

// columnUnits are the units of the columns that hold amounts, the words
// that, in a header's notes in brackets, name another unit, and those that
// name the column's own: a header "royalty_bp(%)" or "lump_sum_fen(元)"
// would have its values read 100 times too small, and a declaration's
// terms never change, while "royalty_bp(1bp=0.01%)" or
// "lump_sum_fen(100分=1元)" names the column's unit.
var columnUnits = map[string]struct {
	unit        string
	other, same []string
}{
	domain.ColLumpSumFen:    {"fen (1 元 = 100 fen)", yuanWords, fenWords},
	domain.ColInstalmentFen: {"fen (1 元 = 100 fen)", yuanWords, fenWords},
	domain.ColEntryFeeFen:   {"fen (1 元 = 100 fen)", yuanWords, fenWords},
	domain.ColRoyaltyBP: {"basis points (1% = 100 bp)", []string{"%", "percent", "pct", "百分", "‰", "千分", "permille"},
		[]string{"bp", "基点", "0.01%", "万分"}},
	domain.ColTermMonths: {"months", []string{"年", "year", "yr", "天", "日", "day", "周", "week", "季"}, []string{"月", "month"}},
}

var (
	// yuanWords name amounts in yuan or another currency rather than fen.
	yuanWords = []string{"元", "圆", "块", "角", "yuan", "rmb", "cny", "¥", "￥", "万", "usd", "$", "eur", "€", "hkd", "港币", "美元"}
	// fenWords name the fen.
	fenWords = []string{"分", "fen"}
)

// unitClashes names the columns whose header's notes in brackets name a
// unit other than the column's ("royalty_bp(%)") and not the column's own
// as well, "" when none does.
func (r *Reader) unitClashes() string {
	var clashes []string
	for _, col := range slices.Sorted(maps.Keys(r.index)) {
		u, ok := columnUnits[col]
		if !ok {
			continue
		}
		notes := headerNotes(foldHeader(r.labels[col]))
		contains := func(w string) bool { return strings.Contains(notes, w) }
		if i := slices.IndexFunc(u.other, contains); i >= 0 && !slices.ContainsFunc(u.same, contains) {
			clashes = append(clashes, fmt.Sprintf("column %s's header %s gives its unit as %s, but %s is in %s; give the values in %s and the header without that unit",
				columnName(r.index[col]), domain.Quote(r.labels[col]), domain.Quote(u.other[i]), col, u.unit, u.unit))
		}
	}
	return strings.Join(clashes, "; ")
}

// headerNotes returns the notes in brackets of a folded header, joined.
func headerNotes(h string) string {
	var notes strings.Builder
	for {
		open := strings.IndexByte(h, '(')
		if open < 0 {
			return notes.String()
		}
		h = h[open+1:]
		end := strings.IndexByte(h, ')')
		if end < 0 {
			end = len(h)
		}
		notes.WriteString(h[:end] + " ")
		h = h[end:]
	}
}

// columnTitle names a required column by its Chinese and English headers:
// 专利名称 (title).
func columnTitle(col string) string { return columnTitles[col] + " (" + col + ")" }

// quoteSome quotes the first n items (see listSome).
func quoteSome(items []string, n int) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = domain.Quote(s)
	}
	return listSome(quoted, n)
}

// columnName returns the spreadsheet name of the i-th column (0 → A).
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}

// foldHeader is the form in which headers are compared: full-width
// characters folded to ASCII, spaces, BOMs and required-field stars
// dropped, ASCII letters in lower case.
func foldHeader(s string) string {
	return strings.Map(func(r rune) rune {
		switch r = narrowRune(r); r {
		case ' ', '\t', '\ufeff', '*', '\n', '\r':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, s)
}

// narrow returns s with the full-width forms of ASCII characters (Ｚ, ２,
// ．, ／, －, the ideographic space) and the ideographic full stop 。 as
// ASCII: what a Chinese input method in full-width mode types into a cell
// of numbers, codes or dates.
func narrow(s string) string { return strings.Map(narrowRune, s) }

func narrowRune(r rune) rune {
	if r == '。' {
		return '.'
	}
	return domain.FoldWidth(r)
}

// rowBuilder converts the cells of one row.
type rowBuilder struct {
	r     *Reader
	cells []string
	row   domain.ImportRow
}

// raw returns the trimmed cell of a column, "" when the file has no such
// column or the row is short.
func (b *rowBuilder) raw(col string) string { return cellAt(b.cells, b.r.index, col) }

// cell returns the trimmed cell of a column, "" also for an Excel error
// value (excelErrors makes it the column's problem).
func (b *rowBuilder) cell(col string) string {
	s := b.raw(col)
	if excelErrorValues[s] {
		return ""
	}
	return s
}

// excelErrorValues are the values Excel gives a cell whose formula failed
// (a VLOOKUP that found nothing is #N/A): an xlsx cell of type "e" holds
// one, and a CSV file saved from the sheet has it as the cell's text.
var excelErrorValues = map[string]bool{
	"#N/A": true, "#REF!": true, "#VALUE!": true, "#DIV/0!": true, "#NAME?": true, "#NULL!": true,
	"#NUM!": true, "#SPILL!": true, "#CALC!": true, "#GETTING_DATA": true,
	"#BLOCKED!": true, "#BUSY!": true, "#CONNECT!": true, "#EXTERNAL!": true, "#FIELD!": true, "#PYTHON!": true, "#UNKNOWN!": true,
}

// excelErrors adds a problem for each column whose cell holds an Excel
// error value, which is never imported as text.
func (b *rowBuilder) excelErrors() {
	if !slices.ContainsFunc(b.cells, func(c string) bool { return excelErrorValues[strings.TrimSpace(c)] }) {
		return
	}
	for _, col := range b.r.columns() {
		if s := b.raw(col); excelErrorValues[s] {
			b.problem(col, "holds the Excel error %s (a formula failed); fix the formula or paste values", s)
		}
	}
}

// columns returns the columns of the file in the order of its header.
func (r *Reader) columns() []string {
	return slices.SortedFunc(maps.Keys(r.index), func(x, y string) int { return r.index[x] - r.index[y] })
}

// code returns the cell of a column of numbers, codes or dates in ASCII
// (see narrow), without the marks that make a spreadsheet keep it as text:
// a leading apostrophe ('202010123456.2) or a formula of the text alone
// (="202010123456.2", as exports write long numbers into CSV files).
func (b *rowBuilder) code(col string) string { return codeText(b.cell(col)) }

// codeText returns a cell of numbers, codes or dates in ASCII (see narrow),
// trimmed and without the marks that keep it as text (see code).
func codeText(cell string) string {
	s := strings.TrimSpace(narrow(cell))
	if inner, ok := strings.CutPrefix(s, `="`); ok && strings.HasSuffix(inner, `"`) {
		return strings.TrimSpace(strings.TrimSuffix(inner, `"`))
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "'"))
}

func (b *rowBuilder) problem(col, format string, args ...any) {
	b.row.Problems = append(b.row.Problems, domain.FieldError{Field: col, Message: fmt.Sprintf(format, args...)})
}

// convert builds the ImportRow of a data row, which has a cell in a known
// column (readRow skips the others).
func (r *Reader) convert(row int, cells []string) domain.ImportRow {
	if extra := r.beyondHeader(cells); extra != "" {
		return domain.ImportRow{Row: row, Problems: []domain.FieldError{{Field: domain.ColRow, Message: extra}}}
	}
	b := &rowBuilder{r: r, cells: cells, row: domain.ImportRow{Row: row}}
	b.undecodable()
	b.excelErrors()
	b.row.Patent = domain.RegisterPatent{
		Number:      b.number(),
		Title:       b.cell(domain.ColTitle),
		Abstract:    b.cell(domain.ColAbstract),
		PatenteeIDs: splitList(b.cell(domain.ColPatentees)),
		IPC:         domain.SplitIPCList(b.code(domain.ColIPC)),
		Locarno:     b.locarno(),
		FiledOn:     b.date(domain.ColFiledOn),
		GrantedOn:   b.date(domain.ColGrantedOn),
	}
	b.row.Declaration = b.declaration()
	return b.row
}

// isTotalRow reports whether a row is a total under the list: its number
// cell, or its title cell when the number cell is blank, or its first cell
// in a column the import does not read (序号) when the number cell is blank
// or a count, starts with a word of totalWords ("合计", "合计：6项",
// "Total (6)"), and it gives no co-owner, IPC code or consent.
func (r *Reader) isTotalRow(cells []string) bool {
	if slices.ContainsFunc(listColumns, func(col string) bool { return cellAt(cells, r.index, col) != "" }) {
		return false // a total names no co-owner or code: such a row is data, never dropped unseen
	}
	number := cellAt(cells, r.index, domain.ColNumber)
	switch {
	case isTotalLabel(number):
		return true
	case number == "":
		return isTotalLabel(cellAt(cells, r.index, domain.ColTitle)) || r.totalInFirstColumn(cells)
	}
	return countCell.MatchString(foldHeader(number)) && r.totalInFirstColumn(cells) // 合计 | 2项 under a 序号 column
}

// countCell is a count as a total row gives it: 6, 6项, 6件.
var countCell = regexp.MustCompile(`^[0-9]+[项件个]?$`)

// totalInFirstColumn reports whether a row's first cell, in a column the
// import does not read (序号), is a total's label.
func (r *Reader) totalInFirstColumn(cells []string) bool {
	if len(cells) == 0 {
		return false
	}
	for _, i := range r.index {
		if i == 0 {
			return false // the first column is one the import reads
		}
	}
	return isTotalLabel(strings.TrimSpace(cells[0]))
}

// isTotalLabel reports whether a cell starts with a word of totalWords and
// what follows it is a count or a separator, not a word going on
// ("totally").
func isTotalLabel(cell string) bool {
	folded := foldHeader(cell)
	for word := range totalWords {
		if rest, ok := strings.CutPrefix(folded, word); ok && !unicode.IsLetter(firstRune(rest)) {
			return true
		}
	}
	return false
}

// firstRune returns the first character of s, utf8.RuneError when s is
// empty.
func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// repeatsHeader reports whether every filled known cell of a row names its
// own column, as the header row does: a header repeated in the list.
func (r *Reader) repeatsHeader(cells []string) bool {
	for col, i := range r.index {
		if i >= len(cells) || strings.TrimSpace(cells[i]) == "" {
			continue
		}
		if named, _ := headerColumn(strings.TrimSpace(cells[i])); named != col {
			return false
		}
	}
	return true
}

// hasKnownCell reports whether a row has a cell in a column of the list.
func (r *Reader) hasKnownCell(cells []string) bool {
	for _, i := range r.index {
		if i < len(cells) && strings.TrimSpace(cells[i]) != "" {
			return true
		}
	}
	return false
}

// beyondHeader returns the problem of a CSV row with a cell beyond the
// header's last column, "" for none: a cell holding the separator
// unquoted (a comma in an abstract) was split there, and its end would be
// lost. In a workbook, cells under no header are notes, and are ignored.
func (r *Reader) beyondHeader(cells []string) string {
	if r.format != "csv" {
		return ""
	}
	for i := r.lastHeader + 1; i < len(cells); i++ {
		if strings.TrimSpace(cells[i]) != "" {
			return fmt.Sprintf("has a cell beyond the header's last column (column %s: %s); a cell probably holds an unquoted %s, which split it: put that cell in double quotes",
				columnName(i), domain.Quote(strings.TrimSpace(cells[i])), separatorNames[r.separator])
		}
	}
	return ""
}

// separatorNames name the separators of CSV files.
var separatorNames = map[rune]string{',': "comma", ';': "semicolon", '\t': "tab"}

// declaration returns the declaration of the row, nil when no declaration
// column is filled in. Filled in without a fee mode, it is a problem of the
// fee mode column that names the columns filled in.
func (b *rowBuilder) declaration() *domain.FileDeclaration {
	var filled []string
	for _, col := range declarationColumns {
		if b.cell(col) != "" {
			filled = append(filled, b.r.labels[col])
		}
	}
	if len(filled) == 0 {
		return nil
	}
	if b.raw(domain.ColFeeMode) == "" {
		b.problem(domain.ColFeeMode, "is blank, but the declaration columns %s are filled in; give the fee mode, or leave every declaration column blank to register the patent without declaring it", strings.Join(filled, ", "))
	}
	return &domain.FileDeclaration{
		Fee: domain.FeeTerms{
			Mode:          b.feeMode(),
			LumpSumFen:    domain.Fen(b.integer(domain.ColLumpSumFen)),
			InstalmentFen: domain.Fen(b.integer(domain.ColInstalmentFen)),
			Instalments:   int(b.integer(domain.ColInstalments)),
			EntryFeeFen:   domain.Fen(b.integer(domain.ColEntryFeeFen)),
			RoyaltyBP:     int(b.integer(domain.ColRoyaltyBP)),
			RoyaltyBase:   b.royaltyBase(),
		},
		TermMonths:          int(b.integer(domain.ColTermMonths)),
		DeclaredOn:          b.date(domain.ColDeclaredOn),
		EvaluationReportRef: b.cell(domain.ColEvaluationReportRef),
		CoOwnerConsent:      splitList(b.cell(domain.ColCoOwnerConsent)),
		OtherTerms:          b.cell(domain.ColOtherTerms),
	}
}

// number returns the patent number; one in a number's exponent form
// (2.0201E+11) is a problem. A workbook stores a patent number
// typed into a number cell without a fractional zero: 202010000003.0,
// whose check character is 0, comes back as 202010000003 and gets its
// ".0" back. Twelve digits with another check character lack it, and are
// left as they are.
func (b *rowBuilder) number() string {
	s := b.code(domain.ColNumber)
	if _, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, "Ee") {
		b.problem(domain.ColNumber, "%s is a number Excel shortened, and its digits are lost; format the column as text, type the numbers again (ZL202010123456.2) and save the file again", domain.Quote(s))
	}
	if b.r.format == "xlsx" && len(s) == 12 && allDigits(s) {
		if c, err := domain.PatentCheckChar(s); err == nil && c == '0' {
			return s + ".0"
		}
	}
	return s
}

// locarno returns the Locarno classification. Excel turns a code such as
// 12-01 typed into a General cell into the date 1 December (shown as 1-Dec,
// 12月1日 or a serial number, by the sheet's format and locale): such a
// cell is a problem that names the code it probably was (the month as the
// class, the day as the subclass) without guessing it into the ledger.
func (b *rowBuilder) locarno() string {
	s := b.code(domain.ColLocarno)
	if month, day, ok := b.dateExcelMade(s); ok {
		b.problem(domain.ColLocarno, "%s is a date Excel made of a Locarno code (%02d-%02d?); format the column as text, type the codes again and save the file again", domain.Quote(s), month, day)
	}
	return s
}

// excelDateLayouts are the ways Excel shows a date it made of a Locarno
// code, besides those parseDate reads.
var excelDateLayouts = []string{"2-Jan", "Jan-2", "2-Jan-06", "02-Jan-06", "01-02-06", "1/2", "1/2/06", "1/2/2006", "1月2日"}

// dateExcelMade reports whether a Locarno cell holds a date, and its month
// and day; a cell that reads as a Locarno code (14-03) never does.
func (b *rowBuilder) dateExcelMade(s string) (month time.Month, day int, ok bool) {
	if s == "" || locarnoShape.MatchString(s) {
		return 0, 0, false
	}
	for _, layout := range excelDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Month(), t.Day(), true
		}
	}
	// A workbook's date cell in a locale's format comes as its serial
	// number: five digits for a date of this century.
	serial := b.r.serials && len(s) == 5 && allDigits(s)
	if allDigits(s) && !serial {
		return 0, 0, false
	}
	if d, err := parseDate(s, s, serial, b.r.date1904); err == nil {
		return d.Month(), d.Day(), true
	}
	return 0, 0, false
}

// locarnoShape is the form of a Locarno code: two digits, a hyphen, two
// digits (whether the class exists is the domain's to say).
var locarnoShape = regexp.MustCompile(`^\d{2}-\d{2}$`)

// undecodable adds a problem for each column whose cell holds bytes that
// are not text in the file's encoding: invalid UTF-8, or the U+FFFD that
// the GB18030 decoder reads them as. Such a cell is never imported.
func (b *rowBuilder) undecodable() {
	bad := func(cell string) bool { return !utf8.ValidString(cell) || strings.ContainsRune(cell, utf8.RuneError) }
	if !slices.ContainsFunc(b.cells, bad) {
		return
	}
	for _, col := range b.r.columns() {
		if bad(b.cell(col)) {
			b.problem(col, "holds bytes that are not %s text (the file mixes encodings or is damaged); retype the cell, or save the file again as CSV UTF-8 or .xlsx", b.encodingName())
		}
	}
}

// encodingName names the encoding of the file for a message.
func (b *rowBuilder) encodingName() string {
	if enc := b.r.Encoding(); enc == EncodingGB18030 || enc == EncodingUTF16 {
		return enc
	}
	return "UTF-8"
}

// splitList splits a list of organisations on ; ； and line breaks, and on
// the Chinese list separators 、 and ， outside brackets (a Chinese name may
// hold them in brackets: 广东省科学院（广州分院、测试中心）).
func splitList(s string) []string {
	var out []string
	add := func(part string) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(', '（', '[', '【':
			depth++
		case ')', '）', ']', '】':
			depth = max(0, depth-1)
		case '、', '，':
			if depth > 0 {
				continue
			}
			fallthrough
		case ';', '；', '\n', '\r':
			add(s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	add(s[start:])
	return out
}

// feeMode returns the fee mode of the row; a cell that names none is a
// problem listing the words that do.
func (b *rowBuilder) feeMode() domain.FeeMode {
	s := b.cell(domain.ColFeeMode)
	if m, ok := feeModeWords[foldHeader(s)]; ok || s == "" {
		return m
	}
	b.problem(domain.ColFeeMode, "%s is not a fee mode; write one of %s", domain.Quote(s), feeModeHint)
	return domain.FeeMode(s)
}

// royaltyBase returns the royalty base of the row; when its cell is blank,
// the one its fee mode word names (按销售额提成), if any.
func (b *rowBuilder) royaltyBase() domain.RoyaltyBase {
	s := b.cell(domain.ColRoyaltyBase)
	if s == "" {
		return feeModeBases[foldHeader(b.cell(domain.ColFeeMode))]
	}
	if m, ok := royaltyBaseWords[foldHeader(s)]; ok {
		return m
	}
	return domain.RoyaltyBase(s)
}

// numberNoise are thousands separators and spaces in numbers.
var numberNoise = strings.NewReplacer(",", "", "，", "", " ", "", "_", "")

// integer parses a whole number (thousands separators allowed; 5000000.0
// and 5E6 from spreadsheets too); a blank cell is 0.
func (b *rowBuilder) integer(col string) int64 {
	s := b.code(col)
	if s == "" {
		return 0
	}
	clean := numberNoise.Replace(s)
	if v, err := strconv.ParseInt(clean, 10, 64); err == nil {
		return v
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil && math.Abs(f) < 1<<53 && math.Abs(f-math.Round(f)) < 1e-6 {
		return int64(math.Round(f))
	}
	b.problem(col, "%s is not a whole number%s", domain.Quote(s), numberUnits[col])
	return 0
}

// numberUnits say in which unit a column of numbers counts.
var numberUnits = map[string]string{
	domain.ColRoyaltyBP:     " of basis points (3% is 300)",
	domain.ColTermMonths:    " of months",
	domain.ColInstalments:   " of instalments",
	domain.ColLumpSumFen:    " of fen (¥1 = 100 fen)",
	domain.ColInstalmentFen: " of fen (¥1 = 100 fen)",
	domain.ColEntryFeeFen:   " of fen (¥1 = 100 fen)",
}

// date parses a date cell: YYYY-MM-DD, also 2024/3/5, 2024.3.5,
// 2024年3月5日, 20240305, a trailing time of day, a timestamp with a zone
// (its date in Asia/Shanghai), and in a workbook a date cell (an Excel
// serial number). A blank cell is the zero Date.
func (b *rowBuilder) date(col string) domain.Date {
	s := b.code(col)
	if s == "" {
		return domain.Date{}
	}
	d, err := parseDate(s, strings.TrimSpace(b.cell(col)), b.r.serials, b.r.date1904)
	if err != nil {
		b.problem(col, "%s", err)
	}
	return d
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func twoDigits(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

func isShortNumber(s string) bool { return len(s) >= 1 && len(s) <= 2 && allDigits(s) }

func isDecimal(s string) bool {
	whole, frac, ok := strings.Cut(s, ".")
	return ok && allDigits(whole) && allDigits(frac)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
