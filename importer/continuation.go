package importer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// A patent may be laid over several rows of a list, one co-owner or one
// IPC code per row: its number, title and dates merged over the rows in a
// workbook, left blank in the rows below, or repeated on every row (as
// database exports write it). Such a row continues the row above, and the
// rows are imported as one patent: registering the first row alone would
// leave the patent without its other co-owners or codes, which an import
// never changes afterwards.

// listColumns are the columns whose items a patent laid over several rows
// spreads over them; the rows' cells are joined.
var listColumns = []string{domain.ColPatentees, domain.ColIPC, domain.ColCoOwnerConsent}

// heldRow is a data row held back by Reader.Next until the next row shows
// whether it continues the same patent, with the rows it has absorbed.
type heldRow struct {
	row       int
	cells     []string
	conflicts []domain.FieldError // cells of later rows that contradict it
	// unreadable are rows that could not be read, read after it: they wait
	// with it, and reject it (broken) if a row after them continues its
	// patent.
	unreadable []domain.ImportRow
	broken     bool
	// continued are the list items the rows it absorbed added.
	continued []domain.ContinuedItem
}

// releaseHeld makes the held row ready, joined with the rows that continue
// it, followed by the unreadable rows read after it; it holds nothing
// then.
func (r *Reader) releaseHeld() {
	h := r.held
	if h == nil {
		return
	}
	r.held = nil
	ir := r.convert(h.row, h.cells)
	ir.Problems = append(ir.Problems, h.conflicts...)
	ir.Continued = h.continued
	r.ready = append(append(r.ready, ir), h.unreadable...)
}

// continues reports whether a row (with a cell in a known column)
// continues the held row's patent: its number cell was filled from a
// range merged down from the held row; or it repeats the held row's
// number, adds an item to a list column and differs from it in nothing
// else (one row per co-owner, as exports write it; a row that gives
// another title or fee, or repeats the row, stays a row of its own, a
// repeat or duplicate as the import reports it); or it gives no number
// and no title but the held row's (blank, filled from the held row's
// merged ranges, or repeated) but an item of a list column (a co-owner,
// an IPC code, a consent). Such a row may repeat the dates: a CSV saved
// from a workbook whose number and title were merged over the rows, and
// its dates typed on each, has them so; a date that differs is a problem
// of the patent's row (absorb).
func (r *Reader) continues(cells []string) bool {
	mergedFromHeld := func(col string) bool {
		i, ok := r.index[col]
		return ok && r.src.mergedFrom(i) == r.held.row
	}
	if i, ok := r.index[domain.ColNumber]; ok && r.src.mergedFrom(i) != 0 {
		return mergedFromHeld(domain.ColNumber)
	}
	if number := cellAt(cells, r.index, domain.ColNumber); number != "" {
		return samePatentNumber(number, cellAt(r.held.cells, r.index, domain.ColNumber)) && r.differsInListsOnly(cells) &&
			r.addsListItems(cells)
	}
	if title := cellAt(cells, r.index, domain.ColTitle); title != "" && !mergedFromHeld(domain.ColTitle) &&
		title != cellAt(r.held.cells, r.index, domain.ColTitle) {
		return false
	}
	return slices.ContainsFunc(listColumns, func(col string) bool { return cellAt(cells, r.index, col) != "" })
}

// differsInListsOnly reports whether every cell of a row outside the number
// and list columns is blank or the held row's.
func (r *Reader) differsInListsOnly(cells []string) bool {
	for col := range r.index {
		if col == domain.ColNumber || slices.Contains(listColumns, col) {
			continue
		}
		if v := cellAt(cells, r.index, col); v != "" && !r.sameValue(col, v, cellAt(r.held.cells, r.index, col)) {
			return false
		}
	}
	return true
}

// addsListItems reports whether a list cell of a row holds an item the
// held row's does not.
func (r *Reader) addsListItems(cells []string) bool {
	return slices.ContainsFunc(listColumns, func(col string) bool {
		held := splitList(cellAt(r.held.cells, r.index, col))
		return slices.ContainsFunc(splitList(cellAt(cells, r.index, col)), func(item string) bool { return !slices.Contains(held, item) })
	})
}

// sameValue reports whether two cells of a column hold the same value,
// however each is written: a date, a whole number, a fee mode or a royalty
// base as a row reads it (2021/1/4 is 2021-01-04, 100,000 is 100000, 一次性
// is lump_sum); other cells, and cells a row could not read, as text.
func (r *Reader) sameValue(col, a, b string) bool {
	if a == b {
		return true
	}
	va, oka := r.cellValue(col, a)
	vb, okb := r.cellValue(col, b)
	return oka && okb && va == vb
}

// valueColumns are the columns whose cells sameValue compares by value.
var valueColumns = map[string]bool{
	domain.ColFiledOn: true, domain.ColGrantedOn: true, domain.ColDeclaredOn: true, domain.ColLumpSumFen: true,
	domain.ColInstalmentFen: true, domain.ColInstalments: true, domain.ColEntryFeeFen: true, domain.ColRoyaltyBP: true,
	domain.ColTermMonths: true, domain.ColFeeMode: true, domain.ColRoyaltyBase: true,
}

// cellValue returns the value a row reads in a cell of a column, in one
// spelling, and whether it read one without a problem.
func (r *Reader) cellValue(col, cell string) (string, bool) {
	if !valueColumns[col] {
		return "", false
	}
	cells := make([]string, r.index[col]+1)
	cells[r.index[col]] = cell
	b := &rowBuilder{r: r, cells: cells}
	var v string
	switch col {
	case domain.ColFiledOn, domain.ColGrantedOn, domain.ColDeclaredOn:
		v = b.date(col).String()
	case domain.ColFeeMode:
		v = string(b.feeMode())
	case domain.ColRoyaltyBase:
		v = string(b.royaltyBase())
	default:
		v = strconv.FormatInt(b.integer(col), 10)
	}
	return v, len(b.row.Problems) == 0
}

// samePatentNumber reports whether two number cells name one patent,
// however each is written (ZL…, CN…, full width, spaces, marked as text).
func samePatentNumber(a, b string) bool {
	na, errA := domain.ParsePatentNumber(codeText(a))
	nb, errB := domain.ParsePatentNumber(codeText(b))
	if errA != nil || errB != nil {
		return a == b
	}
	return na == nb
}

// absorb joins a row that continues the held one: the items of its list
// cells are added to the held row's (an item given already, as a merged
// cell repeats it, is not); any other cell that contradicts the held
// row's, a CSV cell beyond the header, or an unreadable row between the
// two is a problem of the joined row, which is then rejected whole.
func (h *heldRow) absorb(r *Reader, row int, cells []string) {
	if len(h.unreadable) > 0 && !h.broken {
		h.broken = true
		h.conflicts = append(h.conflicts, domain.FieldError{Field: domain.ColRow, Message: fmt.Sprintf(
			"row %d continues this patent, but row %d among its rows could not be read; fix that row and import again",
			row, h.unreadable[0].Row)})
	}
	if extra := r.beyondHeader(cells); extra != "" {
		h.conflicts = append(h.conflicts, domain.FieldError{Field: domain.ColRow,
			Message: fmt.Sprintf("row %d, which continues this patent, %s", row, extra)})
	}
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
			for _, item := range splitList(value) {
				if !slices.Contains(splitList(held), item) {
					h.continued = append(h.continued, domain.ContinuedItem{Column: col, Item: item, Row: row})
				}
			}
			h.cells[i] = joinItems(held, value)
		case col == domain.ColNumber && samePatentNumber(value, held):
		case !r.sameValue(col, value, held):
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
