package importer_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
)

var updateTestdata = flag.Bool("update-testdata", false, "rewrite the files in testdata from the tables of this test")

// number returns a valid patent number with the given 12 digits.
func number(t testing.TB, digits string) string {
	t.Helper()
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	return "ZL" + digits + "." + string(c)
}

// sheet is the table most tests write in one format or another: a Chinese
// header, a title line above it is added by some.
func sheet(t testing.TB) [][]string {
	return [][]string{
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日", "摘要", "发明人", "许可费支付方式", "lump_sum_fen", "royalty_bp", "royalty_base", "许可期限(月)", "declared_on"},
		{number(t, "202010123456"), "一种固态锂电池电解质", "华南理工大学", "H01M 10/0562 (2010.01)；H01M 10/052", "2020-03-15", "2022-01-10", "硫化物固态电解质。", "张三", "一次性支付", "5,000,000", "", "", "36", "2024-03-01"},
		{number(t, "202010654321"), "一种图像分割方法", "华南理工大学; 广州星能电池科技有限公司", "G06T 7/00", "2020/3/5", "2022年1月10日", "", "李四", "提成", "", "300", "净销售额", "24", "2024-03-01"},
		{number(t, "202010000001"), "一种检测试剂盒", "华南理工大学", "G01N 33/53", "2020-02-30", "2022-01-10", "", "", "", "", "", "", "", ""},
		{number(t, "202010000002"), "一种海水淡化膜", "华南理工大学", "C02F 1/44", "2020-05-01", "2022-01-10", "", "", "免费", "", "", "", "十二", "2024-03-01"},
	}
}

// checkSheetRows checks what the reader makes of sheet's rows, numbered
// from firstRow.
func checkSheetRows(t *testing.T, rows []domain.ImportRow, firstRow int) {
	t.Helper()
	if len(rows) != 4 {
		t.Fatalf("want 4 rows, got %d: %+v", len(rows), rows)
	}
	for i, r := range rows {
		if r.Row != firstRow+i {
			t.Fatalf("row %d numbered %d, want %d", i, r.Row, firstRow+i)
		}
	}
	a := rows[0]
	if a.Patent.Title != "一种固态锂电池电解质" || strings.Join(a.Patent.IPC, "|") != "H01M 10/0562 (2010.01)|H01M 10/052" ||
		a.Patent.FiledOn.String() != "2020-03-15" || len(a.Problems) != 0 {
		t.Fatalf("row a: %+v", a)
	}
	if d := a.Declaration; d == nil || d.Fee.Mode != domain.FeeLumpSum || d.Fee.LumpSumFen != 5_000_000 || d.TermMonths != 36 || d.DeclaredOn.String() != "2024-03-01" {
		t.Fatalf("declaration a: %+v", a.Declaration)
	}
	b := rows[1]
	if strings.Join(b.Patent.PatenteeIDs, "|") != "华南理工大学|广州星能电池科技有限公司" || b.Patent.FiledOn.String() != "2020-03-05" ||
		b.Patent.GrantedOn.String() != "2022-01-10" || len(b.Problems) != 0 {
		t.Fatalf("row b: %+v", b)
	}
	if d := b.Declaration; d == nil || d.Fee.Mode != domain.FeeRoyalty || d.Fee.RoyaltyBP != 300 || d.Fee.RoyaltyBase != domain.BaseNetSales {
		t.Fatalf("declaration b: %+v", b.Declaration)
	}
	if c := rows[2]; c.Declaration != nil || len(c.Problems) != 1 || c.Problems[0].Field != domain.ColFiledOn {
		t.Fatalf("row c (2020-02-30): %+v", c)
	}
	if d := rows[3]; len(d.Problems) != 1 || d.Problems[0].Field != domain.ColTermMonths || d.Declaration.Fee.Mode != domain.FeeFree {
		t.Fatalf("row d (十二 months): %+v", d)
	}
}

func readAll(t *testing.T, r io.Reader) (*importer.Reader, []domain.ImportRow) {
	t.Helper()
	rd, err := importer.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	var rows []domain.ImportRow
	for {
		chunk, err := rd.Next(3)
		if errors.Is(err, io.EOF) {
			return rd, rows
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 || len(chunk) > 3 {
			t.Fatalf("chunk of %d rows", len(chunk))
		}
		rows = append(rows, chunk...)
	}
}

func csvText(table [][]string) string {
	var b strings.Builder
	for _, row := range table {
		for i, cell := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(cell, ",\"\n") {
				cell = `"` + strings.ReplaceAll(cell, `"`, `""`) + `"`
			}
			b.WriteString(cell)
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func TestCSVEncodings(t *testing.T) {
	text := csvText(sheet(t))
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data, encoding string
	}{
		{"utf8", text, importer.EncodingUTF8},
		{"bom", "\ufeff" + text, importer.EncodingUTF8BOM},
		{"gb18030", gb, importer.EncodingGB18030},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, rows := readAll(t, strings.NewReader(tc.data))
			checkSheetRows(t, rows, 2)
			if rd.Encoding() != tc.encoding || rd.Format() != "csv" {
				t.Fatalf("encoding %q format %q", rd.Encoding(), rd.Format())
			}
			if got := rd.ColumnLabel(domain.ColTermMonths); got != "许可期限(月)" {
				t.Fatalf("label %q", got)
			}
			if strings.Join(rd.Ignored(), ",") != "发明人" {
				t.Fatalf("ignored %v", rd.Ignored())
			}
		})
	}
}

