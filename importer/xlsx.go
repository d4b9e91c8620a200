package importer

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
)

// xlsxBook is an open workbook and the temporary copy of its input.
type xlsxBook struct {
	f        *excelize.File
	zip      *zip.ReadCloser // the same file as an archive: its parts' sizes, a sheet's merged cells
	date1904 bool
	temp     string // removed on close
}

// openXLSX opens the workbook r (whose first bytes br has buffered). A
// regular *os.File is opened again by name (from its start); any other
// reader is first copied to a temporary file in tempDir ("" for the
// system's), because a ZIP archive is read from its end. The workbook
// library unzips a large sheet to temporary files in tempDir too.
func openXLSX(r io.Reader, br *bufio.Reader, tempDir string) (_ *xlsxBook, err error) {
	b := &xlsxBook{}
	path := ""
	if f, ok := r.(*os.File); ok && isRegular(f) {
		path = f.Name()
	} else {
		tmp, err := os.CreateTemp(tempDir, TempFilePrefix+"*.xlsx")
		if err != nil {
			return nil, err
		}
		b.temp = tmp.Name()
		_, err = io.Copy(tmp, br)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(b.temp)
			return nil, err
		}
		path = b.temp
	}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	b.zip, err = zip.OpenReader(path)
	if err != nil {
		return nil, notReadable(err)
	}
	if err := checkUnzippedSize(&b.zip.Reader); err != nil {
		return nil, err
	}
	if err := notAWorkbook(&b.zip.Reader); err != nil {
		return nil, err
	}
	if err := checkXMLBounds(&b.zip.Reader); err != nil {
		return nil, err
	}
	b.f, err = excelize.OpenFile(path, excelize.Options{TmpDir: tempDir})
	if err != nil {
		return nil, notReadable(err)
	}
	if len(b.f.GetSheetList()) == 0 {
		return nil, domain.Invalid("file", "has no worksheet")
	}
	if props, err := b.f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		b.date1904 = *props.Date1904
	}
	return b, nil
}

// notReadable is the error of a workbook that could not be opened: the
// file's fault (an invalid_argument naming "file"), unless a file or
// folder of the reader's own failed (its copy gone, its temporary folder
// full or unwritable), which is returned as it is, not blamed on the file.
func notReadable(err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return err
	}
	return domain.Invalid("file", "is not a readable .xlsx workbook: %v", err)
}

// sheet starts reading the sheet named name.
func (b *xlsxBook) sheet(name string) (*xlsxSource, error) {
	rows, err := b.f.Rows(name)
	if err != nil {
		return nil, domain.Invalid("file", "sheet %s cannot be read: %v", domain.Quote(name), err)
	}
	return &xlsxSource{book: b, name: name, rows: rows}, nil
}

func (b *xlsxBook) close() error {
	var errs []error
	if b.f != nil {
		errs = append(errs, b.f.Close())
	}
	if b.zip != nil {
		errs = append(errs, b.zip.Close())
	}
	if b.temp != "" {
		errs = append(errs, os.Remove(b.temp))
		b.temp = ""
	}
	return errors.Join(errs...)
}

// xlsxSource reads one sheet of a workbook with excelize's streaming rows
// iterator; closing it closes the workbook.
type xlsxSource struct {
	book   *xlsxBook
	name   string
	rows   *excelize.Rows
	row    int
	merges *mergeFiller // nil until the header is read, or when no range is merged below it
	peeked *xlsxRow     // the row hasRow read ahead, nil for none
}

// xlsxRow is a row of a sheet as next returns it.
type xlsxRow struct {
	row   int
	cells []string
	err   error
}

// Limits of what a workbook may unzip to, well above what a list of a
// million patents needs: in all, and in the parts excelize holds in memory
// (all but the worksheets and shared strings above its streaming
// threshold, which it unzips to temporary files).
const (
	maxUnzipped         = 4 << 30
	maxUnzippedInMemory = 256 << 20
)

// checkUnzippedSize refuses a workbook whose parts would unzip to more than
// the limits (a ZIP bomb), reading only the sizes its directory declares;
// archive/zip never unzips a part to more than its declared size.
func checkUnzippedSize(zr *zip.Reader) error {
	var total, inMemory uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		total += size
		if !streamedPart(f.Name) || size <= excelize.StreamChunkSize {
			inMemory += size
		}
	}
	if total > maxUnzipped || inMemory > maxUnzippedInMemory {
		return domain.Invalid("file", "unzips to %d MB (%d MB besides its sheets); a workbook may unzip to %d MB (%d MB besides its sheets)",
			total>>20, inMemory>>20, maxUnzipped>>20, maxUnzippedInMemory>>20)
	}
	return nil
}

// notAWorkbook names the kind of a ZIP file that is no workbook but a
// Word document or an OpenDocument file, by a part it holds; nil
// otherwise.
func notAWorkbook(zr *zip.Reader) error {
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			return domain.Invalid("file", "is a Word document, not a spreadsheet; save the list as .xlsx or CSV")
		case "mimetype":
			if isOpenDocument(f) {
				return domain.Invalid("file", "is an OpenDocument file (.ods, .odt), not an .xlsx workbook; save it as .xlsx or CSV")
			}
		}
	}
	return nil
}

// isOpenDocument reports whether the mimetype part of a ZIP file names an
// OpenDocument type.
func isOpenDocument(mimetype *zip.File) bool {
	rc, err := mimetype.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	head, _ := io.ReadAll(io.LimitReader(rc, 64))
	return strings.HasPrefix(string(head), "application/vnd.oasis.opendocument")
}

