package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// scanWith scans text as a part with tokens bounded to limit.
func scanWith(text string, limit int) (*xmlScan, error) {
	s := &xmlScan{in: bufio.NewReader(strings.NewReader(text)), limit: limit}
	return s, s.run()
}

// TestXMLScan: each kind of token is bounded, whatever it holds ('>' in a
// quoted attribute value, '<' in a comment or CDATA section), and so is
// the white space before the first; elements nest at most maxXMLDepth
// deep (empty ones do not count); a document type declaration, an XML
// declaration of another encoding than UTF-8 and a UTF-16 text are
// refused; a part that does not start as XML (an image) is not read; rows,
// cells and shared strings are counted with or without a namespace prefix,
// end tags and other elements not.
func TestXMLScan(t *testing.T) {
	const limit = 100
	long := strings.Repeat("a>", 60)
	for text, want := range map[string]error{
		`<row r="1"><c r="A1"><v>1</v></c></row>`:                     nil,
		strings.Repeat(" ", 101):                                      errTokenTooLong,
		strings.Repeat(" ", 100):                                      nil,
		`<row x="` + long + `"/>`:                                     errTokenTooLong,
		`<row x='` + long + `'/>`:                                     errTokenTooLong,
		`<!--` + strings.Repeat("<b/>", 30) + `-->`:                   errTokenTooLong,
		`<!--` + strings.Repeat("<b/>", 20) + `-->`:                   nil,
		`<![CDATA[` + strings.Repeat("<b/>", 30) + `]]>`:              errTokenTooLong,
		`<?pi ` + strings.Repeat("<b/>", 30) + `?>`:                   errTokenTooLong,
		`<?xml version="1.0"?><!DOCTYPE x []><x/>`:                    errDTD,
		`<x:row>` + strings.Repeat("<x:c/>", 5) + `</x:row>`:          nil,
		`<t>` + strings.Repeat("长", 33) + `</t>`:                      nil,
		`<t>` + strings.Repeat("长", 34) + `</t>`:                      errTokenTooLong,
		strings.Repeat("<x>", maxXMLDepth):                            nil,
		strings.Repeat("<x>", maxXMLDepth+1):                          errTooDeep,
		strings.Repeat("<x/><y></y>", 1000):                           nil,
		`<?xml version="1.0" encoding="ISO-2022-JP"?><x/>`:            errNotUTF8,
		`<?xml version="1.0" encoding='utf-8'?><x/>`:                  nil,
		`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><x/>`: nil,
		"\xff\xfe<\x00x\x00" + strings.Repeat("\x00", 200):            nil, // UTF-16, which a decoder stops at at once, as at an image
		"\x01\x00\x00\x00" + strings.Repeat(" ", 200):                 nil, // an EMF image
		"\x89PNG\r\n" + strings.Repeat("\x01", 500):                   nil,
		strings.Repeat("A", 101) + "<x/>":                             errTokenTooLong, // text before the root, which a decoder reads too
		"\xef\xbb\xbf  <x/>":                                          nil,
		strings.Repeat(" ", 101) + "<x/>":                             errTokenTooLong,
	} {
		if _, err := scanWith(text, limit); !errors.Is(err, want) && err != want {
			t.Errorf("scan of %.60q…: %v, want %v", text, err, want)
		}
	}
	s, _ := scanWith(`<sheetData><x:row r="1"><x:c/><x:c/></x:row><row/><row><c r="A3"/></row><rows/><cell/></sheetData>`+
		`<sst><si><t>a</t></si><x:si/><sis/></sst>`, limit)
	if s.rows != 3 || s.cells != 1 || s.strings != 2 {
		t.Errorf("counted %d rows, %d cells in the last and %d shared strings, want 3, 1 and 2", s.rows, s.cells, s.strings)
	}
}

// TestTooManySharedStrings: a workbook of more shared strings than
// maxSharedStrings, each tiny, is refused; twelve million of them took
// 1.3 GB (re-check 6, F4).
func TestTooManySharedStrings(t *testing.T) {
	for n, want := range map[int]string{maxSharedStrings: "", maxSharedStrings + 1: "holds more than 4194304 shared texts"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("xl/sharedStrings.xml")
		w.Write([]byte("<sst>"))
		chunk := []byte(strings.Repeat("<si/>", 1024))
		for i := 0; i < n; i += 1024 {
			w.Write(chunk[:5*min(1024, n-i)])
		}
		w.Write([]byte("</sst>"))
		zw.Close()
		zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		err := checkXMLBounds(zr)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%d shared strings: %v, want %q", n, err, want)
		}
	}
}

// FuzzXMLScan: XML the scan passes holds no token a decoder would take
// more than the limit (and a tag's few bytes of markup) to hold.
func FuzzXMLScan(f *testing.F) {
	for _, seed := range []string{`<row r="1"><c><v>1</v></c></row>`, `<a x="b>c">text</a>`, `<!-- <a> --><![CDATA[<x>]]><?p x?>`,
		`<a>` + strings.Repeat("x", 70) + `</a>`, strings.Repeat("0", 131)} {
		f.Add(seed)
	}
	const limit = 64
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := scanWith(text, limit); err != nil {
			return
		}
		d := xml.NewDecoder(strings.NewReader(text))
		d.Strict = false
		last := int64(0)
		for {
			if _, err := d.RawToken(); err != nil {
				return
			}
			if size := d.InputOffset() - last; size > limit+12 {
				t.Fatalf("the scan passed %q, whose token of %d bytes ends at %d", text, size, d.InputOffset())
			}
			last = d.InputOffset()
		}
	})
}
