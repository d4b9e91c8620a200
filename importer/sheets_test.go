package importer_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
)

// hide returns the workbook data with the sheets named hidden.
func hide(t testing.TB, data []byte, sheets ...string) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range sheets {
		if err := f.SetSheetVisible(name, false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHiddenOrEmptySheetsDoNotCompete: a sheet whose header has no row
// below it (a template), or a hidden one, does not compete with the
// visible sheet that holds the list: a hidden template the user cannot see
// made the import refuse the workbook. Two visible lists are still
// refused, and so are lists of which none is visible with rows, naming
// which are hidden or have no rows.
func TestHiddenOrEmptySheetsDoNotCompete(t *testing.T) {
	header := [][]string{listHeader}
	list := [][]string{listHeader, listRow(t, "202010000001")}
	old := [][]string{listHeader, listRow(t, "201910000001")}
	for name, data := range map[string][]byte{
		"hidden template": hide(t, workbook(t, map[string][][]string{"清单": list, "模板": header}, "清单", "模板"), "模板"),
		"empty template":  workbook(t, map[string][][]string{"模板": header, "清单": list}, "模板", "清单"),
		"hidden old list": hide(t, workbook(t, map[string][][]string{"清单": list, "旧清单": old}, "清单", "旧清单"), "旧清单"),
	} {
		t.Run(name, func(t *testing.T) {
			_, rows := readAll(t, bytes.NewReader(data))
			if len(rows) != 1 || rows[0].Patent.Number != list[1][0] || len(rows[0].Problems) != 0 {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"two visible lists": {hide(t, workbook(t, map[string][][]string{"2023年": old, "2024年": list, "模板": header}, "2023年", "2024年", "模板"), "模板"),
			`sheets "2023年" and "2024年" both hold a patent list; import one sheet at a time`},
		"no visible list with rows": {hide(t, workbook(t, map[string][][]string{"清单": header, "数据": list}, "清单", "数据"), "数据"),
			`sheets "清单" (no rows) and "数据" (hidden) both hold a patent list`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := importer.NewReader(bytes.NewReader(tc.data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want invalid_argument with %q, got %v", tc.want, err)
			}
		})
	}
}

// TestHeaderMessages: a header row without a required column names each
// missing column by its Chinese and English headers and lists the
// headers the import did not know, pointing to the README (users do not
// have CONTRACT.md); a file without a header row says what its first row
// holds.
func TestHeaderMessages(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"missing columns", "专利号,专利名称,专利权人,发明人,申请日,公告日\n",
			`file: the header row has no column 授权公告日 (granted_on), IPC分类号 (ipc) or 洛迦诺分类号 (locarno); the headers "发明人", "公告日" are not ones the import knows; see the README's import columns for the Chinese and English headers`},
		{"no header", "name,value\na,1\n", `file: has no header row; the first row must name the columns (专利号 or number, 专利名称 or title, …); its first row holds "name", "value"`},
		{"no header in the first rows", strings.Repeat("2024年开放许可专利清单,,\n", 12), `file: has no header row with 专利号 or number in its first 10 rows; its first row holds "2024年开放许可专利清单"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.NewReader(strings.NewReader(tc.data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "CONTRACT.md") {
				t.Fatalf("got %v\nwant invalid_argument with %q", err, tc.want)
			}
		})
	}
}

// TestCNIPAHeaders: the headers of CNIPA's exports (申请号, 发明名称, 授权日,
// 主分类号 or 分类号) name their columns, unless another header of the row
// names the column as the import's own headers do: a list may give both
// 专利号 and 申请号.
func TestCNIPAHeaders(t *testing.T) {
	row := listRow(t, "202010000001")[:6]
	for _, tc := range []struct {
		name    string
		header  []string
		labels  map[string]string
		ignored string
	}{
		{"cnipa", []string{"申请号", "发明名称", "专利权人", "主分类号", "申请日", "授权日"},
			map[string]string{domain.ColNumber: "申请号", domain.ColTitle: "发明名称", domain.ColIPC: "主分类号", domain.ColGrantedOn: "授权日"}, ""},
		{"分类号", []string{"申请号", "发明名称", "专利权人", "分类号", "申请日", "授权公告日"},
			map[string]string{domain.ColIPC: "分类号"}, ""},
		{"both", []string{"申请号", "专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"},
			map[string]string{domain.ColNumber: "专利号", domain.ColTitle: "专利名称"}, "申请号"},
		// 分类号 holds every code, 主分类号 the main one: the list takes every code.
		{"主分类号 and 分类号", []string{"专利号", "专利名称", "专利权人", "主分类号", "申请日", "授权公告日", "分类号"},
			map[string]string{domain.ColIPC: "分类号"}, "主分类号"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := row
			switch tc.header[0] {
			case "申请号":
				if len(tc.header) == 7 {
					data = append([]string{"2020100000019"}, row...)
				}
			case "专利号":
				if len(tc.header) == 7 {
					data = append(slices.Clone(row), row[3])
				}
			}
			rd, rows := readAll(t, strings.NewReader(csvText([][]string{tc.header, data})))
			if len(rows) != 1 || len(rows[0].Problems) != 0 || rows[0].Patent.Number != row[0] || strings.Join(rd.Ignored(), ",") != tc.ignored {
				t.Fatalf("rows %+v, ignored %q", rows, rd.Ignored())
			}
			for col, label := range tc.labels {
				if got := rd.ColumnLabel(col); got != label {
					t.Errorf("%s is %q, want %q", col, got, label)
				}
			}
		})
	}
}

// zipOf returns a ZIP archive of the files given, by name.
func zipOf(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNotASpreadsheet: an empty file, a PDF, a Word document or an
// OpenDocument file is named as such, instead of being answered that it
// has no header row or is "not a readable .xlsx workbook: EOF"; a workbook
// damaged within its header row says it is damaged.
func TestNotASpreadsheet(t *testing.T) {
	damaged := rewriteZip(t, writeXLSX(t, sheet(t), 1), "xl/worksheets/sheet1.xml", func(s string) string {
		return s[:strings.Index(s, `<c r="C1"`)+4]
	})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "file: is empty: it has no header row and no data"},
		{"BOM alone", []byte("\ufeff"), "file: is empty"},
		{"blank lines", []byte("\r\n\r\n,,\r\n"), "file: is empty"},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"), "file: is a PDF file, not a spreadsheet; save the list as .xlsx or CSV"},
		{"docx", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"}),
			"file: is a Word document, not a spreadsheet; save the list as .xlsx or CSV"},
		{"ods", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", "<office:document-content/>"}),
			"file: is an OpenDocument file (.ods, .odt), not an .xlsx workbook; save it as .xlsx or CSV"},
		{"damaged header row", damaged, `file: sheet "Sheet1" is damaged at line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.NewReader(bytes.NewReader(tc.data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant invalid_argument with %q", err, tc.want)
			}
		})
	}
}
