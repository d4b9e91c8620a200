package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// Bounds of a workbook's XML that keep the memory and time an import takes
// in proportion to its rows, whatever its parts unzip to: Go's XML decoder
// (and so the workbook library's) holds a whole text, tag or comment in
// memory, so one run of 256 MB of spaces in a sheet took a gigabyte; and a
// sheet of millions of empty rows or cells kept the reader busy for minutes.
const (
	// maxXMLToken is the most bytes a text, tag, comment or directive of
	// the XML may take: an Excel cell holds at most 32,767 characters,
	// which escaped in XML take well under 1 MB.
	maxXMLToken = 1 << 20
	// maxSheetRows and maxRowCells are a worksheet's limits in Excel.
	maxSheetRows = 1_048_576
	maxRowCells  = 16_384
)

// errTokenTooLong ends the scan of a part at a token longer than
// maxXMLToken, and the reading of a CSV record longer than maxCSVRecord.
var errTokenTooLong = errors.New("a token is too long")

// checkXMLBounds refuses a workbook one of whose XML parts holds a token
// longer than maxXMLToken, or one of whose worksheets has more rows than
// maxSheetRows or a row with more cells than maxRowCells, reading each
// part once, before the workbook library reads any. A part that is not
// well-formed is left to the checks that name the damage.
func checkXMLBounds(zr *zip.Reader) error {
	for _, f := range zr.File {
		name := strings.ToLower(f.Name)
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			continue
		}
		if err := checkPartBounds(f, strings.HasPrefix(name, "xl/worksheets/")); err != nil {
			return err
		}
	}
	return nil
}

// checkPartBounds scans the XML part f (see xmlScan); for a worksheet it
// counts the rows and each row's cells.
func checkPartBounds(f *zip.File, worksheet bool) error {
	rc, err := f.Open()
	if err != nil {
		return nil // not readable: openXLSX's other checks say so
	}
	defer rc.Close()
	scan := &xmlScan{in: bufio.NewReaderSize(rc, 64<<10), limit: maxXMLToken, worksheet: worksheet}
	switch err := scan.run(); {
	case errors.Is(err, errTokenTooLong):
		return domain.Invalid("file", "part %s of the workbook holds a text or tag of more than %d MB (a cell holds at most 32,767 characters); "+
			"open the workbook in Excel or WPS, save it again and import it again", f.Name, maxXMLToken>>20)
	case errors.Is(err, errDTD):
		return domain.Invalid("file", "part %s of the workbook holds a document type declaration, which a workbook may not (ECMA-376 part 2); "+
			"open the workbook in Excel or WPS, save it again and import it again", f.Name)
	case scan.rows > maxSheetRows:
		return domain.Invalid("file", "part %s of the workbook has more than %d rows, more than a worksheet can hold", f.Name, maxSheetRows)
	case scan.cells > maxRowCells:
		return domain.Invalid("file", "part %s of the workbook has a row of more than %d cells, more than a worksheet can hold", f.Name, maxRowCells)
	}
	return nil
}

// errDTD ends the scan of a part at a document type declaration.
var errDTD = errors.New("a document type declaration")

// xmlScan reads XML a byte at a time, far faster than a decoder, to find
// what would make a decoder hold too much in memory: a text, a tag (quoted
// attribute values may hold '>'), a comment, a CDATA section or a
// processing instruction longer than limit bytes, or a document type
// declaration, which a workbook may not hold. In a worksheet it counts the
// row elements and the cell elements of each, whatever their namespace
// prefix, and stops past Excel's limits. Whether the XML is well-formed is
// left to the decoders that read it next: they stop at its first error,
// which this scan has passed too.
type xmlScan struct {
	in          *bufio.Reader
	limit       int // maxXMLToken; less in tests
	worksheet   bool
	rows, cells int
}

// run scans to the end of the input or the first excess (errTokenTooLong,
// errDTD, or rows or cells past the limits); the input's own read errors
// end it with nil.
func (s *xmlScan) run() error {
	text := 0
	for s.rows <= maxSheetRows && s.cells <= maxRowCells {
		chunk, err := s.in.ReadSlice('<')
		text += len(chunk)
		if err == nil {
			text-- // the '<'
		}
		if text > s.limit {
			return errTokenTooLong
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return nil
		}
		text = 0
		if err := s.markup(); err != nil {
			return err
		}
	}
	return nil
}

// markup scans what follows a '<'.
func (s *xmlScan) markup() error {
	next, _ := s.in.Peek(8)
	switch {
	case bytes.HasPrefix(next, []byte("!--")):
		return s.until("-->")
	case bytes.HasPrefix(next, []byte("![CDATA[")):
		return s.until("]]>")
	case bytes.HasPrefix(next, []byte("?")):
		return s.until("?>")
	case bytes.HasPrefix(next, []byte("!")):
		return errDTD
	}
	return s.tag()
}

// until reads past the first end, which must come within limit bytes.
func (s *xmlScan) until(end string) error {
	var last [3]byte // the bytes read last, the latest at the end
	for n := 1; n <= s.limit; n++ {
		b, err := s.in.ReadByte()
		if err != nil {
			return nil
		}
		last = [3]byte{last[1], last[2], b}
		if n >= len(end) && string(last[3-len(end):]) == end {
			return nil
		}
	}
	return errTokenTooLong
}

// tag reads a start or end tag to its '>' outside quotes, which must come
// within limit bytes, counting rows and cells in a worksheet.
func (s *xmlScan) tag() error {
	var name []byte
	naming, quote := true, byte(0)
	for n := 1; n <= s.limit; n++ {
		b, err := s.in.ReadByte()
		if err != nil {
			return nil
		}
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
			continue
		case b == '"' || b == '\'':
			quote = b
		case b == '>':
			s.count(name)
			return nil
		}
		if naming && (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '/' && len(name) > 0) {
			naming = false
		}
		if naming && len(name) < 64 {
			name = append(name, b)
		}
	}
	return errTokenTooLong
}

// count counts the element a start tag named (an end tag's name starts
// with '/'): a row, or a cell of the row.
func (s *xmlScan) count(name []byte) {
	if !s.worksheet || bytes.HasPrefix(name, []byte("/")) {
		return
	}
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	switch string(name) {
	case "row":
		s.rows, s.cells = s.rows+1, 0
	case "c":
		s.cells++
	}
}
