package importer

import (
	"bufio"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// scanWith scans text as a worksheet's part with tokens bounded to limit.
func scanWith(text string, limit int) (*xmlScan, error) {
	s := &xmlScan{in: bufio.NewReader(strings.NewReader(text)), limit: limit, worksheet: true}
	return s, s.run()
}

// TestXMLScan: each kind of token is bounded, whatever it holds ('>' in a
// quoted attribute value, '<' in a comment or CDATA section); a document
// type declaration is refused; rows and cells are counted with or without
// a namespace prefix, end tags and other elements not.
func TestXMLScan(t *testing.T) {
	const limit = 100
	long := strings.Repeat("a>", 60)
	for text, want := range map[string]error{
		`<row r="1"><c r="A1"><v>1</v></c></row>`:            nil,
		strings.Repeat(" ", 101):                             errTokenTooLong,
		strings.Repeat(" ", 100):                             nil,
		`<row x="` + long + `"/>`:                            errTokenTooLong,
		`<row x='` + long + `'/>`:                            errTokenTooLong,
		`<!--` + strings.Repeat("<b/>", 30) + `-->`:          errTokenTooLong,
		`<!--` + strings.Repeat("<b/>", 20) + `-->`:          nil,
		`<![CDATA[` + strings.Repeat("<b/>", 30) + `]]>`:     errTokenTooLong,
		`<?pi ` + strings.Repeat("<b/>", 30) + `?>`:          errTokenTooLong,
		`<?xml version="1.0"?><!DOCTYPE x []><x/>`:           errDTD,
		`<x:row>` + strings.Repeat("<x:c/>", 5) + `</x:row>`: nil,
		`<t>` + strings.Repeat("长", 33) + `</t>`:             nil,
		`<t>` + strings.Repeat("长", 34) + `</t>`:             errTokenTooLong,
	} {
		if _, err := scanWith(text, limit); !errors.Is(err, want) && err != want {
			t.Errorf("scan of %.60q…: %v, want %v", text, err, want)
		}
	}
	s, _ := scanWith(`<sheetData><x:row r="1"><x:c/><x:c/></x:row><row/><row><c r="A3"/></row><rows/><cell/></sheetData>`, limit)
	if s.rows != 3 || s.cells != 1 {
		t.Errorf("counted %d rows and %d cells in the last, want 3 and 1", s.rows, s.cells)
	}
}

// FuzzXMLScan: XML the scan passes holds no token a decoder would take
// more than the limit (and a tag's few bytes of markup) to hold.
func FuzzXMLScan(f *testing.F) {
	for _, seed := range []string{`<row r="1"><c><v>1</v></c></row>`, `<a x="b>c">text</a>`, `<!-- <a> --><![CDATA[<x>]]><?p x?>`,
		`<a>` + strings.Repeat("x", 70) + `</a>`} {
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
