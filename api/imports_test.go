package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/importer/importertest"
)

const importAdminKey = "import-test-admin"

// importWorld is a served ledger with the organisations the sample file
// names, and their keys.
type importWorld struct {
	url                    string
	store                  domain.EventStore
	uniKey, smeKey, regKey string
}

func newImportWorld(t *testing.T) *importWorld { return newImportWorldLimit(t, "") }

// newImportWorldLimit serves with the given server-wide body limit, and
// the HTTP server set up by each of configure. Idle connections are kept a
// minute, as `ledger serve` keeps them two: without an IdleTimeout, Go
// closes them after the ReadTimeout, and a test's short one then cut the
// connections its client reused between requests (a POST on such a
// connection fails with EOF, not retried).
func newImportWorldLimit(t *testing.T, bodyLimit string, configure ...func(*http.Server)) *importWorld {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(api.New(api.Config{Service: svc, Store: st, AdminKey: importAdminKey, Logger: discardLogger(),
		BodyLimit: bodyLimit}).Handler())
	ts.Config.IdleTimeout = time.Minute
	for _, c := range configure {
		c(ts.Config)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	w := &importWorld{url: ts.URL, store: st}
	org := func(name string, kind domain.OrgKind, body string, sme bool) string {
		c, err := domain.CreditCheckChar(body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.RegisterOrg(ctx, domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{Name: name, Kind: kind,
			RegionCode: "440105", CreditCode: domain.CreditCode(body + string(c)), SME: sme})
		if err != nil {
			t.Fatal(err)
		}
		r := w.do(t, "POST", "/v1/orgs/"+res.ID+"/keys", importAdminKey, "", nil)
		var out struct{ Key string }
		if err := json.Unmarshal(r.body, &out); err != nil || out.Key == "" {
			t.Fatalf("key: %s", r.body)
		}
		return out.Key
	}
	w.uniKey = org("中山大学", domain.OrgUniversity, "12100000425006117", false)
	w.smeKey = org("广州星能电池科技有限公司", domain.OrgEnterprise, "91440101MA5CXXXX1", true)
	w.regKey = org("广州市市场监督管理局", domain.OrgRegulator, "11440100MB2C9XXXX", false)
	return w
}

type importReply struct {
	status int
	header http.Header
	body   []byte
}

func (w *importWorld) do(t *testing.T, method, path, key, contentType string, body io.Reader) importReply {
	t.Helper()
	return w.doKeyed(t, method, path, key, contentType, "", body)
}

// doKeyed sends a request with an Idempotency-Key (none when empty).
func (w *importWorld) doKeyed(t *testing.T, method, path, key, contentType, idempotencyKey string, body io.Reader) importReply {
	t.Helper()
	req, err := http.NewRequest(method, w.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return importReply{status: resp.StatusCode, header: resp.Header, body: data}
}

func (w *importWorld) head(t *testing.T) int64 {
	t.Helper()
	h, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Position
}

// answer decodes an import answer and checks it has exactly the fields of
// the OpenAPI document's ImportReport.
func answer(t *testing.T, r importReply) api.ImportAnswer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %d: %s", r.status, r.body)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "imported,position,rejected,rejected_rows,rows,truncated,unchanged,warnings" {
		t.Fatalf("answer fields %v", keys)
	}
	var a api.ImportAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func sampleCSV(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../examples/patents-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestImportSampleFileOverHTTP(t *testing.T) {
	w := newImportWorld(t)
	data := sampleCSV(t)
	before := w.head(t)

	dry := answer(t, w.do(t, "POST", "/v1/imports/patents?dry_run=true", w.uniKey, "text/csv", bytes.NewReader(data)))
	// A dry run writes nothing and answers the head it checked against.
	if dry.Rows != 28 || dry.Imported != 28 || len(dry.Rejected) != 0 || dry.Position != before || w.head(t) != before {
		t.Fatalf("dry run %+v (head %d, before %d)", dry, w.head(t), before)
	}

	r := w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv; charset=utf-8", bytes.NewReader(data))
	a := answer(t, r)
	if a.Rows != 28 || a.Imported != 28 || a.Unchanged != 0 || len(a.Rejected) != 0 {
		t.Fatalf("import %+v", a)
	}
	// 28 registrations and 18 declarations.
	if a.Position != before+46 || r.header.Get("Ledger-Position") != strconv.FormatInt(a.Position, 10) || w.head(t) != a.Position {
		t.Fatalf("position %d, header %q, head %d", a.Position, r.header.Get("Ledger-Position"), w.head(t))
	}
	if len(a.Warnings) != 1 || !strings.HasPrefix(a.Warnings[0], "row 24: IPC code G16H 50/20") {
		t.Fatalf("warnings %q", a.Warnings)
	}
	p := w.do(t, "GET", "/v1/patents/ZL201910345603.8", "", "", nil)
	if p.status != 200 || !strings.Contains(string(p.body), `"royalty_bp":300`) {
		t.Fatalf("imported patent: %d %s", p.status, p.body)
	}

	again := w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", bytes.NewReader(data))
	b := answer(t, again)
	// Nothing new: the answer is the head once the import ended, at or
	// after every row of the file, for a read's min_position.
	if b.Imported != 0 || b.Unchanged != 28 || b.Position != a.Position || again.header.Get("Ledger-Position") != strconv.FormatInt(a.Position, 10) || w.head(t) != a.Position {
		t.Fatalf("import again %+v, head %d", b, w.head(t))
	}

	// A changed title is rejected naming the column; nothing is written.
	changed := strings.Replace(string(data), "一种高镍三元正极材料的包覆改性方法", "一种高镍正极材料", 1)
	c := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.NewReader(changed)))
	if c.Unchanged != 27 || len(c.Rejected) != 1 || c.Rejected[0].Row != 3 || c.Rejected[0].Field != "title" ||
		c.Rejected[0].Code != "conflicts_with_ledger" || w.head(t) != a.Position {
		t.Fatalf("changed row %+v", c)
	}
}

func TestImportBadRowsOverHTTP(t *testing.T) {
	w := newImportWorld(t)
	data := "number,title,patentees,ipc,filed_on,granted_on,fee_mode,lump_sum_fen,term_months,declared_on\n" +
		"ZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,lump_sum,5000000,36,2024-03-01\n" +
		"ZL202010123456.3,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,,,,\n" +
		"ZL202010654321.9,一种芯片,广州星能电池科技有限公司,H01L 21/00,2020-03-15,2022-01-10,,,,\n"
	before := w.head(t)
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.NewReader(data)))
	got := ""
	for _, r := range a.Rejected {
		got += r.Field + ":" + r.Code + " "
	}
	if a.Imported != 1 || got != "number:invalid_argument patentees:forbidden " || a.Rejected[0].Row != 3 || a.Rejected[1].Row != 4 {
		t.Fatalf("answer %+v", a)
	}
	if w.head(t) != before+2 {
		t.Fatalf("head %d, before %d", w.head(t), before)
	}
}

