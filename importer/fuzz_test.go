package importer_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/patentledger/ledger/importer"
)

// FuzzReader throws arbitrary bytes at the reader of patent lists (the
// body of POST /v1/imports/patents): it never panics, it either refuses
// the file or reads rows whose numbers, as a spreadsheet shows them, lie
// below the header and grow.
func FuzzReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("number,title\nZL202010123456.2,\"一种\"\"电池\"\"\n"))
	f.Add([]byte("专利号\t专利名称\t专利权人\n\"unterminated\n"))
	f.Add([]byte("\xef\xbb\xbfnumber,title,patentees,ipc,filed_on,granted_on\n,,,,,\nZL1,x,y,H01M,2020-02-30,x\n"))
	f.Add([]byte("PK\x03\x04 not really a workbook"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := importer.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer rd.Close()
		last := 1 // the header is row 1 or below
		for range 10_000 {
			rows, err := rd.Next(50)
			for _, r := range rows {
				if r.Row <= last {
					t.Fatalf("row %d after row %d", r.Row, last)
				}
				last = r.Row
			}
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
		}
		t.Fatalf("50,000 rows from %d bytes", len(data))
	})
}
