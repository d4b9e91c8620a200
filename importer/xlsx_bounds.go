package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/patentledger/ledger/domain"
)

// Bounds of a workbook's XML that keep the memory and time an import takes
// in proportion to its rows, whatever its parts unzip to: Go's XML decoder
// (and so the workbook library's) holds a whole text, tag or comment in
// memory, and a frame for each element left open, so one run of 256 MB of
// spaces in a sheet took a gigabyte, and 3,000,000 nested elements 700 MB;
// a sheet of millions of empty rows or cells kept the reader busy for
// minutes; twelve million tiny shared strings took 1.3 GB.
const (
	// maxXMLToken is the most bytes a text, tag, comment or processing
	// instruction of the XML may take: an Excel cell holds at most 32,767
	// characters, which escaped in XML take well under 1 MB.
	maxXMLToken = 1 << 20
	// maxXMLDepth is the most elements that may be open at once; Excel's
	// parts nest a few tens deep at most.
	maxXMLDepth = 256
	// maxSheetRows and maxRowCells are a worksheet's limits in Excel.
	maxSheetRows = 1_048_576
	maxRowCells  = 16_384
	// maxSharedStrings bounds a workbook's shared strings (<si>), which the
	// workbook library holds in memory: four texts for each row a sheet can
	// hold.
	maxSharedStrings = 4 * maxSheetRows
)

// Errors that end the scan of a part.
var (
	// errTokenTooLong ends the scan of a part at a token longer than
	// maxXMLToken, and the reading of a CSV record longer than maxCSVRecord.
	errTokenTooLong = errors.New("a token is too long")
	errDTD          = errors.New("a document type declaration")
	errTooDeep      = errors.New("elements nested too deep")
	errNotUTF8      = errors.New("an encoding other than UTF-8")
)

// checkXMLBounds refuses a workbook one of whose parts, read as XML, holds
// a token longer than maxXMLToken, elements nested deeper than maxXMLDepth,
// a document type declaration, or an encoding other than UTF-8 (which the
// scan, reading bytes, could not follow), or has more rows than
// maxSheetRows, a row with more cells than maxRowCells, or more shared
// strings than maxSharedStrings. It reads every part that starts as text,
// whatever its name (the workbook's relationships, which the library
// follows, may give a sheet any name), once, before the workbook library
// reads any. Whether a part is well-formed is left to the checks that name
// the damage.
func checkXMLBounds(zr *zip.Reader) error {
	for _, f := range zr.File {
		if err := checkPartBounds(f); err != nil {
			return err
		}
	}
	return nil
}

// checkPartBounds scans the part f (see xmlScan) when it starts as text.
func checkPartBounds(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return nil // not readable: openXLSX's other checks say so
	}
	defer rc.Close()
	scan := &xmlScan{in: bufio.NewReaderSize(rc, 64<<10), limit: maxXMLToken}
	refused := func(what string) error {
		return domain.Invalid("file", "part %s of the workbook %s; open the workbook in Excel or WPS, save it again and import it again", f.Name, what)
	}
	switch err := scan.run(); {
	case errors.Is(err, errTokenTooLong):
		return refused(fmt.Sprintf("holds a text or tag of more than %d MB (a cell holds at most 32,767 characters)", maxXMLToken>>20))
	case errors.Is(err, errDTD):
		return refused("holds a document type declaration, which a workbook may not (ECMA-376 part 2)")
	case errors.Is(err, errTooDeep):
		return refused(fmt.Sprintf("nests elements more than %d deep", maxXMLDepth))
	case errors.Is(err, errNotUTF8):
		return refused("is not written in UTF-8, as Excel and WPS write workbooks")
	case scan.rows > maxSheetRows:
		return refused(fmt.Sprintf("has more than %d rows, more than a worksheet can hold", maxSheetRows))
	case scan.cells > maxRowCells:
		return refused(fmt.Sprintf("has a row of more than %d cells, more than a worksheet can hold", maxRowCells))
	case scan.strings > maxSharedStrings:
		return refused(fmt.Sprintf("holds more than %d shared texts", maxSharedStrings))
	}
	return nil
}

