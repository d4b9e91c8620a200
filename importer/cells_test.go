package importer_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer/importertest"
)

// listHeader is the header of the tables of these tests: the required
// columns and the abstract.
var listHeader = []string{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日", "摘要"}

// listRow is a valid row under listHeader.
func listRow(t testing.TB, digits string) []string {
	return []string{number(t, digits), "一种固态电池", "华南理工大学", "H01M 10/42", "2020-03-15", "2022-01-10", "一种电池。"}
}

// problemsOf returns the problems of a row by column, each column's
// messages joined by " | ".
func problemsOf(r domain.ImportRow) map[string]string {
	out := map[string]string{}
	for _, p := range r.Problems {
		if out[p.Field] != "" {
			out[p.Field] += " | "
		}
		out[p.Field] += p.Message
	}
	return out
}

// TestExcelErrorValues: a cell whose formula failed holds an Excel error
// value (the #N/A of a VLOOKUP that found nothing): in a workbook a cell of
// type "e", in a CSV file saved from it its text. It rejects its row with
// one problem on its column naming the error; it is never imported as a
// title or an abstract, which could not be corrected once registered.
func TestExcelErrorValues(t *testing.T) {
	bad := listRow(t, "202010000001")
	bad[1], bad[4], bad[6] = "#N/A", "#VALUE!", " #REF! "
	text := listRow(t, "202010000002")
	text[1] = "#N/A 的专利" // text, not an error value
	table := [][]string{listHeader, bad, text}
	book := rewriteZip(t, writeXLSX(t, [][]string{listHeader, listRow(t, "202010000001"), text}, 1), "xl/worksheets/sheet1.xml",
		func(s string) string {
			for cell, value := range map[string]string{"B2": "#N/A", "E2": "#VALUE!", "G2": "#REF!"} {
				s = regexp.MustCompile(`<c r="`+cell+`"[^>]*>.*?</c>`).ReplaceAllString(s, `<c r="`+cell+`" t="e"><v>`+value+`</v></c>`)
			}
			return s
		})
	for name, data := range map[string][]byte{"csv": []byte(csvText(table)), "xlsx": book} {
		t.Run(name, func(t *testing.T) {
			_, rows := readAll(t, bytes.NewReader(data))
			if len(rows) != 2 {
				t.Fatalf("rows %+v", rows)
			}
			got, want := problemsOf(rows[0]), map[string]string{
				domain.ColTitle:    "holds the Excel error #N/A (a formula failed); fix the formula or paste values",
				domain.ColFiledOn:  "holds the Excel error #VALUE! (a formula failed); fix the formula or paste values",
				domain.ColAbstract: "holds the Excel error #REF! (a formula failed); fix the formula or paste values",
			}
			if len(got) != len(want) || rows[0].Patent.Title != "" || rows[0].Patent.Abstract != "" {
				t.Fatalf("row 2: problems %q, title %q, abstract %q", got, rows[0].Patent.Title, rows[0].Patent.Abstract)
			}
			for col, msg := range want {
				if got[col] != msg {
					t.Errorf("%s: %q, want %q", col, got[col], msg)
				}
			}
			if r := rows[1]; len(r.Problems) != 0 || r.Patent.Title != "#N/A 的专利" {
				t.Errorf("row 3: %+v", r)
			}
		})
	}
}

// TestDatesWithAZone: a timestamp with a zone, as web systems export
// dates, is the date it is in Asia/Shanghai (Beijing midnight is 16:00 UTC
// the day before); it was cut at its T and taken a day early. A time of
// day without a zone is still cut off.
func TestDatesWithAZone(t *testing.T) {
	cases := map[string]string{
		"2020-03-04T16:00:00Z":          "2020-03-05",
		"2020-03-04T16:00:00.000Z":      "2020-03-05",
		"2020-03-04T16:00:00.000+00:00": "2020-03-05",
		"2020-03-05T00:00:00+08:00":     "2020-03-05",
		"2020-03-04T23:59:59+08:00":     "2020-03-04",
		"2020-03-04 16:00:00 +0000":     "2020-03-05",
		"2020-03-04T16:00:00":           "2020-03-04",
		"2020-03-04 16:00":              "2020-03-04",
		// Zones as databases, logs and other systems write them.
		"2023-01-04 16:00:00+00":        "2023-01-05", // PostgreSQL's timestamptz
		"2023-01-04 16:00:00.123+00":    "2023-01-05",
		"2023-01-04 23:00:00-05":        "2023-01-05",
		"2023-01-04T16:00:00 UTC":       "2023-01-05",
		"2023-01-04 16:00:00 GMT":       "2023-01-05",
		"2023-01-04 16:00 UTC":          "2023-01-05",
		"2023-01-04T16:00:00 Z":         "2023-01-05",
		"2023-01-04T16:00:00 +00:00":    "2023-01-05",
		"2023-01-04T16:00:00Z[UTC]":     "2023-01-05", // RFC 9557
		"2023-01-04 16:00:00 +0000 UTC": "2023-01-05", // as Go writes times
		"2023-01-04T16:00:00UTC+8":      "2023-01-04",
		"2023-01-04t16:00:00z":          "2023-01-05",
		"2023-01-04 4:00:00 PM UTC":     "2023-01-05",
		"2023-01-04T15:59:59.999Z":      "2023-01-04",
		"2023-01-05T00:30:00+09:00":     "2023-01-04",
		"2023-01-05T01:00:00+0900":      "2023-01-05",
		// A time without a zone is dropped; a day of the week in Chinese
		// that is the date's is allowed.
		"2023/1/5 0:00":                           "2023-01-05",
		"2023/1/5 12:00:00 AM":                    "2023-01-05",
		"2023-01-05 23:59:59.5":                   "2023-01-05",
		"2023/1/5 星期四":                            "2023-01-05",
		"2023年1月5日（周四）":                           "2023-01-05",
		"2023年1月5日 16:00":                         "2023-01-05",
		"2023年1月4日 16:00:00 +0000":                "2023-01-05",
		"2023/1/5星期四":                             "2023-01-05",
		"2023-01-05（周四）":                          "2023-01-05",
		"2023-01-04T16:00:00Z[UTC][u-ca=iso8601]": "2023-01-05",
		"2023-01-04 16:00:00 +0800 CST":           "2023-01-04",
		"20210504星期二":                             "2021-05-04",
	}
	checkFiledOn(t, cases)
}

// TestDatesWithTextThatIsNoTime: what follows a date must be a time of day
// that exists, with maybe its zone, or the date's day of the week: a cell
// with anything else was dropped silently (2023-01-05 foo, T25:00, a zone
// the importer did not know, whose date then came a day early). The
// problem quotes the whole cell, not its first word.
func TestDatesWithTextThatIsNoTime(t *testing.T) {
	cases := map[string]string{
		"2023-01-04T25:00:00Z":          `"2023-01-04T25:00:00Z": "25:00:00Z" is not a time of day`,
		"2023-01-04T16:61:00Z":          `"2023-01-04T16:61:00Z": "16:61:00Z" is not a time of day`,
		"2023-01-05T99:99":              `"2023-01-05T99:99": "99:99" is not a time of day`,
		"2023-01-04T24:00:00Z":          `"2023-01-04T24:00:00Z": "24:00:00Z" is not a time of day`,
		"2023-01-05 foo":                `"2023-01-05 foo": "foo" is not a time of day`,
		"2023-01-04T16:00:00 CST":       `"2023-01-04T16:00:00 CST": "16:00:00 CST" is not a time of day`,
		"2023-01-04T16:00:00+15:00":     `"2023-01-04T16:00:00+15:00": "16:00:00+15:00" is not a time of day`,
		"2023-01-04 13:00 PM":           `"2023-01-04 13:00 PM": "13:00 PM" is not a time of day`,
		"2023/01/05 星期一":                `"2023/01/05 星期一": 2023-01-05 was a Thursday; check the date`,
		"Jan 5, 2023":                   `"Jan 5, 2023" is not a date; write YYYY-MM-DD`,
		"Wed, 04 Jan 2023 16:00:00 GMT": `"Wed, 04 Jan 2023 16:00:00 GMT" is not a date; write YYYY-MM-DD`,
		"2023-02-29 10:00":              `"2023-02-29 10:00" is not a date; write YYYY-MM-DD`,
		// A half of the day after the zone, or a name of UTC after another
		// offset: which instant was meant, nobody can tell.
		"2021-05-04 4:00 UTC PM":     `"2021-05-04 4:00 UTC PM": "4:00 UTC PM" is not a time of day`,
		"2021-05-04 4:00 Z PM":       `"2021-05-04 4:00 Z PM": "4:00 Z PM" is not a time of day`,
		"2021-05-04 04:00 +00:00 PM": `"2021-05-04 04:00 +00:00 PM": "04:00 +00:00 PM" is not a time of day`,
		"2021-05-04 4:00 +0000 pm":   `"2021-05-04 4:00 +0000 pm": "4:00 +0000 pm" is not a time of day`,
		"2021-05-04 4:00 UTC+0 PM":   `"2021-05-04 4:00 UTC+0 PM": "4:00 UTC+0 PM" is not a time of day`,
		"2021-05-04 16:00 +08 UTC":   `"2021-05-04 16:00 +08 UTC": "16:00 +08 UTC" is not a time of day`,
		"2021-05-04 4:00 +0000 P":    `"2021-05-04 4:00 +0000 P": "4:00 +0000 P" is not a time of day`,
		"2024-03-05T":                `"2024-03-05T": "T" is not a time of day`,
		"2021-05-04 4:00 +0000 AMPM": `"2021-05-04 4:00 +0000 AMPM": "4:00 +0000 AMPM" is not a time of day`,
		// The problem quotes the cell as it came, full-width forms and all.
		"２０２１-０５-０４（星期一）": `"２０２１-０５-０４（星期一）": 2021-05-04 was a Tuesday`,
	}
	cells, rows := readFiledOn(t, cases)
	for i, r := range rows {
		if got := problemsOf(r)[domain.ColFiledOn]; !strings.HasPrefix(got, cases[cells[i]]) || !r.Patent.FiledOn.IsZero() {
			t.Errorf("%s: %s %q, want a problem starting %q", cells[i], r.Patent.FiledOn, got, cases[cells[i]])
		}
	}
}

// TestXLSXNumbersThatAreNotSerials: in a workbook, a number in a date
// column is an Excel serial date only when it gives a date in 1900–2199 and
// does not read as a year (2020), a year and month (2024.03) or yyyymm
// (202403): those are "not a date", quoted as typed, instead of dates in
// 1905 or 2454 that nobody typed. Serials, as numbers or text, and
// 20200315 still read.
func TestXLSXNumbersThatAreNotSerials(t *testing.T) {
	cases := []struct {
		cell any
		want string // the date, or the quoted cell of the problem
	}{
		{43905, "2020-03-15"}, {"43905", "2020-03-15"}, {43905.00000000001, "2020-03-15"},
		{20200315, "2020-03-15"}, {"20200315", "2020-03-15"}, {time.Date(2020, 3, 15, 0, 0, 0, 0, time.UTC), "2020-03-15"},
		{2020, `"2020"`}, {"2021", `"2021"`}, {2024.03, `"2024.03"`}, {"2024.03", `"2024.03"`},
		{202403, `"202403"`}, {"219912", `"219912"`}, {109575, `"109575"`},
	}
	rows := [][]any{{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"}}
	for _, c := range cases {
		rows = append(rows, []any{number(t, "202010000001"), "一种电池", "华南理工大学", "H01M 10/42", c.cell, "2022-01-10"})
	}
	_, got := readAll(t, bytes.NewReader(importertest.Workbook(t, rows)))
	if len(got) != len(cases) {
		t.Fatalf("rows %+v", got)
	}
	for i, r := range got {
		want, problem := cases[i].want, problemsOf(r)[domain.ColFiledOn]
		if strings.HasPrefix(want, `"`) {
			want += " is not a date; write YYYY-MM-DD (e.g. 2024-03-05)"
			if problem != want {
				t.Errorf("%v: %q (%s), want %q", cases[i].cell, problem, r.Patent.FiledOn, want)
			}
		} else if r.Patent.FiledOn.String() != want || problem != "" {
			t.Errorf("%v: %s %q, want %s", cases[i].cell, r.Patent.FiledOn, problem, want)
		}
	}
}

// TestCSVCellsBeyondTheHeader: a comma left unquoted in the last column
// of a CSV file (an abstract) splits the cell; the cells beyond the
// header's last column were dropped, and the abstract cut short without a
// word. Such a row is rejected, naming the separator; blank cells beyond
// the header are not a problem. A workbook's cells under no header are
// notes, and are ignored.
func TestCSVCellsBeyondTheHeader(t *testing.T) {
	split := listRow(t, "202010000001")
	split = append(split[:6], "本发明公开了一种电池", "具有高能量密度", "成本低")
	blank := append(listRow(t, "202010000002"), "", " ")
	for _, tc := range []struct {
		name, data, want string
	}{
		{"comma", csvText([][]string{listHeader, split, blank}), `has a cell beyond the header's last column (column H: "具有高能量密度"); a cell probably holds an unquoted comma, which split it: put that cell in double quotes`},
		{"semicolon", strings.ReplaceAll(csvText([][]string{listHeader, split, blank}), ",", ";"), "a cell probably holds an unquoted semicolon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rows := readAll(t, strings.NewReader(tc.data))
			if len(rows) != 2 || rows[0].Row != 2 || !strings.Contains(problemsOf(rows[0])[domain.ColRow], tc.want) || len(rows[1].Problems) != 0 {
				t.Fatalf("rows %+v; want row 2 rejected with %q", rows, tc.want)
			}
		})
	}
	noted := append(listRow(t, "202010000001"), "", "请核对摘要")
	_, rows := readAll(t, bytes.NewReader(writeXLSX(t, [][]string{listHeader, noted}, 1)))
	if len(rows) != 1 || len(rows[0].Problems) != 0 || rows[0].Patent.Abstract != "一种电池。" {
		t.Fatalf("workbook with a note under no header: %+v", rows)
	}
}

// TestFeeModeWordsAndUnits: the fee mode words lists use are accepted
// (免费许可, 按销售额提成, which names the royalty base of a row that leaves it
// blank, 入门费+销售提成); a word that names no mode is a problem listing
// the Chinese words, and a number that is not one names its unit.
func TestFeeModeWordsAndUnits(t *testing.T) {
	header := append(cloneRow(listHeader[:6]), "许可费支付方式", "royalty_bp", "提成基数", "entry_fee_fen", "许可期限(月)", "lump_sum_fen")
	row := func(digits string, decl ...string) []string { return append(cloneRow(listRow(t, digits)[:6]), decl...) }
	table := [][]string{header,
		row("202010000001", "免费许可", "", "", "", "36", ""),
		row("202010000002", "按销售额提成", "300", "", "", "36", ""),
		row("202010000003", "销售额提成", "300", "", "", "36", ""),
		row("202010000004", "按销售额提成", "300", "利润", "", "36", ""),
		row("202010000005", "提成", "300", "", "", "36", ""),
		row("202010000006", "入门费+销售提成", "200", "", "2000000", "36", ""),
		row("202010000007", "lump sum", "", "", "", "36", "100"),
		row("202010000008", "提成", "3%", "净销售额", "", "36个月", ""),
		row("202010000009", "一次性支付", "", "", "", "36", "5万"),
	}
	_, rows := readAll(t, strings.NewReader(csvText(table)))
	want := []struct {
		mode domain.FeeMode
		base domain.RoyaltyBase
	}{
		{domain.FeeFree, ""}, {domain.FeeRoyalty, domain.BaseNetSales}, {domain.FeeRoyalty, domain.BaseNetSales},
		{domain.FeeRoyalty, domain.BaseProfit}, {domain.FeeRoyalty, ""}, {domain.FeeEntryPlusRoyalty, domain.BaseNetSales},
	}
	for i, w := range want {
		if d := rows[i].Declaration; d == nil || d.Fee.Mode != w.mode || d.Fee.RoyaltyBase != w.base || len(rows[i].Problems) != 0 {
			t.Errorf("row %d: %+v %+v, want %s on %q", rows[i].Row, rows[i].Declaration, rows[i].Problems, w.mode, w.base)
		}
	}
	for i, w := range []map[string]string{
		{domain.ColFeeMode: `"lump sum" is not a fee mode; write one of 免费, 免费许可 (free); 一次性支付, 一次性, 一次性付款, 一次总付 (lump_sum); 分期付款, 分期, 分期支付 (instalment); 提成, 提成支付, 按销售额提成, 销售额提成 (royalty); 入门费+提成, 入门费加提成, 入门费+销售提成, 入门费加销售提成 (entry_plus_royalty)`},
		{domain.ColRoyaltyBP: `"3%" is not a whole number of basis points (3% is 300)`, domain.ColTermMonths: `"36个月" is not a whole number of months`},
		{domain.ColLumpSumFen: `"5万" is not a whole number of fen (¥1 = 100 fen)`},
	} {
		r := rows[len(want)+i]
		if got := problemsOf(r); len(got) != len(w) || got[domain.ColFeeMode] != w[domain.ColFeeMode] ||
			got[domain.ColRoyaltyBP] != w[domain.ColRoyaltyBP] || got[domain.ColTermMonths] != w[domain.ColTermMonths] ||
			got[domain.ColLumpSumFen] != w[domain.ColLumpSumFen] {
			t.Errorf("row %d: %q, want %q", r.Row, got, w)
		}
	}
}

// cloneRow returns a copy of s, to append to.
func cloneRow(s []string) []string { return append([]string(nil), s...) }

// TestChineseDatesWithSpaces: a date in Chinese with spaces between its
// parts, or 号 for 日, is read as the date it says; the cell was cut at its
// first space and refused quoting "2020" alone.
func TestChineseDatesWithSpaces(t *testing.T) {
	cases := map[string]string{
		"2020 年 3 月 5 日": "2020-03-05", "2020年 03月 05日": "2020-03-05", "2021年3月5号": "2021-03-05",
		"2020年3月5日 10:30": "2020-03-05", "2020年3月5日": "2020-03-05",
	}
	checkFiledOn(t, cases)
}

// TestCellsKeptAsText: the marks that make a spreadsheet keep a number as
// text, a leading apostrophe or a formula of the text alone, as exports
// write long numbers into CSV files, are not part of the number or date.
func TestCellsKeptAsText(t *testing.T) {
	n := number(t, "202010000001")
	table := [][]string{listHeader}
	for _, cell := range []string{"'" + n, `="` + n + `"`} {
		row := listRow(t, "202010000001")
		row[0], row[4] = cell, strings.Replace(cell, n, "2020-03-15", 1)
		table = append(table, row)
	}
	_, rows := readAll(t, strings.NewReader(csvText(table)))
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if r.Patent.Number != n || r.Patent.FiledOn.String() != "2020-03-15" || len(r.Problems) != 0 {
			t.Errorf("row %d: %s %s %+v", r.Row, r.Patent.Number, r.Patent.FiledOn, r.Problems)
		}
	}
}

// TestTotalRowIsNoPatent: a total row under the list (合计 in the number
// column) is skipped, not rejected as a patent without a number.
func TestTotalRowIsNoPatent(t *testing.T) {
	total := make([]string, len(listHeader))
	total[0], total[1] = "合计", "6项"
	_, rows := readAll(t, strings.NewReader(csvText([][]string{listHeader, listRow(t, "202010000001"), total})))
	if len(rows) != 1 || rows[0].Row != 2 {
		t.Fatalf("rows %+v", rows)
	}
	// A count after the word, a total in the title column under a blank
	// number, and the header repeated where two lists were pasted one under
	// the other are skipped too; a cell that starts with a longer word is
	// no total.
	suffixed, inTitle := make([]string, len(listHeader)), make([]string, len(listHeader))
	suffixed[0], inTitle[1] = "合计：1项", "合计"
	_, rows = readAll(t, strings.NewReader(csvText([][]string{listHeader, listRow(t, "202010000001"), suffixed, listHeader,
		listRow(t, "202010000002"), inTitle})))
	if len(rows) != 2 || rows[0].Row != 2 || rows[1].Row != 5 || len(rows[0].Problems)+len(rows[1].Problems) != 0 {
		t.Fatalf("rows %+v", rows)
	}
	// A list whose first column is 序号 has the label there and the count
	// under 专利号; a patent numbered in that column is no total.
	serial := append([]string{"序号"}, listHeader...)
	first := append([]string{"1"}, listRow(t, "202010000001")...)
	labelled := make([]string, len(serial))
	labelled[0], labelled[1] = "合计", "1项"
	_, rows = readAll(t, strings.NewReader(csvText([][]string{serial, first, labelled})))
	if len(rows) != 1 || rows[0].Row != 2 {
		t.Fatalf("a total labelled under 序号: rows %+v", rows)
	}
	// A row holding a co-owner or a code is data, whatever its number cell
	// says: it is read, to be refused, not dropped unseen.
	withData := make([]string, len(listHeader))
	withData[0], withData[2] = "合计", "暨南大学"
	if _, rows = readAll(t, strings.NewReader(csvText([][]string{listHeader, withData}))); len(rows) != 1 {
		t.Fatalf("a total row holding a co-owner was dropped: rows %+v", rows)
	}
	worded := listRow(t, "202010000003")
	worded[0] = "Totally new"
	if _, rows = readAll(t, strings.NewReader(csvText([][]string{listHeader, worded}))); len(rows) != 1 || rows[0].Patent.Number != "Totally new" {
		t.Fatalf("a number cell starting with a longer word is no total: rows %+v", rows)
	}
}

// readFiledOn reads a CSV list whose filed_on cells are the keys of cases,
// one row each, and returns the cells in the order of the rows read.
func readFiledOn(t *testing.T, cases map[string]string) ([]string, []domain.ImportRow) {
	t.Helper()
	table := [][]string{listHeader}
	var cells []string
	for cell := range cases {
		row := listRow(t, "202010000001")
		row[4] = cell
		table, cells = append(table, row), append(cells, cell)
	}
	_, rows := readAll(t, strings.NewReader(csvText(table)))
	return cells, rows
}

// checkFiledOn reads a CSV list whose filed_on cells are the keys of cases,
// one row each, and checks each is read as its value, without a problem.
func checkFiledOn(t *testing.T, cases map[string]string) {
	t.Helper()
	cells, rows := readFiledOn(t, cases)
	for i, r := range rows {
		if got, want := r.Patent.FiledOn.String(), cases[cells[i]]; got != want || len(r.Problems) != 0 {
			t.Errorf("%s: %s %+v, want %s", cells[i], got, r.Problems, want)
		}
	}
}
