package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
)

// importRoute is the route of imports, which has a body limit of its own.
const importRoute = "/v1/imports/patents"

// Limits of POST /v1/imports/patents. The body is read as a stream, so the
// limit bounds the time an import may take rather than memory; a workbook
// is spooled to a temporary file. The route needs the server-wide body
// limit lifted for it (see Config.BodyLimit), or it is capped there first.
const (
	ImportBodyLimit = 256 << 20
	importDeadline  = 30 * time.Minute
)

// MIMEXLSX is the media type of an Excel workbook.
const MIMEXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// importMediaTypes are the media types a file may be sent as; the format
// is detected from the content (an .xlsx is a ZIP archive).
var importMediaTypes = map[string]bool{
	"text/csv": true, "application/csv": true, "text/plain": true, "text/tab-separated-values": true,
	"application/vnd.ms-excel": true, MIMEXLSX: true, "application/octet-stream": true,
}

// ImportAnswer is the answer of POST /v1/imports/patents (the
// ImportReport of the OpenAPI document). The CLI prints the same.
type ImportAnswer struct {
	Rows      int              `json:"rows"`
	Imported  int              `json:"imported"`
	Unchanged int              `json:"unchanged"`
	Rejected  []ImportRejected `json:"rejected"`
	Position  int64            `json:"position"`
	Warnings  []string         `json:"warnings"`
	// RejectedRows counts every rejected row; Rejected lists their
	// problems, and when Truncated only the first 10,000 of them (or
	// Warnings only its first 1,000).
	RejectedRows int  `json:"rejected_rows"`
	Truncated    bool `json:"truncated"`
}

// ImportRejected is one problem of a rejected row: its column (Field, and
// Column, its header as the file spells it, when the file has it) and the
// error code, or the rule of a rule violation.
type ImportRejected struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NewImportAnswer returns the wire form of a report.
func NewImportAnswer(r domain.ImportReport) ImportAnswer {
	a := ImportAnswer{Rows: r.Rows, Imported: r.Imported, Unchanged: r.Unchanged, Position: r.Position,
		Rejected: make([]ImportRejected, len(r.Rejected)), Warnings: make([]string, len(r.Warnings)),
		RejectedRows: r.RejectedRows, Truncated: r.Truncated}
	for i, x := range r.Rejected {
		a.Rejected[i] = ImportRejected{Row: x.Row, Field: x.Field, Column: x.Column, Code: x.Code, Message: x.Message}
	}
	for i, w := range r.Warnings {
		a.Warnings[i] = fmt.Sprintf("row %d: %s", w.Row, w.Message)
	}
	return a
}

// importPatents imports a CSV or Excel list of patents (and declarations):
// the file as the body, or in the multipart field "file". Without an
// Idempotency-Key (or in a dry run, which writes nothing) the rows are
// read and written chunk by chunk while the body arrives. With a key the
// file is first spooled and hashed: a repeat of the same file answers the
// first report, and another file answers 422 idempotency_mismatch before
// any row is read (domain.Service.ImportOnce).
func (s *Server) importPatents(c echo.Context) error {
	p, err := requireWriter(c)
	if err != nil {
		return err
	}
	done, err := s.imports.start(p)
	if err != nil {
		return err
	}
	defer done()
	req, err := commandRequest(c, p)
	if err != nil {
		return err
	}
	dryRun, err := boolQuery(c, "dry_run")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var rd *importer.Reader
	im, err := s.svc.NewImport(ctx, req, domain.ImportOptions{DryRun: dryRun,
		ColumnLabel: func(col string) string { return rd.ColumnLabel(col) }})
	if err != nil {
		return err
	}
	run := func(file io.Reader) (domain.ImportReport, error) {
		r, err := importer.NewReader(file, importer.TempDir(s.tempDir))
		if err != nil {
			return domain.ImportReport{}, importError(err)
		}
		rd = r
		defer rd.Close()
		if err := importer.Run(ctx, rd, im, nil); err != nil {
			return domain.ImportReport{}, importCut(importError(err), im.Report())
		}
		return im.Report(), nil
	}
	// An import, and the upload of its file, may take longer than the
	// server's request timeouts allow.
	rc := http.NewResponseController(c.Response())
	end := time.Now().Add(importDeadline)
	_ = rc.SetWriteDeadline(end)
	liftReadDeadline(c, rc, end)
	body, release, err := importBody(c, s.tempDir)
	if err != nil {
		return err
	}
	defer release()
	if dryRun || req.IdempotencyKey == "" {
		rep, err := run(body)
		if err != nil {
			return err
		}
		return answerImport(c, rep)
	}
	file, sum, err := spooled(body, s.tempDir)
	if err != nil {
		return importError(err)
	}
	if io.Reader(file) != body {
		defer discard(file) // a file spooled here; importBody's release removes its own
	}
	rep, _, err := s.svc.ImportOnce(ctx, req, sum, func() (domain.ImportReport, error) { return run(file) })
	if err != nil {
		return err
	}
	return answerImport(c, rep)
}

