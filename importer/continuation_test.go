package importer_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/patentledger/ledger/importer"
	"github.com/patentledger/ledger/importer/importertest"
)

// TestPatentOverSeveralRows: a patent laid over several rows, one co-owner
// or IPC code per row, is one row of the import with every co-owner and
// code, whether its number, title and dates are merged over the rows (a
// workbook) or left blank below its first row (a CSV saved from it). A
// merged cell repeated on every row counts once; a cell of such a row that
// contradicts the first is a problem of the patent's row; a row that names
// a patent of its own, or a first row without a number, continues nothing.
func TestPatentOverSeveralRows(t *testing.T) {
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	book := importertest.Workbook(t, [][]any{
		mergedHeader,
		{n(1), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{nil, nil, "广州星能电池科技有限公司", "H01M 4/13", nil, nil},
		{n(2), "B", "中山大学", "G06T 7/00", "2020-03-16", "2022-01-11"},
		{nil, nil, "中山大学", "G06N 3/08", nil, nil},
		{nil, nil, "广州芯海微电子有限公司", nil, nil, nil},
		{n(3), "C", "中山大学", "A61K 36/00", "2020-03-17", "2022-01-12"},
		{nil, "C（续）", "暨南大学", nil, nil, nil},
		{n(4), "D", "中山大学", "C02F 1/44", "2020-03-18", "2022-01-13"},
	}, "A2:A3", "B2:B3", "E2:E3", "F2:F3", "A4:A6", "B4:B6", "C4:C5", "E4:E6", "F4:F6", "A7:A8", "E7:E8", "F7:F8")
	_, rows := readAll(t, bytes.NewReader(book))
	checkRows(t, rows,
		"2 A [华南理工大学|广州星能电池科技有限公司] [H01M 10/42|H01M 4/13] 2020-03-15 2022-01-10 ",
		"4 B [中山大学|广州芯海微电子有限公司] [G06T 7/00|G06N 3/08] 2020-03-16 2022-01-11 ",
		"7 C [中山大学|暨南大学] [A61K 36/00] 2020-03-17 2022-01-12 title",
		"9 D [中山大学] [C02F 1/44] 2020-03-18 2022-01-13 ")
	if msg := rows[2].Problems[0].Message; !strings.Contains(msg, `row 8 continues this patent, but gives "C（续）" here where row 7 gives "C"`) {
		t.Errorf("the contradiction says %q", msg)
	}

	csv := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\n" +
		",,中山大学,G06T 7/00,,\n" + // a first row without a number continues nothing
		n(1) + ",A,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n" +
		",,广州星能电池科技有限公司；暨南大学,,,\n" +
		"\n" + // a blank line ends nothing
		",,,H01M 4/13,,\n" +
		",B,中山大学,,2020-03-16,2022-01-11\n" // a title of its own: a patent of its own, without a number
	_, rows = readAll(t, strings.NewReader(csv))
	checkRows(t, rows,
		"2  [中山大学] [G06T 7/00]   ",
		"3 A [华南理工大学|广州星能电池科技有限公司|暨南大学] [H01M 10/42|H01M 4/13] 2020-03-15 2022-01-10 ",
		"7 B [中山大学] [] 2020-03-16 2022-01-11 ")
}

// TestPatentOverSeveralRowsInOtherLayouts: the layouts a review found
// still registering a patent's first row alone. A row with notes only
// (an inventor per row) between the patent's rows ends nothing; a title
// and dates merged over rows whose number is blank below the first; the
// number repeated on every row with one co-owner each, as exports write
// it (an exact repeat of a row stays a row of its own); a row that cannot
// be read among the patent's rows rejects the patent rather than let it
// be written without that row; and a CSV cell beyond the header on a
// continuing row is a problem as on any other.
func TestPatentOverSeveralRowsInOtherLayouts(t *testing.T) {
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	csv := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,发明人\n" +
		n(1) + ",A,华南理工大学,H01M 10/42,2020-03-15,2022-01-10,张三\n" +
		",,,,,,李四\n" +
		",,广州星能电池科技有限公司,,,,王五\n" +
		n(2) + ",B,中山大学,G06T 7/00,2020-03-16,2022-01-11,\n" +
		n(2) + ",B,暨南大学,G06T 7/00,2020-03-16,2022-01-11,\n" +
		"zl " + n(2)[2:6] + " " + n(2)[6:] + ",B,中山大学,G06N 3/08,2020-03-16,2022-01-11,\n" + // the same number, spelled otherwise
		n(2) + ",B,中山大学,G06N 3/08,2020-03-16,2022-01-11,\n" + // a repeat
		n(3) + ",C,中山大学,A61K 36/00,2020-03-17,2022-01-12,\n" +
		",,\"暨南\"大学,,,,\n" + // cannot be read
		",,华南农业大学,,,,\n" +
		n(4) + ",D,中山大学,C02F 1/44,2020-03-18,2022-01-13\n" +
		",,暨南大学,,,,,C02F 1/40\n"
	_, rows := readAll(t, strings.NewReader(csv))
	checkRows(t, rows,
		"2 A [华南理工大学|广州星能电池科技有限公司] [H01M 10/42] 2020-03-15 2022-01-10 ",
		"5 B [中山大学|暨南大学] [G06T 7/00|G06N 3/08] 2020-03-16 2022-01-11 ",
		"8 B [中山大学] [G06N 3/08] 2020-03-16 2022-01-11 ",
		"9 C [中山大学|华南农业大学] [A61K 36/00] 2020-03-17 2022-01-12 row",
		"10  [] []   row",
		"12 D [中山大学|暨南大学] [C02F 1/44] 2020-03-18 2022-01-13 row")
	if msg := rows[3].Problems[0].Message; !strings.Contains(msg, "row 11 continues this patent, but row 10 among its rows could not be read") {
		t.Errorf("the unreadable row says %q", msg)
	}
	if msg := rows[5].Problems[0].Message; !strings.Contains(msg, "row 13, which continues this patent, has a cell beyond the header's last column") {
		t.Errorf("the cell beyond the header says %q", msg)
	}

	book := importertest.Workbook(t, [][]any{
		mergedHeader,
		{n(1), "A", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10"},
		{nil, nil, "广州星能电池科技有限公司", nil, nil, nil},
	}, "B2:B3", "E2:E3", "F2:F3")
	_, rows = readAll(t, bytes.NewReader(book))
	checkRows(t, rows, "2 A [华南理工大学|广州星能电池科技有限公司] [H01M 10/42] 2020-03-15 2022-01-10 ")
}

// TestContinuingRowsMayRepeatTheDates: a CSV saved from a workbook whose
// number and title were merged over a patent's rows, with its dates typed
// on each, has the number and title blank below the first row and the
// dates repeated: the rows are one patent (the audit found its first row
// registered alone, without its co-owner). A row that gives the title
// again continues it too, and one whose date differs is a problem of the
// patent's row, which is then rejected whole.
func TestContinuingRowsMayRepeatTheDates(t *testing.T) {
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	csv := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\n" +
		n(1) + ",A,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n" +
		",,广州星能电池科技有限公司,H01M 4/13,2020-03-15,2022-01-10\n" +
		",A,暨南大学,,2020-03-15,2022-01-10\n" +
		n(2) + ",B,中山大学,G06T 7/00,2020-03-16,2022-01-11\n" +
		",,暨南大学,,2020-03-17,2022-01-11\n"
	_, rows := readAll(t, strings.NewReader(csv))
	checkRows(t, rows,
		"2 A [华南理工大学|广州星能电池科技有限公司|暨南大学] [H01M 10/42|H01M 4/13] 2020-03-15 2022-01-10 ",
		"5 B [中山大学|暨南大学] [G06T 7/00] 2020-03-16 2022-01-11 filed_on")
	if msg := rows[1].Problems[0].Message; !strings.Contains(msg, `row 6 continues this patent, but gives "2020-03-17" here where row 5 gives "2020-03-16"`) {
		t.Errorf("the differing date says %q", msg)
	}
}

// TestContinuingRowsCompareValuesNotSpellings: rows of one patent that
// write the same date, amount or fee mode another way (2021/1/4 and
// 2021-01-04, 100,000 and 100000, 一次性支付 and lump_sum) agree: with the
// number repeated on each row (an export) they are one patent, and with it
// blank below the first row no conflict is reported.
func TestContinuingRowsCompareValuesNotSpellings(t *testing.T) {
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	csv := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,许可费支付方式,lump_sum_fen,许可期限(月),declared_on\n" +
		n(1) + ",A,华南理工大学,H01M 10/42,2020-03-15,2022-01-10,,,,\n" +
		n(1) + ",A,暨南大学,H01M 4/13,2020/3/15,2022年1月10日,,,,\n" +
		n(2) + ",B,中山大学,G06T 7/00,2020-03-16,2022-01-11,一次性支付,\"100,000\",12,2024-03-01\n" +
		",,暨南大学,,2020/3/16,,lump_sum,100000,12,2024/3/1\n"
	_, rows := readAll(t, strings.NewReader(csv))
	checkRows(t, rows,
		"2 A [华南理工大学|暨南大学] [H01M 10/42|H01M 4/13] 2020-03-15 2022-01-10 ",
		"4 B [中山大学|暨南大学] [G06T 7/00] 2020-03-16 2022-01-11 ")
}

// TestNextKeepsItsLimit: a held patent row followed by an unreadable one
// comes out one row per call when asked for one.
func TestNextKeepsItsLimit(t *testing.T) {
	n := func(i int) string { return number(t, fmt.Sprintf("20201000000%d", i)) }
	csv := "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\n" +
		n(1) + ",A,华南理工大学,H01M 10/42,2020-03-15,2022-01-10\n" +
		",,\"暨南\"大学,,,\n" +
		n(2) + ",B,中山大学,G06T 7/00,2020-03-16,2022-01-11\n"
	rd, err := importer.NewReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []int
	for {
		rows, err := rd.Next(1)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(rows) != 1 {
			t.Fatalf("Next(1) = %d rows, %v", len(rows), err)
		}
		got = append(got, rows[0].Row)
	}
	if !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("rows %v, want 2, 3, 4", got)
	}
}
