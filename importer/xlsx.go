package importer

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
)

// xlsxBook is an open workbook and the temporary copy of its input.
type xlsxBook struct {
	f        *excelize.File
	date1904 bool
	temp     string // removed on close
}

// openXLSX opens the workbook r (whose first bytes br has buffered). A
// regular *os.File is opened again by name (from its start); any other
// reader is first copied to a temporary file, because a ZIP archive is read
// from its end.
func openXLSX(r io.Reader, br *bufio.Reader) (_ *xlsxBook, err error) {
	b := &xlsxBook{}
	path := ""
	if f, ok := r.(*os.File); ok && isRegular(f) {
		path = f.Name()
	} else {
		tmp, err := os.CreateTemp("", "ledger-import-*.xlsx")
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
	if err := checkUnzippedSize(path); err != nil {
		return nil, err
	}
	b.f, err = excelize.OpenFile(path)
	if err != nil {
		return nil, domain.Invalid("file", "is not a readable .xlsx workbook: %v", err)
	}
	if len(b.f.GetSheetList()) == 0 {
		return nil, domain.Invalid("file", "has no worksheet")
	}
	if props, err := b.f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		b.date1904 = *props.Date1904
	}
	return b, nil
}

// sheet starts reading the sheet named name.
func (b *xlsxBook) sheet(name string) (*xlsxSource, error) {
	rows, err := b.f.Rows(name)
	if err != nil {
		return nil, domain.Invalid("file", "sheet %q cannot be read: %v", name, err)
	}
	return &xlsxSource{book: b, rows: rows}, nil
}

func (b *xlsxBook) close() error {
	var errs []error
	if b.f != nil {
		errs = append(errs, b.f.Close())
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
	book *xlsxBook
	rows *excelize.Rows
	row  int
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
func checkUnzippedSize(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return domain.Invalid("file", "is not a readable .xlsx workbook: %v", err)
	}
	defer zr.Close()
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
	for s.rows.Next() {
		s.row++
		cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return 0, nil, &rowError{row: s.row, msg: fmt.Sprintf("the workbook row cannot be read (%v); copy the rows into a new workbook", err)}
		}
		if len(cells) > 0 {
			return s.row, cells, nil
		}
	}
	if err := s.rows.Error(); err != nil {
		if errors.Is(err, excelize.ErrMaxRows) {
			return 0, nil, domain.Invalid("file", "has more rows than a worksheet can hold")
		}
		return 0, nil, err
	}
	return 0, nil, io.EOF
}

func (s *xlsxSource) close() error { return errors.Join(s.rows.Close(), s.book.close()) }

// excelDateToTime converts a whole Excel serial date to a time.
func excelDateToTime(serial float64, date1904 bool) (time.Time, error) {
	return excelize.ExcelDateToTime(serial, date1904)
}