// answerImport answers an import's report, with the Ledger-Position header
// (absent only for an import into an empty ledger that wrote nothing).
func answerImport(c echo.Context, rep domain.ImportReport) error {
	if rep.Position > 0 {
		c.Response().Header().Set("Ledger-Position", strconv.FormatInt(rep.Position, 10))
	}
	return writeJSON(c, http.StatusOK, NewImportAnswer(rep))
}

// spool copies r into a temporary file in dir ("" for the system's
// temporary folder) and returns the file, rewound, and the SHA-256 (hex) of
// what it holds. The caller closes and removes the file (discard).
func spool(r io.Reader, dir string) (*os.File, string, error) {
	f, err := os.CreateTemp(dir, importer.TempFilePrefix+"*")
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	if _, err = io.Copy(io.MultiWriter(f, h), r); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return nil, "", errors.Join(err, discard(f))
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}

// spooled returns the file of body, spooled in dir (see spool), and its
// SHA-256; a body spooled already (a multipart form's file, a chunked body)
// is hashed where it is rather than copied again (importBody's release
// removes it); the caller discards a file spooled here.
func spooled(body io.Reader, dir string) (*os.File, string, error) {
	f, ok := body.(*os.File)
	if !ok {
		return spool(body, dir)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}

// maxImportsAtOnce bounds the imports one organisation, or the admin, runs
// at once: each holds a connection, and a temporary file for a workbook or
// a keyed import, for as long as its upload lasts; the rate limit counts
// requests, not how long they last.
const maxImportsAtOnce = 4

// importSlots counts the imports each organisation runs, by its ID ("" for
// the admin).
type importSlots struct {
	mu      sync.Mutex
	running map[string]int
}

// start counts an import of p's organisation and returns the function
// that ends it; 429 rate_limited with a Retry-After when the organisation
// runs maxImportsAtOnce already.
func (is *importSlots) start(p principal) (done func(), err error) {
	who := p.org.ID
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.running[who] >= maxImportsAtOnce {
		runner := "this organisation"
		if p.admin {
			runner = "the admin"
		}
		return nil, &rateLimitedError{retryAfter: "5",
			detail: fmt.Sprintf("%s runs %d imports at once already; send the next once one has ended", runner, maxImportsAtOnce)}
	}
	is.running[who]++
	return func() {
		is.mu.Lock()
		defer is.mu.Unlock()
		if is.running[who]--; is.running[who] == 0 {
			delete(is.running, who)
		}
	}, nil
}

// liftReadDeadline lets the upload of an import's file go on until end,
// past the server's read timeout, as long as no pause in it outlasts that
// timeout: a client that stops sending is cut as on any other route, not
// held for importDeadline. A server without a read timeout reads the
// upload without one.
func liftReadDeadline(c echo.Context, rc *http.ResponseController, end time.Time) {
	srv, _ := c.Request().Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil || srv.ReadTimeout <= 0 {
		_ = rc.SetReadDeadline(end)
		return
	}
	c.Request().Body = &stallCut{ReadCloser: c.Request().Body, rc: rc, stall: srv.ReadTimeout, end: end}
}

// stallCut reads a request body with a read deadline of stall from each
// read on, until end. The server clears the deadline once the body has
// ended (its watch for a client that goes away reads without one); a read
// that fails leaves it passed, so that the server, which reads what is left
// of a body before it answers, answers at once.
type stallCut struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	end   time.Time
}

func (s *stallCut) Read(p []byte) (int, error) {
	deadline := time.Now().Add(s.stall)
	if deadline.After(s.end) {
		deadline = s.end
	}
	_ = s.rc.SetReadDeadline(deadline)
	return s.ReadCloser.Read(p)
}

// discard closes and removes a spooled file.
func discard(f *os.File) error { return errors.Join(f.Close(), os.Remove(f.Name())) }