// streamedPart reports whether excelize unzips the workbook part name to a
// temporary file when it is large: a worksheet or the shared strings.
func streamedPart(name string) bool {
	name = strings.ToLower(strings.ReplaceAll(name, "\\", "/"))
	return strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
}

// isRegular reports whether f is a regular file, which can be opened again
// by name (a pipe cannot).
func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// next returns the next row with a cell; rows are numbered as the sheet
// numbers them. A row whose XML makes no sense (a cell reference such as
// "A0") is a *rowError.
func (s *xlsxSource) next() (int, []string, error) {
	var p xlsxRow
	if s.peeked != nil {
		p, s.peeked = *s.peeked, nil
	} else {
		p = s.read()
	}
	if p.err == nil && s.merges != nil {
		p.cells = s.merges.fill(p.row, p.cells)
	}
	return p.row, p.cells, p.err
}

// mergedFrom returns the top row of the merged range that filled cell i of
// the last row next returned, 0 when none did.
func (s *xlsxSource) mergedFrom(i int) int {
	if s.merges == nil {
		return 0
	}
	return s.merges.filledFrom[i]
}

// hasRow reports whether a row with a cell (or a row that cannot be read)
// follows; next returns it.
func (s *xlsxSource) hasRow() bool {
	if s.peeked == nil {
		p := s.read()
		s.peeked = &p
	}
	return !errors.Is(s.peeked.err, io.EOF)
}

// read reads the next row with a cell, its merged cells not filled.
func (s *xlsxSource) read() xlsxRow {
	for s.rows.Next() {
		s.row++
		cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return xlsxRow{err: &rowError{row: s.row, msg: fmt.Sprintf("the workbook row cannot be read (%v); copy the rows into a new workbook", err)}}
		}
		if len(cells) > 0 {
			return xlsxRow{row: s.row, cells: cells}
		}
	}
	if err := s.rows.Error(); err != nil {
		if errors.Is(err, excelize.ErrMaxRows) {
			err = domain.Invalid("file", "has more rows than a worksheet can hold")
		}
		return xlsxRow{err: err}
	}
	return xlsxRow{err: io.EOF}
}

// checkWellFormed reads the sheet's XML to its end, so that a workbook cut
// short or damaged inside the sheet is refused before any row is imported:
// excelize's row iterator takes an XML error for the end of the sheet, and
// the rows after it would be left out without a word.
func (s *xlsxSource) checkWellFormed() error {
	part, err := sheetPart(&s.book.zip.Reader, s.name)
	if err != nil {
		return err
	}
	rc, err := openPart(&s.book.zip.Reader, part)
	if err != nil {
		return readError(s.name, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(bufio.NewReaderSize(rc, 64<<10))
	lastRow := 0
	for {
		tok, err := d.Token() // checks that every element is closed, and in order
		switch {
		case errors.Is(err, io.EOF) && d.InputOffset() > 0:
			return nil
		case errors.Is(err, io.EOF):
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			line, _ := d.InputPos()
			return domain.Invalid("file", "sheet %s is damaged at line %d of its XML (%v); open the workbook in Excel, save it again and import it again", domain.Quote(s.name), line, err)
		}
		if row, ok := tok.(xml.StartElement); ok && row.Name.Local == "row" {
			if lastRow, err = s.checkRowOrder(row, lastRow); err != nil {
				return err
			}
		}
	}
}

// checkRowOrder returns the number of a row element of the sheet's XML,
// which must come after the row before (number last): rows out of order
// or given twice, as programs other than Excel may write them, would be
// read with a row lost. A row without a number follows the one before.
func (s *xlsxSource) checkRowOrder(row xml.StartElement, last int) (int, error) {
	for _, a := range row.Attr {
		if a.Name.Local != "r" {
			continue
		}
		n, err := strconv.Atoi(a.Value)
		if err == nil && n > last {
			return n, nil
		}
		return 0, domain.Invalid("file", "sheet %s gives row %s after row %d: its rows are out of order or repeated; open the workbook in Excel or WPS, save it again and import it again", domain.Quote(s.name), a.Value, last)
	}
	return last + 1, nil
}

// readMerges reads the merged ranges of the sheet, whose header is the row
// headerRow: those below it fill the rows they span (see mergeFiller);
// those above it, or within it only, are left alone. A range that merges a
// header cell with the rows below it (a header of two rows) is a problem
// naming its cells.
func (s *xlsxSource) readMerges(headerRow int) error {
	merges, err := readMerges(&s.book.zip.Reader, s.name)
	if err != nil {
		return err
	}
	var header []string
	data := merges[:0]
	for _, m := range merges {
		switch {
		case int(m.top) > headerRow:
			data = append(data, m)
		case int(m.bottom) > headerRow:
			header = append(header, m.ref())
		}
	}
	if len(header) > 0 {
		return domain.Invalid("file", "sheet %s: cells of the header row %d are merged with the rows below it (%s); the header must be a single row: unmerge them and leave one header cell above each column", domain.Quote(s.name), headerRow, listSome(header, 5))
	}
	if len(data) > 0 {
		s.merges = &mergeFiller{pending: data}
	}
	return nil
}

// listSome joins the first n items, and says how many there are in all
// when there are more.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s, … (%d in all)", strings.Join(items[:n], ", "), len(items))
}

func (s *xlsxSource) close() error { return errors.Join(s.rows.Close(), s.book.close()) }

// excelDateToTime converts a whole Excel serial date to a time.
func excelDateToTime(serial float64, date1904 bool) (time.Time, error) {
	return excelize.ExcelDateToTime(serial, date1904)
}