func TestCSVUTF16(t *testing.T) {
	// Excel's "Unicode text" is UTF-16 with a BOM, separated by tabs.
	text := strings.ReplaceAll(csvText(sheet(t)), ",", "\t")
	text = strings.ReplaceAll(text, "\"5\t000\t000\"", "5000000") // csvText quoted the amount
	for name, order := range map[string]unicode.Endianness{"le": unicode.LittleEndian, "be": unicode.BigEndian} {
		t.Run(name, func(t *testing.T) {
			data, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().String(text)
			if err != nil {
				t.Fatal(err)
			}
			rd, rows := readAll(t, strings.NewReader(data))
			checkSheetRows(t, rows, 2)
			if rd.Encoding() != importer.EncodingUTF16 {
				t.Fatalf("encoding %q", rd.Encoding())
			}
		})
	}
}

func TestCSVGB18030AfterALongASCIIPrefix(t *testing.T) {
	// The first Chinese text comes after 100 KB of ASCII rows: the reader
	// decides the encoding at the first non-ASCII byte, not at the start.
	var b strings.Builder
	b.WriteString("number,title,patentees,ipc,filed_on,granted_on\n")
	for i := 0; b.Len() < 100<<10; i++ {
		fmt.Fprintf(&b, "%s,Battery %d,SCUT,H01M 10/42,2020-03-15,2022-01-10\n", number(t, fmt.Sprintf("2020100%05d", i)), i)
	}
	b.WriteString(number(t, "202010999999") + ",一种电池,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n")
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(b.String())
	rd, rows := readAll(t, strings.NewReader(gb))
	last := rows[len(rows)-1]
	if last.Patent.Title != "一种电池" || last.Patent.PatenteeIDs[0] != "华南理工大学" || rd.Encoding() != importer.EncodingGB18030 {
		t.Fatalf("last row %+v, encoding %s", last.Patent, rd.Encoding())
	}
}

func TestCSVStrayByteInUTF8(t *testing.T) {
	// One byte that is not UTF-8 in a UTF-8 file spoils its row, not the
	// whole file.
	var b strings.Builder
	b.WriteString("专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\n")
	for i := range 200 {
		title := "一种电池"
		if i == 7 {
			title = "一种\xff电池"
		}
		fmt.Fprintf(&b, "%s,%s,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n", number(t, fmt.Sprintf("2020100%05d", i)), title)
	}
	rd, rows := readAll(t, strings.NewReader(b.String()))
	if rd.Encoding() != importer.EncodingUTF8 || rows[0].Patent.Title != "一种电池" || rows[7].Patent.Title != "一种\xff电池" {
		t.Fatalf("encoding %s, rows %q %q", rd.Encoding(), rows[0].Patent.Title, rows[7].Patent.Title)
	}
	if p := rows[7].Problems; len(p) != 1 || p[0].Field != domain.ColTitle || len(rows[6].Problems) != 0 {
		t.Fatalf("problems of rows 6 and 7: %+v %+v", rows[6].Problems, p)
	}
}

// TestCSVWithAGBKCellIsUTF8: a UTF-8 list with one cell pasted from a GBK
// file is read as UTF-8: the GBK cell rejects its row, and the other rows
// keep their Chinese (the audit found the file read as GB18030, a UTF-8
// row written as mojibake and another rejected), whether its header is in
// English or in Chinese.
func TestCSVWithAGBKCellIsUTF8(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("一种混合编码的标题")
	if err != nil {
		t.Fatal(err)
	}
	for _, header := range []string{"number,title,patentees,ipc,filed_on,granted_on,abstract\n", "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,摘要\n"} {
		data := header +
			number(t, "202113000001") + ",一种电池,华南理工大学,G06F 17/00,2021-01-04,2023-01-01,锂电池组\n" +
			number(t, "202113000002") + "," + gbk + ",华南理工大学,G06F 17/00,2021-01-04,2023-01-01,abc\n" +
			number(t, "202113000003") + ",电池管理系统,华南理工大学,G06F 17/00,2021-01-04,2023-01-01,储能系统\n"
		rd, rows := readAll(t, strings.NewReader(data))
		if rd.Encoding() != importer.EncodingUTF8 || len(rows) != 3 {
			t.Fatalf("encoding %s, %d rows", rd.Encoding(), len(rows))
		}
		if rows[0].Patent.Title != "一种电池" || rows[2].Patent.Title != "电池管理系统" || rows[2].Patent.Abstract != "储能系统" ||
			len(rows[0].Problems) != 0 || len(rows[2].Problems) != 0 {
			t.Errorf("the UTF-8 rows read %q %q %q, problems %+v %+v", rows[0].Patent.Title, rows[2].Patent.Title,
				rows[2].Patent.Abstract, rows[0].Problems, rows[2].Problems)
		}
		if p := rows[1].Problems; len(p) != 1 || p[0].Field != domain.ColTitle {
			t.Errorf("the GBK cell's row: %+v", p)
		}
	}
}

