package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/patentledger/ledger/domain"
)

// sniffWindow is how much text the CSV reader looks at to decide an
// encoding or a delimiter; it is also its buffer size.
const sniffWindow = 64 << 10

// csvSource reads the records of a CSV file and numbers them as a
// spreadsheet shows them: blank lines count as rows, a quoted cell with line
// breaks does not add rows.
type csvSource struct {
	r        *csv.Reader
	sniff    *sniffReader
	row      int // row number of the last record
	lastLine int // line on which the last record ended
	bound    *tokenBound
}

// openCSV reads CSV text from br: UTF-8 after a UTF-8 BOM, UTF-16 after a
// UTF-16 one; otherwise UTF-8 or GB18030, as the first non-ASCII bytes
// tell; separated by commas, semicolons or tabs (see sniffDelimiter);
// lines ending in CRLF, LF, or CR alone when the first line does.
func openCSV(br *bufio.Reader) (*csvSource, error) {
	s := &sniffReader{br: br, enc: EncodingUTF8}
	bom, _ := br.Peek(3)
	switch {
	case bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		s.enc, s.out = EncodingUTF8BOM, br
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}), bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		s.enc = EncodingUTF16
		s.out = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	}
	text := bufio.NewReaderSize(s, sniffWindow)
	first, err := text.Peek(sniffWindow)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	var lines io.Reader = text
	if endsLinesWithCR(first) {
		lines = crLines{text}
		first = bytes.ReplaceAll(first, []byte{'\r'}, []byte{'\n'})
	}
	comma := sniffDelimiter(first)
	bound := &tokenBound{r: lines, until: maxCSVRecord, sep: byte(comma)}
	r := csv.NewReader(bound)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.Comma = comma
	return &csvSource{r: r, sniff: s, bound: bound}, nil
}

// maxCSVRecord is the most bytes a CSV record may take: encoding/csv holds
// a whole record in memory (several times over), so one cell of 100 MB took
// the server half a gigabyte before the row was refused for its length. A
// row of fifteen cells of Excel's most, 32,767 characters each, takes under
// 2 MB. A record may hold at most maxRowCells separators besides (quoted
// ones included), as encoding/csv keeps about 75 bytes for each field: 4 MB
// of commas took 300 MB.
const maxCSVRecord = 4 << 20

// tokenBound is the reader under a decoder that lets no token (a CSV
// record) grow past a bound: it delivers bytes only up to until, which the
// caller moves to the bound past the end of each token the decoder
// returns, and then errTokenTooLong (the decoder reads ahead of its tokens
// by a buffer of a few kilobytes at most). Once read reaches until, the
// token being read was cut.
type tokenBound struct {
	r     io.Reader
	read  int64 // bytes delivered
	until int64
	// seps counts the bytes sep delivered since the caller last zeroed it,
	// at the end of a token; past maxRowCells the reader delivers no more
	// (those of the next token that the decoder read ahead are not counted:
	// the count bounds the memory, the caller counts the fields).
	sep  byte
	seps int
}

// Read implements io.Reader.
func (b *tokenBound) Read(p []byte) (int, error) {
	room := b.until - b.read
	if room <= 0 || b.seps > maxRowCells {
		return 0, errTokenTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	b.seps += bytes.Count(p[:n], []byte{b.sep})
	return n, err
}

// cut reports whether the reader stopped delivering within the token
// being read.
func (b *tokenBound) cut() bool { return b.read >= b.until || b.seps > maxRowCells }

// endsLinesWithCR reports whether the first line of text ends with a
// carriage return alone, as classic Mac OS text (Excel's "CSV
// (Macintosh)") does.
func endsLinesWithCR(text []byte) bool {
	i := bytes.IndexAny(text, "\r\n")
	return i >= 0 && text[i] == '\r' && (i+1 == len(text) || text[i+1] != '\n')
}

// crLines turns each carriage return that no line feed follows into a
// line feed, for encoding/csv, which ends lines only at line feeds.
type crLines struct{ r *bufio.Reader }

func (c crLines) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b != '\r' {
			continue
		}
		if i+1 < n {
			if p[i+1] != '\n' {
				p[i] = '\n'
			}
		} else if next, _ := c.r.Peek(1); len(next) == 0 || next[0] != '\n' {
			p[i] = '\n'
		}
	}
	return n, err
}

// csvDelimiters are the separators a CSV file may use, in the order they
// are tried: Excel saves commas (semicolons where the decimal separator is
// a comma), and tabs as "text (tab-separated)".
var csvDelimiters = []byte{',', '\t', ';'}

// sniffDelimiter returns the separator of the header row among the first
// lines of text: the one that sets the number column's header (专利号,
// number) apart as a cell of its own, whatever title lines come above it.
// It returns a comma when no line does.
func sniffDelimiter(text []byte) rune {
	lines := 0
	for line := range bytes.Lines(text) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if lines++; lines > headerSearchRows {
			break
		}
		for _, d := range csvDelimiters {
			for cell := range bytes.SplitSeq(line, []byte{d}) {
				if col, _ := headerColumn(strings.Trim(string(cell), "\"\r\n")); col == domain.ColNumber {
					return rune(d)
				}
			}
		}
	}
	return ','
}

func (s *csvSource) encoding() string { return s.sniff.encoding() }

