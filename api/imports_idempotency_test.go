package api_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/api"
)

// problemCode returns the code of a problem answer, failing unless it has
// the given status.
func problemCode(t *testing.T, r importReply, status int) string {
	t.Helper()
	var p api.Problem
	if r.status != status || json.Unmarshal(r.body, &p) != nil {
		t.Fatalf("want %d, got %d %s", status, r.status, r.body)
	}
	return p.Code
}

func TestImportWithIdempotencyKeyAnswersTheFirstReport(t *testing.T) {
	w := newImportWorld(t)
	data := sampleCSV(t)
	post := func(key string, body []byte) importReply {
		return w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", key, bytes.NewReader(body))
	}
	first := post("batch-7", data)
	a := answer(t, first)
	if a.Imported != 28 || a.Position == 0 || first.header.Get("Ledger-Position") != strconv.FormatInt(a.Position, 10) {
		t.Fatalf("first import %+v, header %q", a, first.header.Get("Ledger-Position"))
	}
	head := w.head(t)

	again := post("batch-7", data)
	if b := answer(t, again); !reflect.DeepEqual(b, a) || again.header.Get("Ledger-Position") != first.header.Get("Ledger-Position") {
		t.Fatalf("repeat answered %+v (header %q), want the first %+v", b, again.header.Get("Ledger-Position"), a)
	}
	// The same file in a multipart form is the same file.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("file", "专利清单.csv")
	part.Write(data)
	mw.Close()
	multi := w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, mw.FormDataContentType(), "batch-7", &form)
	if b := answer(t, multi); !reflect.DeepEqual(b, a) {
		t.Fatalf("the file as multipart answered %+v, want %+v", b, a)
	}
	changed := bytes.Replace(data, []byte("一种高镍三元正极材料的包覆改性方法"), []byte("一种高镍正极材料"), 1)
	if code := problemCode(t, post("batch-7", changed), 422); code != "idempotency_mismatch" {
		t.Fatalf("another file under the key: %s", code)
	}
	if w.head(t) != head {
		t.Fatalf("the repeats wrote: head %d → %d", head, w.head(t))
	}
	// A dry run ignores the key; a new key imports again (nothing new).
	dry := answer(t, w.doKeyed(t, "POST", "/v1/imports/patents?dry_run=true", w.uniKey, "text/csv", "batch-7", bytes.NewReader(changed)))
	if len(dry.Rejected) != 1 || dry.Rejected[0].Code != "conflicts_with_ledger" {
		t.Fatalf("dry run under a used key %+v", dry)
	}
	if b := answer(t, post("batch-8", data)); b.Imported != 0 || b.Unchanged != 28 {
		t.Fatalf("a new key %+v", b)
	}
	if code := problemCode(t, w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.Repeat("k", 201), bytes.NewReader(data)), 400); code != "invalid_argument" {
		t.Fatalf("an overlong key: %s", code)
	}
}

// TestImportWithIdempotencyKeyConcurrently sends the same keyed import four
// times at once: one runs; the others answer its report, or 409 while it
// runs, and write nothing; a repeat afterwards answers its report, and the
// rows are written once. Two different files under one key: one is
// imported, the other refused without writing.
func TestImportWithIdempotencyKeyConcurrently(t *testing.T) {
	w := newImportWorld(t)
	data := sampleCSV(t)
	replies := make([]importReply, 4)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() {
			replies[i] = w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", "same", bytes.NewReader(data))
		})
	}
	wg.Wait()
	first := answer(t, w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", "same", bytes.NewReader(data)))
	if first.Rows != 28 || first.Imported != 28 {
		t.Fatalf("the recorded report %+v, want the 28 rows imported", first)
	}
	for _, r := range replies {
		if r.status == 409 {
			if code := problemCode(t, r, 409); code != "conflict" {
				t.Fatalf("a repeat while the import ran: %s", code)
			}
			continue
		}
		if a := answer(t, r); !reflect.DeepEqual(a, first) {
			t.Fatalf("answers differ: %+v and the recorded %+v", a, first)
		}
	}
	if a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", bytes.NewReader(data))); a.Unchanged != 28 {
		t.Fatalf("the rows were not all written: %+v", a)
	}

	row := func(digits string) []byte {
		return []byte("number,title,patentees,ipc,filed_on,granted_on\nZL" + digits + ",一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10\n")
	}
	files := [][]byte{row("202010123456.2"), row("202010654321.9")}
	for i := range replies[:2] {
		wg.Go(func() {
			replies[i] = w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", "contested", bytes.NewReader(files[i]))
		})
	}
	wg.Wait()
	won := 0
	if replies[1].status == 200 {
		won = 1
	}
	if a := answer(t, replies[won]); a.Imported != 1 {
		t.Fatalf("the winner %+v", a)
	}
	if code := problemCode(t, replies[1-won], 422); code != "idempotency_mismatch" {
		t.Fatalf("the loser: %s", code)
	}
	lost := w.do(t, "GET", "/v1/patents/ZL"+[]string{"202010123456.2", "202010654321.9"}[1-won], "", "", nil)
	if lost.status != 404 {
		t.Fatalf("the refused file's patent was written: %d %s", lost.status, lost.body)
	}
}