// xmlScan reads XML bytes, far faster than a decoder, to find what would
// make a decoder hold too much in memory: a text, a tag (quoted attribute
// values may hold '>'), a comment, a CDATA section or a processing
// instruction longer than limit bytes, more than maxXMLDepth elements open
// at once, or a document type declaration, which a workbook may not hold.
// It counts the row elements, the cell elements of each and the shared
// strings (si), whatever their namespace prefix, and stops past the
// limits. The bytes must be UTF-8, which is what it reads: an XML
// declaration of another encoding is refused. Whether the XML is
// well-formed is left to the decoders that read it next: they stop at its
// first error, which this scan has passed too.
type xmlScan struct {
	in                   *bufio.Reader
	limit                int // maxXMLToken; less in tests
	depth                int
	rows, cells, strings int
}

// run scans to the end of the input or the first excess (an error, or
// counts past the limits); a part that does not start as text (an image),
// and the input's own read errors, end it with nil.
func (s *xmlScan) run() error {
	if !s.isText() {
		return nil
	}
	text := 0
	for s.rows <= maxSheetRows && s.cells <= maxRowCells && s.strings <= maxSharedStrings {
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

// isText reports whether the part starts as text, which an XML decoder
// reads: its first bytes are UTF-8 without a zero byte. A binary part (an
// image) is not scanned: a decoder stops at its first bytes too.
func (s *xmlScan) isText() bool {
	head, _ := s.in.Peek(512)
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	for cut := 0; cut < utf8.UTFMax-1 && !utf8.Valid(head); cut++ {
		head = head[:len(head)-1] // a character the peek cut in two
	}
	return utf8.Valid(head)
}

// markup scans what follows a '<'.
func (s *xmlScan) markup() error {
	next, _ := s.in.Peek(8)
	switch {
	case bytes.HasPrefix(next, []byte("!--")):
		_, err := s.until("-->")
		return err
	case bytes.HasPrefix(next, []byte("![CDATA[")):
		_, err := s.until("]]>")
		return err
	case bytes.HasPrefix(next, []byte("?")):
		head, err := s.until("?>")
		if err == nil && !utf8Declared(head) {
			err = errNotUTF8
		}
		return err
	case bytes.HasPrefix(next, []byte("!")):
		return errDTD
	}
	return s.tag()
}

// xmlEncoding finds the encoding an XML declaration names.
var xmlEncoding = regexp.MustCompile(`^\?xml\s[^>]*encoding\s*=\s*["']([^"']*)["']`)

// utf8Declared reports whether a processing instruction, of which head is
// the start, is not an XML declaration naming an encoding other than
// UTF-8.
func utf8Declared(head []byte) bool {
	m := xmlEncoding.FindSubmatch(head)
	return m == nil || strings.EqualFold(string(m[1]), "utf-8")
}

// until reads past the first end, which must come within limit bytes, and
// returns the first bytes it read (up to 256).
func (s *xmlScan) until(end string) ([]byte, error) {
	var head []byte
	var last [3]byte // the bytes read last, the latest at the end
	for n := 1; n <= s.limit; n++ {
		b, err := s.in.ReadByte()
		if err != nil {
			return head, nil
		}
		if len(head) < 256 {
			head = append(head, b)
		}
		last = [3]byte{last[1], last[2], b}
		if n >= len(end) && string(last[3-len(end):]) == end {
			return head, nil
		}
	}
	return head, errTokenTooLong
}

// tag reads a start or end tag to its '>' outside quotes, which must come
// within limit bytes, following the depth and counting rows, cells and
// shared strings.
func (s *xmlScan) tag() error {
	var name []byte
	naming, quote, prev := true, byte(0), byte(0)
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
			return s.element(name, prev == '/')
		}
		if naming && (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '/' && len(name) > 0) {
			naming = false
		}
		if naming && len(name) < 64 {
			name = append(name, b)
		}
		prev = b
	}
	return errTokenTooLong
}

// element follows a tag named name (an end tag's name starts with '/'),
// empty when it ends "/>": the depth, and the rows, the cells of the row
// and the shared strings.
func (s *xmlScan) element(name []byte, empty bool) error {
	if bytes.HasPrefix(name, []byte("/")) {
		s.depth = max(0, s.depth-1)
		return nil
	}
	if !empty {
		if s.depth++; s.depth > maxXMLDepth {
			return errTooDeep
		}
	}
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	switch string(name) {
	case "row":
		s.rows, s.cells = s.rows+1, 0
	case "c":
		s.cells++
	case "si":
		s.strings++
	}
	return nil
}
