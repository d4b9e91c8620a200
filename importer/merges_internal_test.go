package importer

import (
	"bufio"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestSkipToMergeCellsSkipsCommentsAndCDATA(t *testing.T) {
	// The mergeCells element is found whatever its prefix, after markup
	// that holds the text "<mergeCells" without being the element, and
	// across the reader's buffer.
	const fake = `<mergeCells count="1"><mergeCell ref="Z1:Z9"/></mergeCells>`
	sheet := `<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<!-- ` + fake + ` --><?pi ` + fake + `?><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t><![CDATA[` + fake + `]]]></x:t></x:is></x:c></x:row>` +
		strings.Repeat(`<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c></x:row>`, 2000) +
		`<x:mergeCellsX/></x:sheetData><x:mergeCells count="2"><x:mergeCell ref="C5:C3"/><x:mergeCell ref="B2:D2"/></x:mergeCells></x:worksheet>`
	br := bufio.NewReaderSize(strings.NewReader(sheet), 16)
	found, err := skipToMergeCells(br)
	if !found || err != nil {
		t.Fatalf("found %v, err %v", found, err)
	}
	rest, _ := br.Peek(len("x:mergeCells"))
	if string(rest) != "x:mergeCells" {
		t.Fatalf("stopped at %q", rest)
	}

	br = bufio.NewReader(strings.NewReader(sheet[:strings.Index(sheet, "<x:mergeCells ")]))
	if found, err := skipToMergeCells(br); found || err != nil {
		t.Fatalf("a sheet without merged cells: found %v, err %v", found, err)
	}
}

func TestMergeCellsBeyondTheLimit(t *testing.T) {
	// Ranges beyond the limit are refused whether the element declares
	// them in its count or only holds them; up to it they are read.
	merges := `<mergeCell ref="A2:A3"/><mergeCell ref="B2:B3"/><mergeCell ref="C2:C3"/>`
	for _, tc := range []struct {
		xml  string
		want int // ranges read, -1 for refused
	}{
		{`<mergeCells count="3">` + merges + `</mergeCells>`, 3},
		{`<mergeCells count="4">` + merges + `</mergeCells>`, -1},
		{`<mergeCells count="1">` + merges + `<mergeCell ref="D2:D3"/></mergeCells>`, -1},
		{`<mergeCells>` + merges + `<mergeCell ref="D2:D3"/></mergeCells>`, -1},
	} {
		got, err := decodeMergeCells(xml.NewDecoder(strings.NewReader(tc.xml)), "清单", 3)
		switch {
		case tc.want < 0 && (!errors.Is(err, domain.ErrInvalidArgument) || !strings.Contains(err.Error(), `sheet "清单" merges more than 3 ranges of cells`)):
			t.Errorf("%s: want invalid_argument, got %v", tc.xml, err)
		case tc.want >= 0 && (err != nil || len(got) != tc.want):
			t.Errorf("%s: %d ranges, %v", tc.xml, len(got), err)
		}
	}
}