// TestImportTitleWithALineBreak imports a list whose second row has a
// title with a line break inside its quoted cell, and a third row an
// abstract with a right-to-left override: both are rejected naming their
// column, and only the first row is imported.
func TestImportTitleWithALineBreak(t *testing.T) {
	w := newImportWorld(t)
	data := "number,title,patentees,ipc,filed_on,granted_on,abstract\n" +
		"ZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,\"一种电池。\n多行摘要。\"\n" +
		"ZL202010654321.9,\"一种芯片\n及其封装方法\",中山大学,H01L 21/00,2020-03-15,2022-01-10,\n" +
		"ZL202110234567.5,一种传感器,中山大学,H01L 21/00,2021-05-10,2023-02-01,\"一种\u202e传感器\"\n"
	before := w.head(t)
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.NewReader(data)))
	got := ""
	for _, r := range a.Rejected {
		got += fmt.Sprintf("%d:%s:%s:%s\n", r.Row, r.Column, r.Code, r.Message)
	}
	want := "3:title:invalid_argument:must be one line: it contains a line break\n" +
		"4:abstract:invalid_argument:contains U+202E, a bidirectional control character, which is not allowed\n"
	if a.Imported != 1 || got != want {
		t.Fatalf("rejected\n%swant\n%s", got, want)
	}
	if w.head(t) != before+1 {
		t.Fatalf("head %d, before %d: more than the first row was written", w.head(t), before)
	}
}

