package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// A patent may be laid over several rows of a list, one co-owner or one
// IPC code per row: its number, title and dates merged over the rows in a
// workbook, or left blank in the rows below. Such a row continues the row
// above, and their rows are imported as one: registering the first row
// alone would leave the patent without its other co-owners or codes, which
// an import never changes afterwards.

// listColumns are the columns whose items a patent laid over several rows
// spreads over them; the rows' cells are joined.
var listColumns = []string{domain.ColPatentees, domain.ColIPC, domain.ColCoOwnerConsent}

// identityColumns name a patent: a row blank in all of them, with a list
// cell, continues the row above.
var identityColumns = []string{domain.ColNumber, domain.ColTitle, domain.ColFiledOn, domain.ColGrantedOn}

// heldRow is a data row held back by Reader.Next until the next row shows
// whether it continues the same patent, with the rows it has absorbed.
type heldRow struct {
	row       int
	cells     []string
	continued []int               // rows joined to it
	conflicts []domain.FieldError // cells of those rows that contradict it
}

// hold holds back a data row; one with no cell in a known column (blank,
// or notes beside the list) is skipped, and continues nothing.
func (r *Reader) hold(row int, cells []string) {
	for col := range r.index {
		if cellAt(cells, r.index, col) != "" {
			r.held = &heldRow{row: row, cells: slices.Clone(cells)}
			return
		}
	}
}

// releaseHeld returns the ImportRow of the held row, joined with the rows
// that continue it, and holds nothing; ok is false when no row was held or
// it has no cell in a known column.
func (r *Reader) releaseHeld() (domain.ImportRow, bool) {
	h := r.held
	if h == nil {
		return domain.ImportRow{}, false
	}
	r.held = nil
	ir, ok := r.convert(h.row, h.cells)
	ir.Problems = append(ir.Problems, h.conflicts...)
	return ir, ok
}

// continues reports whether a row continues the held row's patent: its
// number cell was filled from a range merged down from the held row, or
// it gives none of the number, title and dates but an item of a list
// column (a co-owner, an IPC code, a consent).
func (r *Reader) continues(cells []string) bool {
	if i, ok := r.index[domain.ColNumber]; ok {
		if top := r.src.mergedFrom(i); top != 0 {
			return top == r.held.row
		}
	}
	blank := func(col string) bool { return cellAt(cells, r.index, col) == "" }
	return r.held != nil && !slices.ContainsFunc(identityColumns, func(col string) bool { return !blank(col) }) &&
		slices.ContainsFunc(listColumns, func(col string) bool { return !blank(col) })
}

// absorb joins a row that continues the held one: the items of its list
// cells are added to the held row's (an item given already, as a merged
// cell repeats it, is not); any other cell that contradicts the held row's
// is a problem of the joined row.
func (h *heldRow) absorb(r *Reader, row int, cells []string) {
	h.continued = append(h.continued, row)
	for _, col := range r.columns() {
		i := r.index[col]
		value := cellAt(cells, r.index, col)
		if value == "" {
			continue
		}
		for len(h.cells) <= i {
			h.cells = append(h.cells, "")
		}
		held := strings.TrimSpace(h.cells[i])
		switch {
		case slices.Contains(listColumns, col):
			h.cells[i] = joinItems(held, value)
		case value != held:
			h.conflicts = append(h.conflicts, domain.FieldError{Field: col, Message: fmt.Sprintf(
				"row %d continues this patent, but gives %s here where row %d gives %s; give the patent's other values on its first row only",
				row, domain.Quote(value), h.row, domain.Quote(held))})
		}
	}
}

// joinItems adds to a list cell the items of another it does not hold yet.
func joinItems(list, more string) string {
	items := splitList(list)
	for _, item := range splitList(more) {
		if !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	return strings.Join(items, ";")
}

// cellAt returns the trimmed cell of a column in cells, "" when the file
// has no such column or the row is short.
func cellAt(cells []string, index map[string]int, col string) string {
	i, ok := index[col]
	if !ok || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}