// TestHeaderNamingAnotherUnitIsRefused: a header whose note in brackets
// gives another unit than its column's (a royalty in %, a fee in 元, a term
// in years) refuses the file, naming the column and the unit to use; the
// audit found such values read in the column's unit, 100 times too small.
// Notes that give the column's own unit pass.
func TestHeaderNamingAnotherUnitIsRefused(t *testing.T) {
	base := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,"
	row := "\n" + number(t, "202113000100") + ",x,华南理工大学,G06F 17/00,2021-01-04,2023-01-01,提成,5\n"
	for header, want := range map[string]string{
		"royalty_bp(%)":         `column H's header "royalty_bp(%)" gives its unit as "%", but royalty_bp is in basis points (1% = 100 bp)`,
		"lump_sum_fen（元）":       `column H's header "lump_sum_fen（元）" gives its unit as "元", but lump_sum_fen is in fen`,
		"entry_fee_fen (万元)":    `gives its unit as "元"`,
		"term_months (years)":   `gives its unit as "year", but term_months is in months`,
		"royalty_bp(pct)":       `gives its unit as "pct"`,
		"royalty_bp(‰)":         `gives its unit as "‰"`,
		"lump_sum_fen(USD)":     `gives its unit as "usd"`,
		"term_months(yr)":       `gives its unit as "yr"`,
		"许可期限(月)":               "",
		"royalty_bp(基点)":        "",
		"lump_sum_fen（分，必填）":    "",
		"royalty_bp(1bp=0.01%)": "",
		"lump_sum_fen(100分=1元)": "",
	} {
		_, err := importer.NewReader(strings.NewReader(base + header + row))
		switch {
		case want == "" && err != nil:
			t.Errorf("header %q: %v", header, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("header %q: %v, want %q", header, err, want)
		}
	}
}

// TestCSVWithAUTF8RowIsGB18030: a GB18030 list with one row appended in
// UTF-8 rejects that row as mixing encodings (its UTF-8 Chinese decoded as
// other, valid GB18030 characters: 电池管理 as 鐢垫睜绠＄悊), and keeps the
// others; a GB18030 row whose bytes happen to be valid UTF-8 (透水砖) is
// read as written.
func TestCSVWithAUTF8RowIsGB18030(t *testing.T) {
	enc := simplifiedchinese.GB18030.NewEncoder()
	gb := func(s string) string {
		out, err := enc.String(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	data := gb("专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,摘要\n") +
		gb(number(t, "202113000001")+",一种锂电池组的制造方法,01a22407-0000-7000-8000-000000000001,G06F 17/00,2021-01-04,2023-01-01,锂电池组\n") +
		number(t, "202113000002") + ",电池管理,01a22407-0000-7000-8000-000000000001,G06F 17/00,2021-01-04,2023-01-01,储能系统\n" +
		gb(number(t, "202113000003")+",透水砖,01a22407-0000-7000-8000-000000000001,G06F 17/00,2021-01-04,2023-01-01,abc\n")
	rd, rows := readAll(t, strings.NewReader(data))
	if rd.Encoding() != importer.EncodingGB18030 || len(rows) != 3 {
		t.Fatalf("encoding %s, %d rows", rd.Encoding(), len(rows))
	}
	if rows[0].Patent.Title != "一种锂电池组的制造方法" || len(rows[0].Problems) != 0 || rows[2].Patent.Title != "透水砖" || len(rows[2].Problems) != 0 {
		t.Errorf("the GB18030 rows: %+v %+v", rows[0], rows[2])
	}
	if p := rows[1].Problems; len(p) == 0 || !strings.Contains(p[0].Message, "mixes encodings") {
		t.Errorf("the UTF-8 row: title %q, problems %+v", rows[1].Patent.Title, p)
	}
}

// TestCSVGB18030WithOldMacLineEnds: a GB18030 file whose lines end in CR
// alone, longer than the reader's buffer, is read row by row (the check
// for UTF-8 lines takes it in pieces of the buffer's size).
func TestCSVGB18030WithOldMacLineEnds(t *testing.T) {
	var b strings.Builder
	b.WriteString("专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\r")
	for i := range 3000 {
		fmt.Fprintf(&b, "%s,一种电池%d,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\r", number(t, fmt.Sprintf("2020100%05d", i)), i)
	}
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	rd, rows := readAll(t, strings.NewReader(gb))
	if rd.Encoding() != importer.EncodingGB18030 || len(rows) != 3000 || rows[2999].Patent.Title != "一种电池2999" || len(rows[1500].Problems) != 0 {
		t.Fatalf("encoding %s, %d rows, last %+v", rd.Encoding(), len(rows), rows[len(rows)-1])
	}
}

func TestCSVUndecodableGB18030(t *testing.T) {
	// Bytes that are no GB18030 text in a GB18030 file spoil their cells'
	// rows; they are never read as U+FFFD into the ledger.
	enc := simplifiedchinese.GB18030.NewEncoder()
	text, err := enc.String("专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\r\n" +
		number(t, "202010000001") + ",一种电池,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\r\n" +
		number(t, "202010000002") + ",一种芯片,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\r\n")
	if err != nil {
		t.Fatal(err)
	}
	chip, _ := enc.String("一种芯片")
	text = strings.Replace(text, chip, chip[:2]+"\xff"+chip[2:], 1) // 一\xff种芯片
	rd, rows := readAll(t, strings.NewReader(text))
	if rd.Encoding() != importer.EncodingGB18030 || len(rows) != 2 || len(rows[0].Problems) != 0 {
		t.Fatalf("encoding %s, rows %+v", rd.Encoding(), rows)
	}
	if p := rows[1].Problems; len(p) != 1 || p[0].Field != domain.ColTitle || !strings.Contains(p[0].Message, "GB18030") {
		t.Fatalf("row 3: %+v", rows[1])
	}
}

func TestCSVRowNumbersAndBadLines(t *testing.T) {
	data := "2024年开放许可专利清单\n" + // a title line above the header
		"number,title,patentees,ipc,filed_on,granted_on,abstract,fee_mode,term_months,declared_on\n" +
		number(t, "202010000001") + ",A,SCUT,H01M 10/42,2020-03-15,2022-01-10,\"two\nlines\",,,\n" + // row 3, two lines
		"\n" + // row 4, blank
		number(t, "202010000002") + ",B\"roken,SCUT,H01M 10/42,2020-03-15,2022-01-10,,,,\n" + // row 5, bare quote
		",,,,,,,,,\n" + // row 6, empty cells
		number(t, "202010000003") + ",C,SCUT,H01M 10/42,2020-03-15 00:00:00,20220110,,lump_sum,abc,2024-3-1\n" // row 7
	_, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].Row != 3 || rows[0].Patent.Abstract != "two\nlines" || rows[0].Declaration != nil {
		t.Fatalf("row 3: %+v", rows[0])
	}
	if rows[1].Row != 5 || rows[1].Problems[0].Field != domain.ColRow {
		t.Fatalf("row 5: %+v", rows[1])
	}
	r := rows[2]
	if r.Row != 7 || r.Patent.FiledOn.String() != "2020-03-15" || r.Patent.GrantedOn.String() != "2022-01-10" ||
		r.Declaration.DeclaredOn.String() != "2024-03-01" || len(r.Problems) != 1 || r.Problems[0].Field != domain.ColTermMonths {
		t.Fatalf("row 7: %+v", r)
	}
}

func TestCSVTabSeparated(t *testing.T) {
	data := "number\ttitle\tpatentees\tipc\tfiled_on\tgranted_on\n" + number(t, "202010000001") + "\tA, B\tSCUT\tH01M 10/42\t2020-03-15\t2022-01-10\n"
	_, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 1 || rows[0].Patent.Title != "A, B" {
		t.Fatalf("rows %+v", rows)
	}
}

func TestCSVLineEnds(t *testing.T) {
	// Windows (CRLF), Unix (LF) and classic Mac OS (CR, Excel's "CSV
	// (Macintosh)") line ends give the same rows, numbered alike.
	lines := []string{
		"2024年专利清单;;;;;;",
		"专利号;专利名称;专利权人;IPC分类号;申请日;授权公告日;摘要",
		number(t, "202010000001") + ";A;SCUT;H01M 10/42;2020-03-15;2022-01-10;\"two\nlines\"",
		"",
		number(t, "202010000002") + ";B;SCUT;H01M 10/42;2020-03-15;2022-01-10;",
	}
	for name, end := range map[string]string{"crlf": "\r\n", "lf": "\n", "cr": "\r"} {
		t.Run(name, func(t *testing.T) {
			data := strings.ReplaceAll(strings.Join(lines, "\n")+"\n", "\n", end)
			_, rows := readAll(t, strings.NewReader(data))
			if len(rows) != 2 || rows[0].Row != 3 || rows[1].Row != 5 || rows[1].Patent.Title != "B" ||
				rows[1].Patent.GrantedOn.String() != "2022-01-10" || len(rows[0].Problems)+len(rows[1].Problems) != 0 {
				t.Fatalf("rows %+v", rows)
			}
			if abstract := strings.ReplaceAll(rows[0].Patent.Abstract, "\r", "\n"); abstract != "two\nlines" {
				t.Fatalf("abstract %q", rows[0].Patent.Abstract)
			}
		})
	}
}

// fullWidth returns s as a Chinese input method in full-width mode types
// it: ASCII letters, digits and punctuation as their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r <= '~' {
			return r + '！' - '!'
		}
		return r
	}, s)
}