func TestImportWorkbookAsMultipart(t *testing.T) {
	w := newImportWorld(t)
	book := importertest.Workbook(t, [][]any{
		{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日", "许可费支付方式", "lump_sum_fen", "许可期限(月)", "declared_on"},
		{"ZL202010123456.2", "一种固态锂电池电解质", "中山大学", "H01M 10/0562", time.Date(2020, 3, 15, 0, 0, 0, 0, time.UTC), "2022/1/10", "一次性支付", 5000000, 36, "2024-03-01"},
	})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("note", "专利清单")
	part, _ := mw.CreateFormFile("file", "专利清单.xlsx")
	part.Write(book)
	mw.Close()
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, mw.FormDataContentType(), &body))
	if a.Rows != 1 || a.Imported != 1 || len(a.Rejected) != 0 {
		t.Fatalf("answer %+v", a)
	}
	// The same workbook as the body.
	a = answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, api.MIMEXLSX, bytes.NewReader(book)))
	if a.Unchanged != 1 {
		t.Fatalf("answer %+v", a)
	}
}

// TestImportWorkbookWithMergedCells: a patentee merged over two data rows
// imports both rows; a header merged with the row below it answers 400
// naming the file and the merged cells, and writes nothing.
func TestImportWorkbookWithMergedCells(t *testing.T) {
	w := newImportWorld(t)
	book := func(merge string, rows ...[]any) []byte { return importertest.Workbook(t, rows, merge) }
	header := []any{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日"}
	first := []any{"ZL202010123456.2", "一种固态锂电池电解质", "中山大学", "H01M 10/0562", "2020-03-15", "2022-01-10"}
	second := []any{"ZL202010654321.9", "一种图像分割方法", nil, "G06T 7/00", "2020-03-05", "2022-01-10"}
	before := w.head(t)
	r := w.do(t, "POST", "/v1/imports/patents", w.uniKey, api.MIMEXLSX, bytes.NewReader(book("A1:A2", header, first, second)))
	var p api.Problem
	if r.status != 400 || json.Unmarshal(r.body, &p) != nil || p.Code != "invalid_argument" || len(p.Errors) != 1 ||
		p.Errors[0].Field != "file" || !strings.Contains(p.Errors[0].Message, "(A1:A2)") {
		t.Fatalf("two-row header: %d %s", r.status, r.body)
	}
	if w.head(t) != before {
		t.Fatalf("head moved from %d to %d", before, w.head(t))
	}
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, api.MIMEXLSX, bytes.NewReader(book("C2:C3", header, first, second))))
	if a.Rows != 2 || a.Imported != 2 || len(a.Rejected) != 0 {
		t.Fatalf("answer %+v", a)
	}
}

