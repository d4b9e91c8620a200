package importer

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"testing/iotest"
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