func TestFullWidthCells(t *testing.T) {
	// Numbers, codes, dates and amounts typed in full-width mode read as
	// their ASCII forms; the text of titles stays as typed.
	n := number(t, "202010000001")
	data := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,lump_sum_fen,许可期限（月）,declared_on\n" +
		fullWidth(n) + ",一种电池（Ａ型）,华南理工大学,Ｈ０１Ｍ　１０／４２,２０２０－０３－１５,２０２２年１月１０日,一次性支付,５，０００，０００,３６,２０２４／３／１\n" +
		strings.Replace(n, ".", "。", 1) + ",B,华南理工大学,H01M 10/42,2020-03-15,2022-01-10,,,,\n"
	_, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	a := rows[0]
	if a.Patent.Number != n || a.Patent.Title != "一种电池（Ａ型）" || a.Patent.IPC[0] != "H01M 10/42" || len(a.Problems) != 0 ||
		a.Patent.FiledOn.String() != "2020-03-15" || a.Patent.GrantedOn.String() != "2022-01-10" {
		t.Fatalf("row 2: %+v", a)
	}
	if d := a.Declaration; d.Fee.LumpSumFen != 5_000_000 || d.TermMonths != 36 || d.DeclaredOn.String() != "2024-03-01" {
		t.Fatalf("declaration of row 2: %+v", d)
	}
	if b := rows[1]; b.Patent.Number != n || len(b.Problems) != 0 {
		t.Fatalf("row 3: %+v", b)
	}
}

func TestOrganisationLists(t *testing.T) {
	// Co-owners are separated by ; ； 、 ， or line breaks, but not within
	// brackets, which Chinese names use for a second name or a branch.
	n := number(t, "202010000001")
	data := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,fee_mode,co_owner_consent\n" +
		n + ",A,\"华南理工大学、广州星能电池科技有限公司；中山大学\n广东省科学院（广州分院、测试中心）；Foo Co., Ltd.\",H01M 10/42、H01M 4/36,2020-03-15,2022-01-10,free,广州星能电池科技有限公司，中山大学\n"
	_, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 1 || len(rows[0].Problems) != 0 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if got := strings.Join(r.Patent.PatenteeIDs, "|"); got != "华南理工大学|广州星能电池科技有限公司|中山大学|广东省科学院（广州分院、测试中心）|Foo Co., Ltd." {
		t.Fatalf("patentees %q", got)
	}
	if got := strings.Join(r.Declaration.CoOwnerConsent, "|"); got != "广州星能电池科技有限公司|中山大学" {
		t.Fatalf("co-owner consent %q", got)
	}
	if got := strings.Join(r.Patent.IPC, "|"); got != "H01M 10/42|H01M 4/36" {
		t.Fatalf("ipc %q", got)
	}
}