func TestImportRefusals(t *testing.T) {
	w := newImportWorld(t)
	csv := string(sampleCSV(t))
	problem := func(r importReply, status int, code string) {
		t.Helper()
		var p api.Problem
		if r.status != status || json.Unmarshal(r.body, &p) != nil || p.Code != code || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("want %d %s, got %d %s", status, code, r.status, r.body)
		}
	}
	before := w.head(t)
	problem(w.do(t, "POST", "/v1/imports/patents", "", "text/csv", strings.NewReader(csv)), 401, "unauthenticated")
	problem(w.do(t, "POST", "/v1/imports/patents", w.regKey, "text/csv", strings.NewReader(csv)), 403, "forbidden")
	problem(w.do(t, "POST", "/v1/imports/patents", w.uniKey, "application/json", strings.NewReader(csv)), 415, "unsupported_media_type")
	problem(w.do(t, "POST", "/v1/imports/patents?dry_run=maybe", w.uniKey, "text/csv", strings.NewReader(csv)), 400, "invalid_argument")
	// A mistyped dry run must not import for real.
	problem(w.do(t, "POST", "/v1/imports/patents?dryrun=true", w.uniKey, "text/csv", strings.NewReader(csv)), 400, "invalid_argument")
	problem(w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.NewReader("a,b\n1,2\n")), 400, "invalid_argument")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("other", "x")
	mw.Close()
	problem(w.do(t, "POST", "/v1/imports/patents", w.uniKey, mw.FormDataContentType(), &body), 400, "invalid_argument")
	// An SME's key may import only its own patents: every row is rejected.
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.smeKey, "text/csv", strings.NewReader(csv)))
	if len(a.Rejected) != 26 || a.Imported != 2 { // two rows name the SME as a co-owner
		t.Fatalf("answer %+v", a)
	}
	if w.head(t) != before+2 {
		t.Fatalf("head moved from %d to %d", before, w.head(t))
	}
}

// TestImportAnswersAsDocumented checks a CSV import and its answer against
// the OpenAPI document, as the conformance test does for the other routes.
func TestImportAnswersAsDocumented(t *testing.T) {
	w := newImportWorld(t)
	data := sampleCSV(t)
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }}
	for _, path := range []string{"/v1/imports/patents?dry_run=true", "/v1/imports/patents", "/v1/imports/patents"} {
		req, _ := http.NewRequest("POST", w.url+path, bytes.NewReader(data))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+w.uniKey)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Fatalf("request: %v", err)
		}
		r := w.do(t, "POST", path, w.uniKey, "text/csv", bytes.NewReader(data))
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header,
			Body: io.NopCloser(bytes.NewReader(r.body)), Options: opts}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Fatalf("%s answered %d %s: %v", path, r.status, r.body, err)
		}
	}
}

