package importer_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
)

// TestXLSXBoundsTheXML: a workbook whose XML holds a text, tag, comment or
// directive of more than 1 MB, a worksheet of more rows or a row of more
// cells than Excel allows, is refused naming the part before the workbook
// library reads it: Go's XML decoder holds a whole token in memory, and
// one run of 256 MB of spaces before </sheetData> took the server a
// gigabyte (security audit 3, F1). A cell of 32,767 Chinese characters,
// Excel's most, is read.
func TestXLSXBoundsTheXML(t *testing.T) {
	book := writeXLSX(t, sheet(t), 1)
	long := strings.Repeat(" ", 2<<20)
	before := func(mark, insert string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, mark) {
				t.Fatalf("no %s in %s", mark, s)
			}
			return strings.Replace(s, mark, insert+mark, 1)
		}
	}
	for _, c := range []struct {
		name, part string
		edit       func(string) string
		want       string
	}{
		{"spaces in a sheet", "xl/worksheets/sheet1.xml", before("</sheetData>", long), "holds a text or tag of more than 1 MB"},
		{"a long comment with tags in it", "xl/worksheets/sheet1.xml", before("</sheetData>", "<!--"+strings.Repeat("<b>x</b>", 300_000)+"-->"),
			"holds a text or tag of more than 1 MB"},
		{"a long attribute", "xl/worksheets/sheet1.xml", before("</sheetData>", `<row x="`+long+`"/>`), "holds a text or tag of more than 1 MB"},
		{"a long shared string", "xl/sharedStrings.xml", before("</sst>", "<si><t>"+strings.Repeat("电池", 400_000)+"</t></si>"),
			"holds a text or tag of more than 1 MB"},
		{"spaces in the styles", "xl/styles.xml", before("</styleSheet>", long), "part xl/styles.xml of the workbook holds a text or tag"},
		{"too many rows", "xl/worksheets/sheet1.xml", before("</sheetData>", strings.Repeat("<row/>", 1_048_576)),
			"has more than 1048576 rows, more than a worksheet can hold"},
		{"a row of too many cells", "xl/worksheets/sheet1.xml", before("</sheetData>", "<row>"+strings.Repeat("<c/>", 16_385)+"</row>"),
			"has a row of more than 16384 cells"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := importer.NewReader(bytes.NewReader(rewriteZip(t, book, c.part, c.edit)))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want invalid_argument saying %q, got %v", c.want, err)
			}
		})
	}
	// The workbook's relationships may give a sheet any name, which the
	// workbook library follows: the scan reads every part that starts as
	// XML (re-check 6, F1), and the bytes it reads are the ones a decoder
	// reads (F3: ISO-2022-JP made tags of kanji halves).
	for _, c := range []struct {
		name, to, mark, insert, want string
	}{
		{"spaces in a sheet named .bin", "xl/worksheets/sheet1.bin", "</sheetData>", long, "part xl/worksheets/sheet1.bin of the workbook holds a text or tag"},
		{"rows in a sheet elsewhere", "xl/sheets/sheet1.xml", "</sheetData>", strings.Repeat("<row/>", 1_048_577), "part xl/sheets/sheet1.xml of the workbook has more than 1048576 rows"},
		{"elements nested deep", "xl/worksheets/sheet1.xml", "</sheetData>", strings.Repeat("<x>", 300), "nests elements more than 256 deep"},
		{"another encoding", "xl/worksheets/sheet1.xml", "?>", ` encoding="ISO-2022-JP"`, "is not written in UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := renamePart(t, rewriteZip(t, book, "xl/worksheets/sheet1.xml", before(c.mark, c.insert)), "xl/worksheets/sheet1.xml", c.to)
			_, err := importer.NewReader(bytes.NewReader(data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want invalid_argument saying %q, got %v", c.want, err)
			}
		})
	}
	table := sheet(t)
	table[1][1] = strings.Repeat("锂", 32_767)
	_, rows := readAll(t, bytes.NewReader(writeXLSX(t, table, 1)))
	if len(rows) == 0 || len([]rune(rows[0].Patent.Title)) != 32_767 {
		t.Fatalf("a title of 32,767 characters was not read whole")
	}
}

// TestCSVBoundsARecord: a CSV record of more than 4 MB (a cell of 100 MB
// took the server half a gigabyte before its row was refused for its
// length; security audit 3) is refused as the file's problem, naming its
// row, without reading it whole; a record of 3 MB is read whole (the
// import refuses its title's length as the row's problem).
func TestCSVBoundsARecord(t *testing.T) {
	table := sheet(t)
	head := csvText(table[:2])
	huge := head + `"` + number(t, "202010000009") + `","` + strings.Repeat("长", 2<<20) + `",SCUT,H01M 10/42,2020-03-15,2022-01-10` + "\r\n"
	rd, err := importer.NewReader(strings.NewReader(huge))
	for err == nil {
		_, err = rd.Next(10)
	}
	if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), "row 3 of the CSV file (from line 3) is longer than 4 MB") {
		t.Fatalf("a record of 6 MB: want invalid_argument naming row 3, got %v", err)
	}
	// 4 MB of commas made four million fields, 300 MB (re-check 6, F5).
	commas := head + strings.Repeat(",", 20_000) + "\r\n"
	rd, err = importer.NewReader(strings.NewReader(commas))
	for err == nil {
		_, err = rd.Next(10)
	}
	if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), "row 3 of the CSV file (from line 3) is longer than 4 MB or has more than 16384 cells") {
		t.Fatalf("a record of 20,001 cells: want invalid_argument naming row 3, got %v", err)
	}
	long := head + number(t, "202010000009") + "," + strings.Repeat("长", 1<<20) + ",SCUT,H01M 10/42,2020-03-15,2022-01-10\r\n"
	_, rows := readAll(t, strings.NewReader(long))
	if len(rows) != 2 || len([]rune(rows[1].Patent.Title)) != 1<<20 {
		t.Fatalf("a record of 3 MB: %d rows, want 2, the second with its title whole", len(rows))
	}
}

// renamePart returns a copy of the workbook data with its part from named
// to, and the workbook's relationships and content types naming it so.
func renamePart(t *testing.T, data []byte, from, to string) []byte {
	t.Helper()
	return transformZip(t, data, func(name, content string) (string, string) {
		if name == from {
			name = to
		}
		return name, strings.ReplaceAll(content, strings.TrimPrefix(from, "xl/"), strings.TrimPrefix(to, "xl/"))
	})
}