// importBody returns the file of an import request, limited to
// ImportBodyLimit: the body itself, or the multipart part named "file"; and
// the function that releases what it holds once the import is done. A
// file it spools goes to tempDir (see spool).
func importBody(c echo.Context, tempDir string) (io.Reader, func(), error) {
	r := c.Request()
	if r.ContentLength > ImportBodyLimit {
		return nil, nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	body := http.MaxBytesReader(c.Response(), r.Body, ImportBodyLimit)
	ct := r.Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case err == nil && mt == "multipart/form-data" && params["boundary"] != "":
		return multipartFile(multipart.NewReader(body, params["boundary"]), tempDir)
	case ct == "" || err == nil && importMediaTypes[mt]:
		return wholeBody(uploadReader{body}, r.ContentLength, tempDir)
	}
	return nil, nil, echo.NewHTTPError(http.StatusUnsupportedMediaType,
		"send the list as text/csv, as "+MIMEXLSX+", or as multipart/form-data with the file in field file")
}

// wholeBody returns the file of an import sent as the body itself. A body
// of unknown length (chunked) is spooled to a temporary file first, as a
// multipart form's file is, so that one over ImportBodyLimit answers 413
// before any row is written, as one whose Content-Length says so does; a
// body of known length is read while it arrives.
func wholeBody(body io.Reader, length int64, tempDir string) (io.Reader, func(), error) {
	if length >= 0 {
		return body, func() {}, nil
	}
	file, _, err := spool(body, tempDir)
	if err != nil {
		return nil, nil, importError(err)
	}
	return file, func() { _ = discard(file) }, nil
}

// multipartFile returns the part named "file" of a multipart form, spooled
// to a temporary file in tempDir, and the function that removes it. The
// whole form is read first, so that a form with two files answers 400
// before a row is written, rather than the second being left unread.
func multipartFile(mr *multipart.Reader, tempDir string) (io.Reader, func(), error) {
	var file *os.File
	release := func() {
		if file != nil {
			_ = discard(file)
		}
	}
	for {
		part, err := mr.NextPart()
		switch {
		case errors.Is(err, io.EOF) && file == nil:
			return nil, nil, domain.Invalid("file", "the multipart form has no field named file")
		case errors.Is(err, io.EOF):
			return file, release, nil
		case err != nil:
			release()
			return nil, nil, importError(fmt.Errorf("%w: %w", errMalformedMultipart, err))
		case part.FormName() != "file":
			continue
		case file != nil:
			release()
			return nil, nil, domain.Invalid("file", "is given more than once in the form; send one file per import")
		}
		if file, _, err = spool(uploadReader{part}, tempDir); err != nil {
			return nil, nil, importError(err)
		}
	}
}

var (
	errMalformedMultipart = errors.New("malformed multipart body")
	errBrokenUpload       = errors.New("the upload ended before the file did")
)

// uploadReader reads the file of an import request and marks a failure to
// read it (the body ends short of its Content-Length, a multipart body
// without its closing boundary) as errBrokenUpload: the client's problem,
// not the server's. A body over the limit keeps its *http.MaxBytesError.
type uploadReader struct{ r io.Reader }

func (u uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	var tooLarge *http.MaxBytesError
	if err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &tooLarge) {
		err = fmt.Errorf("%w (%s); send the file again", errBrokenUpload, readFailure(err))
	}
	return n, err
}

// importError maps an error of reading the file: a body over the limit
// answers 413, a malformed or broken-off body 400; domain errors pass.
func importError(err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, errMalformedMultipart), errors.Is(err, errBrokenUpload):
		return domain.Invalid("file", "%v", err)
	}
	return err
}

// importCut adds to the failure of an import that the store stopped (503:
// a full disk, an outage) how far it got, since no report is answered: the
// rows it wrote stay written, and sending the file again writes the rest.
// Other failures pass as they are.
func importCut(err error, rep domain.ImportReport) error {
	var de *domain.Error
	if rep.DryRun || !errors.Is(err, domain.ErrUnavailable) || !errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%w: %w", domain.Unavailable("%s; the import stopped after %d of the %d rows read had been written: "+
		"send the file again (with the same Idempotency-Key, if it had one) to write the rest, as the rows already written are then unchanged",
		de.Message, rep.Imported, rep.Rows), err)
}

// boolQuery parses a boolean query parameter; absent is false. Given
// without a value ("?dry_run") it is refused rather than taken as false:
// whoever wrote it meant something, most likely true.
func boolQuery(c echo.Context, name string) (bool, error) {
	if !c.QueryParams().Has(name) {
		return false, nil
	}
	switch c.QueryParam(name) {
	case "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, domain.Invalid(name, "must be true or false")
}