// TestImportTooLarge sends a request whose Content-Length is over the
// import's limit: it is refused with 413 before anything is read.
func TestImportTooLarge(t *testing.T) {
	w := newImportWorld(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/imports/patents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\nConnection: close\r\n\r\nnumber,title\r\n",
		w.uniKey, api.ImportBodyLimit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"too_large"`) ||
		!strings.Contains(string(body), "the import limit of 256 MiB") {
		t.Fatalf("want 413 too_large naming the limit, got %d %s", resp.StatusCode, body)
	}
}

// slowReader gives its parts one by one, pausing before each.
type slowReader struct {
	parts []string
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p, r.parts[0])
	if r.parts[0] = r.parts[0][n:]; r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	return n, nil
}

// TestSlowUploadsOutlastTheReadTimeout sends an import's file slower than
// the server's read timeout allows a request (serve's is 30 s): with a
// Content-Length, chunked, and in a chunked multipart form. An import
// lifts the deadline before it reads the file, whichever way it comes;
// the chunked ones, spooled before any row is read, failed with "the
// upload ended before the file did".
func TestSlowUploadsOutlastTheReadTimeout(t *testing.T) {
	w := newImportWorldLimit(t, "", func(s *http.Server) { s.ReadTimeout = 300 * time.Millisecond })
	rows := []string{"number,title,patentees,ipc,filed_on,granted_on\n"}
	for i := range 3 {
		digits := fmt.Sprintf("20201%07d", i)
		c, _ := domain.PatentCheckChar(digits)
		rows = append(rows, fmt.Sprintf("ZL%s.%c,一种储能电池管理系统%d,中山大学,H01M 10/42,2020-03-15,2022-01-10\n", digits, c, i))
	}
	file := strings.Join(rows, "")
	const boundary = "XX"
	form := []string{"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\n\r\n"}
	form = append(append(form, rows...), "\r\n--"+boundary+"--\r\n")
	for _, c := range []struct {
		name, contentType string
		parts             []string
		length            int64
	}{
		{"with a length", "text/csv", rows, int64(len(file))},
		{"chunked", "text/csv", rows, -1},
		{"a chunked form", "multipart/form-data; boundary=" + boundary, form, -1},
	} {
		req, err := http.NewRequest("POST", w.url+"/v1/imports/patents?dry_run=true", &slowReader{parts: slices.Clone(c.parts), pause: 150 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = c.length
		req.Header.Set("Authorization", "Bearer "+w.uniKey)
		req.Header.Set("Content-Type", c.contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if a := answer(t, importReply{status: resp.StatusCode, header: resp.Header, body: body}); a.Rows != 3 || a.Imported != 3 {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
}

// TestImportChunkedTooLargeWritesNothing sends, without a Content-Length
// (chunked), valid rows and then blank lines past the import's limit: 413,
// and not one of the rows read before the limit is written.
func TestImportChunkedTooLargeWritesNothing(t *testing.T) {
	w := newImportWorld(t)
	before := w.head(t)
	var rows strings.Builder
	rows.WriteString("number,title,patentees,ipc,filed_on,granted_on\n")
	for i := range 1200 { // more than a batch of rows
		digits := fmt.Sprintf("20201%07d", i)
		c, _ := domain.PatentCheckChar(digits)
		fmt.Fprintf(&rows, "ZL%s.%c,一种储能电池管理系统%d,中山大学,H01M 10/42,2020-03-15,2022-01-10\n", digits, c, i)
	}
	blank := strings.Repeat("\n", 1<<20)
	var parts []io.Reader
	parts = append(parts, strings.NewReader(rows.String()))
	for range api.ImportBodyLimit>>20 + 1 {
		parts = append(parts, strings.NewReader(blank))
	}
	body := struct{ io.Reader }{io.MultiReader(parts...)} // no Len: sent chunked
	r := w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", body)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), `"code":"too_large"`) {
		t.Fatalf("want 413 too_large, got %d %s", r.status, r.body)
	}
	if after := w.head(t); after != before {
		t.Errorf("the log moved from %d to %d: rows before the limit were written", before, after)
	}
}

// TestImportLargeBody streams a file of several megabytes through the
// route (with the server-wide body limit lifted, as serve must for it).
func TestImportLargeBody(t *testing.T) {
	w := newImportWorldLimit(t, "1M") // the server-wide limit; the import route has its own
	var b strings.Builder
	b.WriteString("number,title,patentees,ipc,filed_on,granted_on,abstract\n")
	abstract := strings.Repeat("本发明公开了一种储能电池管理系统。", 10)
	const rows = 6000
	for i := range rows {
		digits := fmt.Sprintf("20201%07d", i)
		c, _ := domain.PatentCheckChar(digits)
		fmt.Fprintf(&b, "ZL%s.%c,一种储能电池管理系统%d,中山大学,H01M 10/42,2020-03-15,2022-01-10,%s\n", digits, c, i, abstract)
	}
	if b.Len() < 3<<20 {
		t.Fatalf("the file is only %d bytes", b.Len())
	}
	a := answer(t, w.do(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", strings.NewReader(b.String())))
	if a.Rows != rows || a.Imported != rows || len(a.Rejected) != 0 {
		t.Fatalf("answer rows %d imported %d rejected %d", a.Rows, a.Imported, len(a.Rejected))
	}
}

// TestImportBrokenUpload sends uploads that end before the file does: a
// multipart body without its closing boundary (a CSV and a workbook) and a
// body shorter than its Content-Length. Each is the client's problem, 400
// naming the file, and writes nothing.
func TestImportBrokenUpload(t *testing.T) {
	w := newImportWorld(t)
	before := w.head(t)
	csv := "number,title,patentees,ipc,filed_on,granted_on\nZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10\n"
	cut := func(file string) string {
		return "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list\"\r\n\r\n" + file
	}
	book := importertest.Workbook(t, [][]any{{"number", "title"}})
	for name, body := range map[string]string{"csv": cut(csv), "xlsx": cut(string(book))} {
		r := w.do(t, "POST", "/v1/imports/patents", w.uniKey, "multipart/form-data; boundary=XX", strings.NewReader(body))
		var p api.Problem
		if r.status != http.StatusBadRequest || json.Unmarshal(r.body, &p) != nil || p.Code != "invalid_argument" ||
			len(p.Errors) != 1 || p.Errors[0].Field != "file" {
			t.Errorf("%s cut off: %d %s", name, r.status, r.body)
		}
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(w.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/imports/patents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s",
		w.uniKey, len(csv)+100, csv)
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"file"`) {
		t.Errorf("short body: %d %s", resp.StatusCode, body)
	}
	if w.head(t) != before {
		t.Fatalf("head moved from %d to %d", before, w.head(t))
	}
}