func TestHeaderNotes(t *testing.T) {
	// Templates note in brackets what a column needs; a header whose name
	// is known once its notes are dropped names that column, unless
	// another header names it as it is.
	n := number(t, "202010000001")
	data := "专利号（必填）;专利名称;专利名称(英文);专利权人 (必填);IPC分类号;申请日(yyyy-mm-dd);授权公告日（必填）;许可期限（月）（选填）;备注(其他)\n" +
		n + ";一种电池;A battery;SCUT;H01M 10/42;2020-03-15;2022-01-10;;\n"
	rd, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 1 || len(rows[0].Problems) != 0 || rows[0].Patent.Number != n || rows[0].Patent.Title != "一种电池" ||
		rows[0].Patent.FiledOn.String() != "2020-03-15" {
		t.Fatalf("rows %+v", rows)
	}
	if got := strings.Join(rd.Ignored(), "|"); got != "专利名称(英文)|备注(其他)" {
		t.Fatalf("ignored %q", got)
	}
	if rd.ColumnLabel(domain.ColTermMonths) != "许可期限（月）（选填）" {
		t.Fatalf("label %q", rd.ColumnLabel(domain.ColTermMonths))
	}
}

func TestCSVDelimiters(t *testing.T) {
	// The separator is the one that sets the header's number column apart,
	// whatever line above it holds (a title, with or without separators).
	n := number(t, "202010000001")
	for _, tc := range []struct{ name, data string }{ // each row's title is A; B or A, B
		{"comma", "number,title,patentees,ipc,filed_on,granted_on\n" + n + ",\"A; B\",\"SCUT;SYSU\",H01M 10/42,2020-03-15,2022-01-10\n"},
		{"semicolon", "专利号;专利名称;专利权人;IPC分类号;申请日;授权公告日\n" + n + ";A, B;\"SCUT;SYSU\";H01M 10/42;2020-03-15;2022-01-10\n"},
		{"semicolon under a title", "2024年专利清单;;;;;\n专利号;专利名称;专利权人;IPC分类号;申请日;授权公告日\n" + n + ";\"A; B\";\"SCUT;SYSU\";H01M 10/42;2020-03-15;2022-01-10\n"},
		{"tab under a title", "2024年专利清单（截至3月, 共1项）\n\"专利号\"\t专利名称\t专利权人\tIPC分类号\t申请日\t授权公告日\n" + n + "\tA; B\tSCUT;SYSU\tH01M 10/42\t2020-03-15\t2022-01-10\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rows := readAll(t, strings.NewReader(tc.data))
			if len(rows) != 1 || rows[0].Patent.Number != n || len(rows[0].Problems) != 0 ||
				strings.Join(rows[0].Patent.PatenteeIDs, "|") != "SCUT|SYSU" || rows[0].Patent.GrantedOn.String() != "2022-01-10" {
				t.Fatalf("rows %+v", rows)
			}
			if title := rows[0].Patent.Title; title != "A; B" && title != "A, B" {
				t.Fatalf("title %q", title)
			}
		})
	}
}

func TestNotAPatentList(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"no number column", "title,patentees\nA,B\n", "no header row"},
		{"missing columns", "专利号,专利名称\nZL1,A\n", "no column 专利权人 (patentees), 申请日 (filed_on), 授权公告日 (granted_on), IPC分类号 (ipc) or 洛迦诺分类号 (locarno); see the README's import columns"},
		{"twice", "number,专利号,title,patentees,ipc,filed_on,granted_on\n", "columns A and B are both number"},
		{"xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "legacy Excel"},
		{"utf16 without a header", "\xFF\xFEn\x00u\x00", "no header row"},
		{"empty", "", "no header row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.NewReader(strings.NewReader(tc.data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want invalid_argument with %q, got %v", tc.want, err)
			}
		})
	}
}

