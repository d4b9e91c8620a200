// Package importertest builds Excel workbooks for the tests of the
// packages that import patent lists (importer, api, cmd/ledger).
package importertest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// Workbook returns an .xlsx file of one sheet, Sheet1, holding rows from
// A1 (a time.Time as a date cell) with the merged ranges given ("B3:B5").
// It fails t when excelize cannot build it.
func Workbook(t testing.TB, rows [][]any, merges ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
		for j, v := range row {
			if _, ok := v.(time.Time); ok {
				name, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if err := f.SetCellStyle("Sheet1", name, name, dateStyle); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, m := range merges {
		from, to, _ := strings.Cut(m, ":")
		if err := f.MergeCell("Sheet1", from, to); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
