package importer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
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