func (s *csvSource) next() (int, []string, error) {
	rec, err := s.r.Read()
	if s.bound.cut() || len(rec) > maxRowCells {
		return 0, nil, domain.Invalid("file", "row %d of the CSV file (from line %d) is longer than %d MB or has more than %d cells, "+
			"and a cell holds at most 32,767 characters: check that its quotes are closed", s.row+1, s.lastLine+1, maxCSVRecord>>20, maxRowCells)
	}
	s.bound.until, s.bound.seps = s.r.InputOffset()+maxCSVRecord, 0
	var pe *csv.ParseError
	if errors.As(err, &pe) && isSyntax(pe.Err) {
		s.advance(pe.StartLine, pe.Line)
		return 0, nil, &rowError{row: s.row, msg: fmt.Sprintf("the CSV line is malformed (%v at line %d, column %d); put a cell with quotes or commas in double quotes", pe.Err, pe.Line, pe.Column)}
	}
	if err != nil {
		return 0, nil, err
	}
	start, _ := s.r.FieldPos(0)
	last, _ := s.r.FieldPos(len(rec) - 1)
	s.advance(start, last+strings.Count(rec[len(rec)-1], "\n"))
	return s.row, rec, nil
}

// isSyntax reports whether err is one of the CSV syntax errors after which
// reading can go on.
func isSyntax(err error) bool {
	return errors.Is(err, csv.ErrBareQuote) || errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrFieldCount)
}

// advance numbers a record that runs from line start to line end: blank
// lines since the last record are rows too.
func (s *csvSource) advance(start, end int) {
	s.row += 1 + max(0, start-s.lastLine-1)
	s.lastLine = end
}

func (s *csvSource) close() error { return nil }

// mergedFrom implements source: a CSV file has no merged cells.
func (s *csvSource) mergedFrom(int) int { return 0 }

// sniffReader passes ASCII through and decides the encoding at the first
// non-ASCII byte: UTF-8 when the text from there (up to sniffWindow bytes)
// is valid UTF-8, GB18030 otherwise. Everything before was ASCII, which
// both encodings share, so the decision is never made too late.
type sniffReader struct {
	br  *bufio.Reader
	out io.Reader
	enc string
}

func (s *sniffReader) encoding() string { return s.enc }

func (s *sniffReader) Read(p []byte) (int, error) {
	if s.out != nil {
		return s.out.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	buf, err := s.br.Peek(min(len(p), sniffWindow))
	n := 0
	for n < len(buf) && buf[n] < utf8.RuneSelf {
		n++
	}
	if n > 0 {
		copy(p, buf[:n])
		s.br.Discard(n)
		return n, nil
	}
	if len(buf) == 0 {
		return 0, err
	}
	window, werr := s.br.Peek(sniffWindow)
	if looksUTF8(window, werr != nil) {
		s.out = s.br
	} else {
		s.enc = EncodingGB18030
		s.out = transform.NewReader(&utf8LineMarker{src: s.br}, simplifiedchinese.GB18030.NewDecoder())
	}
	return s.out.Read(p)
}

// looksUTF8 reports whether b is UTF-8 text: its multi-byte characters
// valid as UTF-8 outnumber its bytes that are not, so that a file of
// UTF-8 text with a stray byte, or with cells pasted from a GBK file, is
// read as UTF-8 (such bytes then make their rows fail validation, instead
// of turning the whole file into mojibake as a wrong guess of GB18030
// would). GB18030 Chinese text has most of its byte pairs invalid as UTF-8
// and few valid (about one in eight). A character cut off at the end of b
// does not count when more text follows.
func looksUTF8(b []byte, atEOF bool) bool {
	valid, invalid := 0, 0
	for len(b) > 0 {
		if !atEOF && !utf8.FullRune(b) {
			break
		}
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			invalid++
		case size > 1:
			valid++
		}
		b = b[size:]
	}
	return invalid == 0 || valid > invalid
}

// utf8LineMarker passes the lines of a GB18030 file through, but for a
// line written in UTF-8 Chinese (a row pasted from another file), whose
// bytes would decode as other, valid GB18030 characters (电池管理 as
// 鐢垫睜绠＄悊): its non-ASCII bytes become 0xFF, which is no GB18030 text,
// so that its cells reject the row as mixing encodings rather than write
// mojibake.
// A line longer than the reader's buffer, or a file with old Mac line
// ends (CR alone), passes in pieces of the buffer's size, so that memory
// stays bounded.
type utf8LineMarker struct {
	src     *bufio.Reader
	line    []byte // the current line's bytes, reused
	pending []byte // what of line is still to be read
	err     error
}

func (m *utf8LineMarker) Read(p []byte) (int, error) {
	for len(m.pending) == 0 {
		if m.err != nil {
			return 0, m.err
		}
		piece, err := m.src.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil
		}
		m.line, m.err = append(m.line[:0], piece...), err
		m.pending = m.line
		if isUTF8Chinese(m.pending) {
			for i, b := range m.pending {
				if b >= utf8.RuneSelf {
					m.pending[i] = 0xFF
				}
			}
		}
	}
	n := copy(p, m.pending)
	m.pending = m.pending[n:]
	return n, nil
}

// isUTF8Chinese reports whether line is valid UTF-8 holding two or more
// Chinese characters or full-width signs and no other character beyond
// ASCII below U+2000: GB18030 text read as UTF-8 is rarely valid, and
// then mostly of two-byte characters (Latin, Greek, Hebrew …), while UTF-8
// Chinese is three bytes a character.
func isUTF8Chinese(line []byte) bool {
	if !utf8.Valid(line) {
		return false
	}
	chinese := 0
	for _, r := range string(line) {
		switch {
		case r < utf8.RuneSelf:
		case r < 0x2000:
			return false
		case r >= 0x3000 && r <= 0x9FFF || r >= 0xFF00 && r <= 0xFFEF:
			chinese++
		}
	}
	return chinese >= 2
}