// TestImportNamesIgnoredColumns imports a list with columns the import does
// not know: their data is not imported, and the report says so on the
// header's row rather than dropping it silently (a misspelt 摘要).
func TestImportNamesIgnoredColumns(t *testing.T) {
	w := newImportWorld(t)
	data := "2024年专利清单\n序号,专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日,专利摘要,发明人\n" +
		"1,ZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10,一种固态电池。,张三\n"
	a := answer(t, w.do(t, "POST", "/v1/imports/patents?dry_run=true", w.uniKey, "text/csv", strings.NewReader(data)))
	want := `row 2: the columns "序号", "专利摘要", "发明人" are not imported`
	if a.Imported != 1 || len(a.Warnings) != 1 || !strings.HasPrefix(a.Warnings[0], want) {
		t.Fatalf("answer %+v, want the warning %q", a, want)
	}
}

// TestImportRefusesTwoFiles sends a multipart form with two parts named
// file: 400 naming the file and nothing written, where the second file used
// to be left unread while the first was imported.
func TestImportRefusesTwoFiles(t *testing.T) {
	w := newImportWorld(t)
	before := w.head(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, name := range []string{"first.csv", "second.csv"} {
		part, _ := mw.CreateFormFile("file", name)
		part.Write(sampleCSV(t))
	}
	mw.Close()
	r := w.do(t, "POST", "/v1/imports/patents", w.uniKey, mw.FormDataContentType(), &body)
	var p api.Problem
	if r.status != http.StatusBadRequest || json.Unmarshal(r.body, &p) != nil || p.Code != "invalid_argument" ||
		len(p.Errors) != 1 || p.Errors[0].Field != "file" || !strings.Contains(p.Errors[0].Message, "more than once") {
		t.Fatalf("two files: %d %s", r.status, r.body)
	}
	if w.head(t) != before {
		t.Fatalf("head moved from %d to %d", before, w.head(t))
	}
}

// partialRequest opens a request to path with a Content-Length of 1,000
// bytes but sends only the first few of them, and returns its connection,
// closed when the test ends.
func partialRequest(t *testing.T, base, path, key, contentType string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\nnumber,tit", path, key, contentType)
	return conn
}

// stalledRequest sends a partialRequest, then waits for the answer for up
// to 10 s, and returns it whole (status line, headers and body).
func stalledRequest(t *testing.T, base, path, key, contentType string) string {
	t.Helper()
	conn := partialRequest(t, base, path, key, contentType)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(conn)
	return string(got)
}

// TestStalledUploadsAreCut: an import's upload had 30 minutes from its
// start, however long it stalled, so any organisation's key could hold
// connections open while sending nothing; and a stalled body on any route
// was answered with the Go error, naming the server's socket addresses.
// Now an upload that stops for the server's read timeout is cut, and the
// answer says why without addresses.
func TestStalledUploadsAreCut(t *testing.T) {
	w := newImportWorldLimit(t, "", func(s *http.Server) { s.ReadTimeout = 300 * time.Millisecond })
	for _, c := range []struct{ path, contentType string }{
		{"/v1/imports/patents", "text/csv"},
		{"/v1/patents", "application/json"},
	} {
		start := time.Now()
		got := stalledRequest(t, w.url, c.path, w.uniKey, c.contentType)
		if !strings.HasPrefix(got, "HTTP/1.1 400 ") || !strings.Contains(got, "stopped arriving") || strings.Contains(got, "127.0.0.1") {
			t.Fatalf("%s, stalled: %q after %v; want 400 saying the body stopped arriving, naming no address", c.path, got, time.Since(start))
		}
	}
}

// TestImportOutlastsTheReadTimeoutOnceUploaded: once an import's file has
// arrived, the import may take longer than the server's read timeout; the
// server's watch for a client that goes away must not cancel it then.
func TestImportOutlastsTheReadTimeoutOnceUploaded(t *testing.T) {
	w := newImportWorldLimit(t, "", func(s *http.Server) { s.ReadTimeout = 20 * time.Millisecond })
	var b strings.Builder
	b.WriteString("number,title,patentees,ipc,filed_on,granted_on\n")
	const rows = 2_000
	for i := range rows {
		digits := fmt.Sprintf("20201%07d", i)
		c, _ := domain.PatentCheckChar(digits)
		fmt.Fprintf(&b, "ZL%s.%c,一种储能电池管理系统%d,中山大学,H01M 10/42,2020-03-15,2022-01-10\n", digits, c, i)
	}
	start := time.Now()
	// Under an Idempotency-Key the file is spooled whole before its first
	// row is read: the import runs entirely after the upload.
	a := answer(t, w.doKeyed(t, "POST", "/v1/imports/patents", w.uniKey, "text/csv", "outlast", strings.NewReader(b.String())))
	if a.Rows != rows || a.Imported != rows {
		t.Fatalf("import of %d rows in %v: %+v", rows, time.Since(start), a)
	}
	t.Logf("%d rows imported in %v", rows, time.Since(start))
}

// answered reports whether the server has answered on conn, or closed it,
// and closes it then.
func answered(conn net.Conn) bool {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	var b [1]byte
	_, err := conn.Read(b[:])
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	conn.Close()
	return true
}

// TestImportsAtOnceAreBoundedPerOrganisation: the rate limit counts
// requests, not how long they last, so one key could hold any number of
// imports open, each with its connection and upload. Now an organisation
// runs maxImportsAtOnce imports at once; the next answers 429 with a
// Retry-After until one ends, while other organisations import as before.
func TestImportsAtOnceAreBoundedPerOrganisation(t *testing.T) {
	w := newImportWorldLimit(t, "", func(s *http.Server) { s.ReadTimeout = time.Minute })
	const file = "number,title,patentees,ipc,filed_on,granted_on\nZL202010123456.2,一种电池,中山大学,H01M 10/42,2020-03-15,2022-01-10\n"
	tryImport := func(key string) importReply {
		return w.do(t, "POST", "/v1/imports/patents?dry_run=true", key, "text/csv", strings.NewReader(file))
	}
	// Four held imports, and a fifth once they run. A held one that the
	// server reached after a fifth was answered 429 in its place: it is
	// replaced, and the fifth tried again.
	var held []net.Conn
	deadline := time.Now().Add(10 * time.Second)
	var r importReply
	for {
		held = slices.DeleteFunc(held, answered)
		for len(held) < 4 {
			held = append(held, partialRequest(t, w.url, "/v1/imports/patents", w.uniKey, "text/csv"))
		}
		time.Sleep(100 * time.Millisecond)
		if r = tryImport(w.uniKey); r.status == http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "5" || !strings.Contains(string(r.body), "4 imports at once") {
		t.Fatalf("a fifth import while four run: %d (Retry-After %q) %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if other := tryImport(w.smeKey); other.status != http.StatusOK {
		t.Fatalf("another organisation's import meanwhile: %d %s", other.status, other.body)
	}
	for _, conn := range held {
		conn.Close()
	}
	for r = tryImport(w.uniKey); r.status != http.StatusOK && time.Now().Before(deadline); r = tryImport(w.uniKey) {
		time.Sleep(20 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		t.Fatalf("an import once the others ended: %d %s", r.status, r.body)
	}
}