// writeXLSX writes table to a workbook as Excel does (shared strings): text
// cells, numbers in the amount columns and real date cells in the date
// columns; rows start at startRow.
func writeXLSX(t testing.TB, table [][]string, startRow int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for i, row := range table {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
			if i == 0 {
				continue
			}
			if n, ok := asInt(v); ok && j > 6 {
				cells[j] = n
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, startRow+i)
		if err := f.SetSheetRow("Sheet1", cell, &cells); err != nil {
			t.Fatal(err)
		}
		for j, v := range row {
			if d, err := domain.ParseDate(v); err == nil && j < 6 && i > 0 {
				name, _ := excelize.CoordinatesToCellName(j+1, startRow+i)
				f.SetCellValue("Sheet1", name, d.Time().UTC().Add(8*60*60*1e9))
				f.SetCellStyle("Sheet1", name, name, dateStyle)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func asInt(s string) (int, bool) {
	var n int
	_, err := fmt.Sscanf(strings.ReplaceAll(s, ",", ""), "%d", &n)
	return n, err == nil && fmt.Sprint(n) == strings.ReplaceAll(s, ",", "")
}

func TestXLSX(t *testing.T) {
	data := writeXLSX(t, sheet(t), 3) // rows 1–2 empty: the header is row 3
	for _, tc := range []struct {
		name string
		open func() io.Reader
	}{
		{"body", func() io.Reader { return bytes.NewReader(data) }},
		{"file", func() io.Reader {
			path := filepath.Join(t.TempDir(), "patents.xlsx")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, rows := readAll(t, tc.open())
			if rd.Format() != "xlsx" {
				t.Fatalf("format %s", rd.Format())
			}
			checkSheetRows(t, rows, 4)
		})
	}
}

func TestXLSXRowNumbersSkipEmptyRows(t *testing.T) {
	table := [][]string{
		{"number", "title", "patentees", "ipc", "filed_on", "granted_on"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{},
		{},
		{number(t, "202010000002"), "B", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	_, rows := readAll(t, bytes.NewReader(writeXLSX(t, table, 1)))
	if len(rows) != 2 || rows[0].Row != 2 || rows[1].Row != 5 || rows[1].Patent.FiledOn.String() != "2020-03-15" {
		t.Fatalf("rows %+v", rows)
	}
}

// The files in testdata are the sheet of these tests in each format; they
// are there for people trying the importer by hand, and the tests read
// them to make sure they stay valid.
func TestTestdataFiles(t *testing.T) {
	text := csvText(sheet(t))
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(text)
	en := strings.Replace(text, "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,摘要,发明人,许可费支付方式", "number,title,patentees,ipc,filed_on,granted_on,abstract,inventors,fee_mode", 1)
	en = strings.Replace(en, "许可期限(月)", "term_months", 1)
	files := map[string][]byte{
		"patents-zh-utf8.csv":    []byte(text),
		"patents-zh-gb18030.csv": []byte(gb),
		"patents-en-bom.csv":     []byte("\ufeff" + en),
		"patents-zh.xlsx":        writeXLSX(t, sheet(t), 1),
	}
	for name, data := range files {
		path := filepath.Join("testdata", name)
		if *updateTestdata {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v (run go test ./importer -run TestTestdataFiles -update-testdata)", err)
			}
			defer f.Close()
			_, rows := readAll(t, f)
			checkSheetRows(t, rows, 2)
		})
	}
}

// rewriteZip returns a copy of the ZIP archive data with the file name
// passed through edit.
func rewriteZip(t testing.TB, data []byte, name string, edit func(string) string) []byte {
	t.Helper()
	return transformZip(t, data, func(n, content string) (string, string) {
		if n == name {
			content = edit(content)
		}
		return n, content
	})
}

// transformZip returns a copy of the ZIP archive data with each file's name
// and content passed through edit.
func transformZip(t testing.TB, data []byte, edit func(name, content string) (string, string)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		name, text := edit(f.Name, string(content))
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(text))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestXLSXUnreadableRow(t *testing.T) {
	// A cell of row 3 names no cell ("A0"): that row is a row problem, like
	// a malformed CSV line, and the rows around it are read.
	table := [][]string{
		{"number", "title", "patentees", "ipc", "filed_on", "granted_on"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000003"), "C", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	data := rewriteZip(t, writeXLSX(t, table, 1), "xl/worksheets/sheet1.xml",
		func(s string) string { return strings.Replace(s, `r="B3"`, `r="A0"`, 1) })
	_, rows := readAll(t, bytes.NewReader(data))
	if len(rows) != 3 || rows[0].Row != 2 || len(rows[0].Problems) != 0 || rows[2].Row != 4 || rows[2].Patent.Title != "C" {
		t.Fatalf("rows %+v", rows)
	}
	if r := rows[1]; r.Row != 3 || len(r.Problems) != 1 || r.Problems[0].Field != domain.ColRow {
		t.Fatalf("row 3: %+v", r)
	}
}

// workbook writes a workbook with the given sheets, in order, each a
// table of text cells from A1.
func workbook(t testing.TB, sheets map[string][][]string, order ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cells := make([]any, len(row))
			for j, v := range row {
				cells[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &cells); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXSheetWithTheList(t *testing.T) {
	// The list is read from the sheet that holds it, wherever it is: a
	// template's instructions, or an empty Sheet1, often come first.
	list := [][]string{
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	notes := [][]string{{"填表说明"}, {"1. 专利号请填写完整，如 ZL202010123456.2"}, {"2. 日期格式为 2024-03-01"}}
	fields := [][]string{{"字段", "说明"}, {"专利号", "必填，如 ZL202010123456.2"}, {"专利名称", "必填"}}
	for name, data := range map[string][]byte{
		"instructions first": workbook(t, map[string][][]string{"填表说明": notes, "专利清单": list}, "填表说明", "专利清单"),
		"columns explained":  workbook(t, map[string][][]string{"字段说明": fields, "专利清单": list}, "字段说明", "专利清单"),
		"empty sheet first":  workbook(t, map[string][][]string{"专利清单": list}, "Sheet1", "专利清单"),
		"list first":         workbook(t, map[string][][]string{"填表说明": notes, "专利清单": list}, "专利清单", "填表说明"),
	} {
		t.Run(name, func(t *testing.T) {
			_, rows := readAll(t, bytes.NewReader(data))
			if len(rows) != 1 || rows[0].Row != 2 || rows[0].Patent.Title != "A" || len(rows[0].Problems) != 0 {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"two lists": {workbook(t, map[string][][]string{"2023年": list, "说明": notes, "2024年": list}, "2023年", "说明", "2024年"),
			`sheets "2023年" and "2024年" both hold a patent list`},
		"no list":     {workbook(t, map[string][][]string{"填表说明": notes}, "填表说明", "Sheet2"), "no sheet"},
		"empty":       {workbook(t, nil, "Sheet1"), "has no header row"},
		"bad columns": {workbook(t, map[string][][]string{"说明": notes, "清单": {{"专利号", "专利名称"}}}, "说明", "清单"), `sheet "清单": the header row has no column 专利权人 (patentees)`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := importer.NewReader(bytes.NewReader(tc.data))
			if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want invalid_argument with %q, got %v", tc.want, err)
			}
		})
	}
}

func TestXLSXNumbersInNumberCells(t *testing.T) {
	// Patent numbers typed as numbers: 202010123456.2 keeps its check
	// digit, but a check digit 0 is lost (a number N.0 is stored as N) and
	// is put back; a 12-digit number whose check character is not 0 lacks
	// it, and stays as it is.
	zero := ""
	for i := 1; zero == ""; i++ {
		if c, _ := domain.PatentCheckChar(fmt.Sprintf("2020100%05d", i)); c == '0' {
			zero = fmt.Sprintf("2020100%05d", i)
		}
	}
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"},
		{202010123456.2, "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{must(strconv.ParseFloat(zero+".0", 64)), "B", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{202010123456, "C", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, bytes.NewReader(buf.Bytes()))
	want := []string{"202010123456.2", zero + ".0", "202010123456"}
	if len(got) != 3 {
		t.Fatalf("rows %+v", got)
	}
	for i, r := range got {
		if r.Patent.Number != want[i] {
			t.Errorf("row %d: number %q, want %q", r.Row, r.Patent.Number, want[i])
		}
	}
	// In a CSV file the text is what was typed.
	_, csvRows := readAll(t, strings.NewReader("number,title,patentees,ipc,filed_on,granted_on\n"+zero+",B,SCUT,H01M 10/42,2020-03-15,2022-01-10\n"))
	if csvRows[0].Patent.Number != zero {
		t.Errorf("CSV number %q", csvRows[0].Patent.Number)
	}
}

func TestNumberShortenedByExcel(t *testing.T) {
	// Excel shows a 12-digit number as 2.0201E+11 and saves a CSV as it
	// shows it: the digits are lost, and the problem says how to keep them.
	data := "number,title,patentees,ipc,filed_on,granted_on\n2.0201E+11,A,SCUT,H01M 10/42,2020-03-15,2022-01-10\n"
	_, rows := readAll(t, strings.NewReader(data))
	if p := rows[0].Problems; len(p) != 1 || p[0].Field != domain.ColNumber || !strings.Contains(p[0].Message, "as text") {
		t.Fatalf("row %+v", rows[0])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestXLSXZipBomb(t *testing.T) {
	// A workbook of a few hundred kilobytes holding a part that unzips to
	// 300 MB, which excelize would hold in memory, is refused before it is
	// unzipped.
	book := writeXLSX(t, sheet(t), 1)
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	const mb = 300
	deflated, crc := deflatedZeros(t, mb)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/media/bomb.bin", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(deflated)), UncompressedSize64: mb << 20})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflated)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = importer.NewReader(bytes.NewReader(out.Bytes()))
	if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), "unzips to 300 MB") {
		t.Fatalf("want invalid_argument saying what it unzips to, got %v", err)
	}
}

// deflatedZeros returns a DEFLATE stream of mb MiB of zeros, and their
// CRC-32, without compressing them all: once the compressor's window is all
// zeros, each further MiB flushed compresses to the same bytes.
func deflatedZeros(t testing.TB, mb int) ([]byte, uint32) {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	var crc uint32
	var block []byte
	for range 3 {
		start := buf.Len()
		fw.Write(zeros)
		fw.Flush()
		block = bytes.Clone(buf.Bytes()[start:])
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	for range mb - 3 {
		buf.Write(block)
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	fw.Close() // the final, empty block
	return buf.Bytes(), crc
}

func TestPartialDeclaration(t *testing.T) {
	// A declaration column filled in without a fee mode is a problem of
	// the fee mode that says why; a row with none filled in declares
	// nothing.
	n := number(t, "202010000001")
	data := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,lump_sum_fen,许可期限(月),declared_on\n" +
		n + ",A,SCUT,H01M 10/42,2020-03-15,2022-01-10,,500000,36,\n" +
		n + ",A,SCUT,H01M 10/42,2020-03-15,2022-01-10, ,,,\n"
	_, rows := readAll(t, strings.NewReader(data))
	if len(rows) != 2 || rows[1].Declaration != nil || len(rows[1].Problems) != 0 {
		t.Fatalf("rows %+v", rows)
	}
	p := rows[0].Problems
	if len(p) != 1 || p[0].Field != domain.ColFeeMode || !strings.Contains(p[0].Message, "lump_sum_fen, 许可期限(月)") {
		t.Fatalf("problems %+v", p)
	}
}

func TestXLSXMoreRowsThanASheetHolds(t *testing.T) {
	// A sheet whose XML goes past Excel's 1,048,576 rows gives its rows up
	// to there, then an invalid_argument about the file.
	table := [][]string{
		{"number", "title", "patentees", "ipc", "filed_on", "granted_on"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	data := rewriteZip(t, writeXLSX(t, table, 1), "xl/worksheets/sheet1.xml", func(s string) string {
		return strings.Replace(s, "</sheetData>", `<row r="1048577"><c r="A1048577" t="inlineStr"><is><t>x</t></is></c></row></sheetData>`, 1)
	})
	rd, err := importer.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows, err := rd.Next(10)
	if len(rows) != 1 || rows[0].Row != 2 {
		t.Fatalf("rows %+v", rows)
	}
	if err == nil {
		_, err = rd.Next(10)
	}
	if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), "more rows than a worksheet can hold") {
		t.Fatalf("want invalid_argument, got %v", err)
	}
}

func TestRowNumbersAlikeInCSVAndXLSX(t *testing.T) {
	// A title line, the header, a row, a blank row and a row whose cell
	// holds a line break: both formats number the rows 3 and 5, as a
	// spreadsheet program shows them.
	table := [][]string{
		{"2024年开放许可专利清单"},
		{"number", "title", "patentees", "ipc", "filed_on", "granted_on", "abstract"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10", "two\nlines"},
		{},
		{number(t, "202010000002"), "B", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10", ""},
	}
	for name, data := range map[string][]byte{"csv": []byte(csvText(table)), "xlsx": writeXLSX(t, table, 1)} {
		t.Run(name, func(t *testing.T) {
			rd, rows := readAll(t, bytes.NewReader(data))
			if len(rows) != 2 || rows[0].Row != 3 || rows[1].Row != 5 || rd.HeaderRow() != 2 {
				t.Fatalf("header row %d, rows %+v", rd.HeaderRow(), rows)
			}
		})
	}
}

// TestLocarnoCodeExcelMadeADate: Excel turns a Locarno code typed into a
// General cell (12-01) into 1 December; the row is rejected with a problem
// naming the code it probably was, in every form Excel shows or saves the
// date, while real codes and other bad values are left to the domain.
func TestLocarnoCodeExcelMadeADate(t *testing.T) {
	header := "number,title,patentees,locarno,filed_on,granted_on\n"
	row := func(locarno string) string {
		return number(t, "202030123456") + ",A,SCUT," + locarno + ",2020-03-15,2022-01-10\n"
	}
	for _, tc := range []struct{ cell, guess string }{
		{"1-Dec", "12-01"}, {"Dec-1", "12-01"}, {"12月1日", "12-01"}, {"12/1/2026", "12-01"},
		{"2026-12-01", "12-01"}, {"12-01-26", "12-01"}, {"5-Mar", "03-05"}, {"2026/3/5", "03-05"},
		{"14-03", ""}, {"99", ""}, {"46357", ""}, {"", ""}, {"14-3", ""},
	} {
		_, rows := readAll(t, strings.NewReader(header+row(tc.cell)))
		var got []string
		for _, p := range rows[0].Problems {
			got = append(got, p.Field+": "+p.Message)
		}
		want := tc.guess != ""
		if mentioned := len(got) == 1 && strings.Contains(got[0], "locarno: ") && strings.Contains(got[0], "("+tc.guess+"?)"); mentioned != want || !want && len(got) > 0 {
			t.Errorf("locarno %q: problems %q, want a date problem guessing %q: %v", tc.cell, got, tc.guess, want)
		}
		if rows[0].Patent.Locarno != tc.cell {
			t.Errorf("locarno %q was read as %q", tc.cell, rows[0].Patent.Locarno)
		}
	}

	// In a workbook, a date cell is read as its serial number, whether its
	// format shows 1-Dec (d-mmm) or a locale's 12月1日.
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"专利号", "专利名称", "专利权人", "洛迦诺分类号", "申请日", "授权公告日"}); err != nil {
		t.Fatal(err)
	}
	for i, format := range []int{16, 57, 0} {
		r := i + 2
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", r), &[]any{number(t, fmt.Sprintf("20203012345%d", i)), "A", "SCUT", "", "2020-03-15", "2022-01-10"}); err != nil {
			t.Fatal(err)
		}
		cell := fmt.Sprintf("D%d", r)
		if format == 0 {
			f.SetCellValue("Sheet1", cell, "14-03")
			continue
		}
		style, _ := f.NewStyle(&excelize.Style{NumFmt: format})
		f.SetCellValue("Sheet1", cell, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		f.SetCellStyle("Sheet1", cell, cell, style)
	}
	var book bytes.Buffer
	if _, err := f.WriteTo(&book); err != nil {
		t.Fatal(err)
	}
	_, rows := readAll(t, &book)
	for i, want := range []bool{true, true, false} {
		p := rows[i].Problems
		if got := len(p) == 1 && p[0].Field == domain.ColLocarno && strings.Contains(p[0].Message, "(12-01?)"); got != want || !want && len(p) > 0 {
			t.Errorf("workbook row %d (locarno %q): problems %+v", i+2, rows[i].Patent.Locarno, p)
		}
	}
}

// TestXLSXRowsOutOfOrder: a sheet whose XML lists a row after a later one,
// or one row twice (as programs other than Excel may write it), is refused
// naming the sheet; it was read with a row lost.
func TestXLSXRowsOutOfOrder(t *testing.T) {
	table := [][]string{
		{"number", "title", "patentees", "ipc", "filed_on", "granted_on"},
		{number(t, "202010000001"), "A", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{number(t, "202010000002"), "B", "SCUT", "H01M 10/42", "2020-03-15", "2022-01-10"},
	}
	for name, edit := range map[string]func(string) string{
		"out of order": func(s string) string {
			return strings.Replace(strings.Replace(s, `<row r="3"`, `<row r="9"`, 1), `</sheetData>`, `<row r="4"><c r="A4" t="inlineStr"><is><t>x</t></is></c></row></sheetData>`, 1)
		},
		"repeated": func(s string) string {
			return strings.Replace(s, `<row r="3"`, `<row r="2"`, 1)
		},
	} {
		data := rewriteZip(t, writeXLSX(t, table, 1), "xl/worksheets/sheet1.xml", edit)
		_, err := importer.NewReader(bytes.NewReader(data))
		if !errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), "its rows are out of order or repeated") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, rows := readAll(t, bytes.NewReader(writeXLSX(t, table, 1))); len(rows) != 2 {
		t.Errorf("an ordinary sheet gives %d rows", len(rows))
	}
}

// TestWorkbookCopyGoesToTempDir: a workbook that is not a regular file is
// copied to a temporary file, in the folder TempDir names (a server's own,
// which it empties when it starts), and removed when the reader closes.
func TestWorkbookCopyGoesToTempDir(t *testing.T) {
	book, err := os.ReadFile(filepath.Join("testdata", "patents-zh.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rd, err := importer.NewReader(bytes.NewReader(book), importer.TempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "ledger-import-") {
		t.Fatalf("the folder holds %v (%v) while the workbook is read, want its copy", entries, err)
	}
	if rows, err := rd.Next(1); err != nil || len(rows) != 1 || rows[0].Patent.Number == "" {
		t.Fatalf("first row from the copy: %+v, %v", rows, err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, err = os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("the folder holds %v (%v) once the reader closed", entries, err)
	}
}

// TestAWorkbookGoneFromUnderTheReaderIsNotTheFilesFault: a workbook given
// as a regular file is opened again by name; when that fails (its spooled
// copy removed from under a server) the reader answered that the file was
// "not a readable .xlsx workbook", blaming the client with the server's
// path in the message. The failure is now returned as it is.
func TestAWorkbookGoneFromUnderTheReaderIsNotTheFilesFault(t *testing.T) {
	book, err := os.ReadFile(filepath.Join("testdata", "patents-zh.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "spooled")
	if err := os.WriteFile(path, book, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = importer.NewReader(f)
	var de *domain.Error
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &de) {
		t.Fatalf("a workbook whose file is gone: %v, want the failure to open it, not an invalid file", err)
	}
}
