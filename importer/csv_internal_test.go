package importer

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/patentledger/ledger/domain"
)

func TestCRLinesAtReadBoundaries(t *testing.T) {
	// Read one byte at a time, every carriage return ends a read: whether a
	// line feed follows is seen in the next one.
	text := "a\rb\r\nc\r\r\nd\r"
	got, err := io.ReadAll(crLines{bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(text)), 16)})
	if want := "a\nb\r\nc\n\r\nd\n"; err != nil || string(got) != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	got, err = io.ReadAll(crLines{bufio.NewReader(strings.NewReader(text))})
	if want := "a\nb\r\nc\n\r\nd\n"; err != nil || string(got) != want {
		t.Fatalf("in one read: got %q, %v; want %q", got, err, want)
	}
}

// panicsWhenDone reads its text, then panics, as a parser failing on a
// file's content would.
type panicsWhenDone struct{ r io.Reader }

func (p panicsWhenDone) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err == io.EOF {
		panic("the parser fell over")
	}
	return n, err
}

func TestNextTurnsAParserPanicIntoAnError(t *testing.T) {
	var text strings.Builder
	text.WriteString("number,title,patentees,ipc,filed_on,granted_on\n")
	for text.Len() < 2*sniffWindow { // past what NewReader reads ahead
		text.WriteString("ZL202010123456.2,一种电池,华南理工大学,H01M 10/0525,2020-03-15,2022-01-10\n")
	}
	rd, err := NewReader(panicsWhenDone{strings.NewReader(text.String())})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	for {
		got, err := rd.Next(100)
		rows += len(got)
		if err == nil {
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || len(de.Fields) != 1 || de.Fields[0].Field != "file" ||
			!strings.Contains(de.Message, "the parser fell over") {
			t.Fatalf("after %d rows: %v; want invalid_argument naming file with the panic", rows, err)
		}
		break
	}
	if rows == 0 {
		t.Fatal("no row was read before the panic")
	}
}
