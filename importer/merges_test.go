package importer_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
	"github.com/patentledger/ledger/importer/importertest"
)

// rowSummary is what a test checks of an imported row.
func rowSummary(r domain.ImportRow) string {
	var problems []string
	for _, p := range r.Problems {
		problems = append(problems, p.Field)
	}
	p := r.Patent
	return fmt.Sprintf("%d %s [%s] [%s] %s %s %s", r.Row, p.Title, strings.Join(p.PatenteeIDs, "|"),
		strings.Join(p.IPC, "|"), p.FiledOn, p.GrantedOn, strings.Join(problems, ","))
}

func checkRows(t *testing.T, rows []domain.ImportRow, want ...string) {
	t.Helper()
	var got []string
	for _, r := range rows {
		got = append(got, rowSummary(r))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var mergedHeader = []any{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"}

func TestXLSXMergedCellsInDataRows(t *testing.T) {
	// A university's list merges the patentee of three rows (C2:C4), the
	// filing date, a date cell, of two (E2:E3) and the IPC of two (D4:D5):
	// each row is read with the value the sheet shows in it.
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	data := importertest.Workbook(t, [][]any{
		mergedHeader,
		{n(1), "A", "华南理工大学", "H01M 10/42", day(2020, 3, 15), "2022-01-10"},
		{n(2), "B", nil, "G06T 7/00", nil, "2022-01-11"},
		{n(3), "C", nil, "A61K 36/00; C02F 1/44", "2020-05-01", "2022-01-12"},
		{n(4), "D", "中山大学", nil, "2020-05-02", "2022-01-13"},
		{n(5), "E", "中山大学", "C02F 1/44", "2020-05-03", "2022-01-14"},
	}, "C2:C4", "E2:E3", "D4:D5")
	_, rows := readAll(t, bytes.NewReader(data))
	checkRows(t, rows,
		"2 A [华南理工大学] [H01M 10/42] 2020-03-15 2022-01-10 ",
		"3 B [华南理工大学] [G06T 7/00] 2020-03-15 2022-01-11 ",
		"4 C [华南理工大学] [A61K 36/00|C02F 1/44] 2020-05-01 2022-01-12 ",
		"5 D [中山大学] [A61K 36/00|C02F 1/44] 2020-05-02 2022-01-13 ",
		"6 E [中山大学] [C02F 1/44] 2020-05-03 2022-01-14 ")
}

func TestXLSXMergedTitleAboveTheHeader(t *testing.T) {
	// A title merged over the columns (A1:G1) and a header cell merged over
	// two columns (F2:G2) leave the header where it is; the merged patentee
	// of the data rows below it fills them.
	data := importertest.Workbook(t, [][]any{
		{"2024年开放许可专利清单"},
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"},
		{number(t, "202010000001"), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", nil, "H01M 10/42", "2020-03-16", "2022-01-10"},
	}, "A1:G1", "F2:G2", "C3:C4")
	rd, rows := readAll(t, bytes.NewReader(data))
	if rd.HeaderRow() != 2 || len(rd.Ignored()) != 0 {
		t.Fatalf("header row %d, ignored %v", rd.HeaderRow(), rd.Ignored())
	}
	checkRows(t, rows,
		"3 A [华南理工大学] [H01M 10/42] 2020-03-15 2022-01-10 ",
		"4 B [华南理工大学] [H01M 10/42] 2020-03-16 2022-01-10 ")
}

func TestXLSXMergedRangeSpanningColumns(t *testing.T) {
	// C2:D3 merges the patentees with the consenting co-owners: its value
	// fills the first column only; the co-owner column of row 3 stays blank
	// (filled, it would be a declaration without a fee mode).
	data := importertest.Workbook(t, [][]any{
		{"专利号", "专利名称", "专利权人", "共有人同意", "IPC分类号", "申请日", "授权公告日"},
		{number(t, "202010000001"), "A", "华南理工大学", nil, "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", nil, nil, "H01M 10/42", "2020-03-16", "2022-01-10"},
	}, "C2:D3")
	_, rows := readAll(t, bytes.NewReader(data))
	checkRows(t, rows,
		"2 A [华南理工大学] [H01M 10/42] 2020-03-15 2022-01-10 ",
		"3 B [华南理工大学] [H01M 10/42] 2020-03-16 2022-01-10 ")
	if rows[1].Declaration != nil {
		t.Fatalf("row 3 declares: %+v", rows[1].Declaration)
	}
}

func TestXLSXMergedCellsKeepTheSheetsRowNumbers(t *testing.T) {
	// A title line, the header on row 2, a patentee merged over rows 3 to 7
	// of which row 5 is empty and row 6 holds only a blank cell (a space):
	// the blank rows are skipped, not made rows of their own by the merged
	// patentee, and every row keeps its number in the sheet; row 8, below
	// the range, keeps its own patentee.
	data := importertest.Workbook(t, [][]any{
		{"2024年开放许可专利清单"},
		mergedHeader,
		{number(t, "202010000001"), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", nil, "H01M 10/42", "2020-03-16", "2022-01-10"},
		{},
		{nil, " "},
		{number(t, "202010000003"), "C", nil, "H01M 10/42", "2020-03-17", "2022-01-10"},
		{number(t, "202010000004"), "D", "中山大学", "H01M 10/42", "2020-03-18", "2022-01-10"},
	}, "C3:C7")
	_, rows := readAll(t, bytes.NewReader(data))
	checkRows(t, rows,
		"3 A [华南理工大学] [H01M 10/42] 2020-03-15 2022-01-10 ",
		"4 B [华南理工大学] [H01M 10/42] 2020-03-16 2022-01-10 ",
		"7 C [华南理工大学] [H01M 10/42] 2020-03-17 2022-01-10 ",
		"8 D [中山大学] [H01M 10/42] 2020-03-18 2022-01-10 ")
}

func TestXLSXStreamedSheetWithMergedCells(t *testing.T) {
	// A sheet above excelize.StreamChunkSize, which excelize unzips to a
	// temporary file, with merged patentees at its start and end and a
	// merged filing date in its middle.
	const n = 4000
	abstract := strings.Repeat("本发明公开了一种储能电池管理系统，通过多传感器融合估计电池荷电状态。", 40)
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	header := append(append([]any{}, mergedHeader...), "摘要")
	if err := sw.SetRow("A1", header); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n+1; i++ {
		patentee, filed := any("华南理工大学"), any("2020-03-15")
		if i == 3 || i == 4 || i >= n {
			patentee = nil
		}
		if i == n/2+1 {
			filed = nil
		}
		row := []any{number(t, fmt.Sprintf("2020100%05d", i)), fmt.Sprint(i), patentee, "H01M 10/42", filed, "2022-01-10", abstract}
		if err := sw.SetRow(fmt.Sprintf("A%d", i), row); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"C2", "C4"}, {fmt.Sprintf("E%d", n/2), fmt.Sprintf("E%d", n/2+1)}, {fmt.Sprintf("C%d", n-1), fmt.Sprintf("C%d", n+1)}} {
		if err := sw.MergeCell(m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == "xl/worksheets/sheet1.xml" && zf.UncompressedSize64 <= excelize.StreamChunkSize {
			t.Fatalf("the sheet unzips to %d bytes, not above excelize.StreamChunkSize", zf.UncompressedSize64)
		}
	}
	_, rows := readAll(t, bytes.NewReader(buf.Bytes()))
	if len(rows) != n {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if r.Row != i+2 || strings.Join(r.Patent.PatenteeIDs, "|") != "华南理工大学" || r.Patent.FiledOn.String() != "2020-03-15" || len(r.Problems) != 0 {
			t.Fatalf("row %d: %s", i+2, rowSummary(r))
		}
	}
}

func TestXLSXHeaderMergedWithTheRowBelow(t *testing.T) {
	// A header of two rows: 专利号 and 专利名称 merged over rows 1 and 2,
	// the licence columns grouped under 许可条件 with their names in row 2.
	// The reader does not guess which row is the header: it names the
	// merged cells.
	data := importertest.Workbook(t, [][]any{
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日", "许可条件"},
		{nil, nil, nil, nil, nil, nil, "许可费支付方式", "许可期限(月)"},
		{number(t, "202010000001"), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10", "免费", "36"},
	}, "A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:E2", "F1:F2", "G1:H1")
	_, err := importer.NewReader(bytes.NewReader(data))
	want := `sheet "Sheet1": cells of the header row 1 are merged with the rows below it (A1:A2, B1:B2, C1:C2, D1:D2, E1:E2, … (6 in all))`
	if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), want) {
		t.Fatalf("want invalid_argument with %q, got %v", want, err)
	}
}

func TestXLSXMalformedMergedCells(t *testing.T) {
	// A workbook whose list of merged cells names no cells, or declares
	// more ranges than a sheet may merge, is refused naming the problem.
	book := importertest.Workbook(t, [][]any{
		mergedHeader,
		{number(t, "202010000001"), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", nil, "H01M 10/42", "2020-03-16", "2022-01-10"},
	}, "C2:C3")
	for _, tc := range []struct{ name, from, to, want string }{
		{"row 0", `ref="C2:C3"`, `ref="C0:C3"`, `sheet "Sheet1": the merged cells "C0:C3" name no range of cells`},
		{"no cell", `ref="C2:C3"`, `ref="C2:"`, `the merged cells "C2:" name no range of cells`},
		{"too many", `<mergeCells count="1">`, `<mergeCells count="1048577">`, `sheet "Sheet1" merges more than 1048576 ranges of cells`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := rewriteZip(t, book, "xl/worksheets/sheet1.xml", func(s string) string {
				if !strings.Contains(s, tc.from) {
					t.Fatalf("no %s in %s", tc.from, s)
				}
				return strings.Replace(s, tc.from, tc.to, 1)
			})
			_, err := importer.NewReader(bytes.NewReader(data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want invalid_argument with %q, got %v", tc.want, err)
			}
		})
	}
}

func TestXLSXMergedCellsOfTheListsSheet(t *testing.T) {
	// The merges read are those of the sheet holding the list, the second
	// one here, whether the workbook's relationships name its part
	// relative to the workbook or from the archive's root; those of the
	// instructions sheet (A1:A3, which would merge the list's header with
	// the rows below it) play no part.
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "填表说明"); err != nil {
		t.Fatal(err)
	}
	f.SetCellValue("填表说明", "A1", "填表说明：同一专利权人的行可合并单元格")
	if err := f.MergeCell("填表说明", "A1", "A3"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("专利清单"); err != nil {
		t.Fatal(err)
	}
	for i, row := range [][]any{
		mergedHeader,
		{number(t, "202010000001"), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", nil, "H01M 10/42", "2020-03-16", "2022-01-10"},
	} {
		if err := f.SetSheetRow("专利清单", fmt.Sprintf("A%d", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.MergeCell("专利清单", "C2", "C3"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	absolute := rewriteZip(t, buf.Bytes(), "xl/_rels/workbook.xml.rels", func(s string) string {
		if !strings.Contains(s, `Target="worksheets/sheet2.xml"`) {
			t.Fatalf("no relative target in %s", s)
		}
		return strings.ReplaceAll(s, `Target="worksheets/`, `Target="/xl/worksheets/`)
	})
	for name, data := range map[string][]byte{"relative": buf.Bytes(), "absolute": absolute} {
		t.Run(name, func(t *testing.T) {
			_, rows := readAll(t, bytes.NewReader(data))
			checkRows(t, rows,
				"2 A [华南理工大学] [H01M 10/42] 2020-03-15 2022-01-10 ",
				"3 B [华南理工大学] [H01M 10/42] 2020-03-16 2022-01-10 ")
		})
	}
}

// TestXLSXDamagedSheetIsRefused: a workbook whose sheet is cut short or
// holds an element closed by another's end tag is refused as a whole,
// naming the sheet and the line, before any row is read: excelize's row
// iterator stops at the damage as if the sheet ended there, and the rows
// after it were left out of an import reported complete.
func TestXLSXDamagedSheetIsRefused(t *testing.T) {
	rows := [][]any{mergedHeader}
	for i := range 40 {
		rows = append(rows, []any{number(t, fmt.Sprintf("2020100000%02d", i+1)), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"})
	}
	book := importertest.Workbook(t, rows)
	for _, tc := range []struct {
		name string
		edit func(string) string
	}{
		{"an element closed by another's tag", func(s string) string {
			at := strings.Index(s, `<row r="30"`)
			return s[:at] + `<row r="30"><c r="A30" t="inlineStr"><is><t>oops</is></c></row>` + s[at:]
		}},
		{"cut short", func(s string) string { return s[:strings.Index(s, `<row r="20"`)+40] }},
		{"cut at the end of a row", func(s string) string { return s[:strings.Index(s, `<row r="20"`)] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := rewriteZip(t, book, "xl/worksheets/sheet1.xml", func(s string) string {
				if !strings.Contains(s, `<row r="30"`) {
					t.Fatalf("no row 30 in %s", s)
				}
				return tc.edit(s)
			})
			_, err := importer.NewReader(bytes.NewReader(data))
			if want := `sheet "Sheet1" is damaged at line`; !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), want) {
				t.Fatalf("want invalid_argument with %q, got %v", want, err)
			}
		})
	}
}
