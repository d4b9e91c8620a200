package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/importer"
)

// importFlags are the flags of `ledger import` beyond the shared settings.
type importFlags struct {
	remote
	dryRun bool
	as     string
	json   bool
	// idempotencyKey is sent as the Idempotency-Key header of a --server
	// import.
	idempotencyKey string
}

// runImport imports a CSV or Excel list of patents (and declarations), as
// POST /v1/imports/patents does: into the local data folder, or through a
// running server with --server and --key. It prints a progress bar when
// stdout is a terminal, then the report. It exits 0 when no row was
// rejected, 1 when a row was, and 2 when the import could not run (bad
// flags, an unreadable file, a store or server failure; rows of batches
// written before a failure stay written, and importing the file again
// completes the import).
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	var f importFlags
	fs := cfg.newFlagSet("import", stderr, "data", "store", "store-url")
	fs.BoolVar(&f.dryRun, "dry-run", false, "validate every row against the ledger and write nothing")
	f.addFlags(fs, "import through the server at this URL instead of into the data folder", "the admin's or a patentee's")
	fs.StringVar(&f.as, "as", "", "local import only: act as this organisation ID, which must be a patentee of every row (default: the admin)")
	fs.BoolVar(&f.json, "json", false, "print the report as the JSON the API answers")
	fs.StringVar(&f.idempotencyKey, "idempotency-key", "", "with --server: send this Idempotency-Key, so that running the same import again answers the first report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ledger import FILE [flags]\n\nImports a CSV (UTF-8, GB18030 or UTF-16) or .xlsx list of patents and declarations with the\nimport columns of the README. Exit 0: no row rejected; 1: some rows rejected; 2: the import failed.\n\nflags:")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(files) != 1 {
		if len(files) == 0 {
			fmt.Fprintln(stderr, "ledger import: give the FILE to import")
		}
		if len(files) > 1 {
			fmt.Fprintf(stderr, "ledger import: give one FILE, not %d (%s); import them one after the other\n", len(files), strings.Join(maskSecrets(files), ", "))
		}
		fs.Usage()
		return 2
	}
	if err := errors.Join(f.check(fs), emptyFlags(fs, "as", "idempotency-key")); err != nil {
		fmt.Fprintf(stderr, "ledger import: %v\n", err)
		return 2
	}
	if f.server == "" && f.idempotencyKey != "" {
		fmt.Fprintln(stderr, "ledger import: --idempotency-key is for imports through a server (--server)")
		return 2
	}
	if f.server != "" && f.as != "" {
		fmt.Fprintln(stderr, "ledger import: --as is for local imports; with --server the key says who acts")
		return 2
	}
	if f.server == "" { // through a server, the store settings are not used
		if err := cfg.checkChoices(fs); err != nil {
			fmt.Fprintf(stderr, "ledger import: %v\n", err)
			return 2
		}
	}
	bar := newImportBar(stdout, files[0])
	var answer api.ImportAnswer
	if f.server != "" {
		answer, err = importRemote(ctx, f, files[0], bar)
	} else {
		var rep domain.ImportReport
		rep, err = importLocal(ctx, cfg, f, files[0], bar, stderr)
		answer = api.NewImportAnswer(rep)
	}
	bar.finish()
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(stderr, "ledger import: interrupted; %s\n", interruptedImport(answer, f))
		return 2
	}
	if err != nil {
		if answer.Rows > 0 {
			printImportReport(stdout, answer, f)
		}
		fmt.Fprintf(stderr, "ledger import: %v\n", err)
		return 2
	}
	printImportReport(stdout, answer, f)
	if answer.RejectedRows > 0 {
		return 1
	}
	return 0
}

// interruptedImport says what an import stopped by a signal left: the
// rows written stay written, and running the same import again finishes
// it, those rows counting as unchanged. Locally, answer counts the rows
// whose batches were written (rows read but not yet written are not);
// through a server, no answer came back.
func interruptedImport(answer api.ImportAnswer, f importFlags) string {
	again := "run the same import again to finish it: the rows already imported count as unchanged"
	switch {
	case f.dryRun:
		return "a dry run writes nothing"
	case f.server != "":
		return "the server may have imported the first rows of the file before the upload was cut, and they stay imported; " + again
	case answer.Imported == 0:
		return "no row was imported; " + again
	}
	rows := "rows were"
	if answer.Imported == 1 {
		rows = "row was"
	}
	return fmt.Sprintf("%d %s imported before it (up to position %d), and %d unchanged, %d rejected; the rest of the file was not: %s",
		answer.Imported, rows, answer.Position, answer.Unchanged, answer.RejectedRows, again)
}

// importLocal imports the file into the configured store as the admin, or
// as the organisation of --as. It returns the report so far with the
// error. A note that opening the store raised its schema version goes
// to stderr.
func importLocal(ctx context.Context, cfg config, f importFlags, path string, bar *importBar, stderr io.Writer) (domain.ImportReport, error) {
	file, err := os.Open(path)
	if err != nil {
		return domain.ImportReport{}, err
	}
	defer file.Close()
	if err := checkImportStore(cfg, f.dryRun); err != nil {
		return domain.ImportReport{}, err
	}
	store, err := cfg.openStore(ctx, importStoreMode(f.dryRun)) // a dry run only reads; no import creates a folder or a store
	if err != nil {
		return domain.ImportReport{}, err
	}
	defer store.Close()
	if from, to, raised := schemaUpgraded(store); raised {
		fmt.Fprintf(stderr, "ledger import: %s (from version %d to %d)\n", schemaUpgradeNote, from, to)
	}
	// No snapshot store: an import reads each patent once, and snapshots are
	// only a cache for long streams that `ledger serve` keeps.
	svc, err := domain.NewService(store, domain.ServiceOptions{NewID: newID})
	if err != nil {
		return domain.ImportReport{}, err
	}
	actor := domain.AdminActor
	if f.as != "" {
		actor = domain.OrgActor(f.as)
	}
	var rd *importer.Reader
	im, err := svc.NewImport(ctx, domain.Request{Actor: actor, CorrelationID: newID()},
		domain.ImportOptions{DryRun: f.dryRun, ColumnLabel: func(col string) string { return rd.ColumnLabel(col) }})
	if err != nil {
		return domain.ImportReport{}, err
	}
	if rd, err = importer.NewReader(file); err != nil {
		return domain.ImportReport{}, err
	}
	defer rd.Close()
	if rd.Format() == "xlsx" {
		bar.countRows()
	}
	err = importer.Run(ctx, rd, im, func(rows int, bytesRead int64) { bar.progress(bytesRead, rows) })
	return im.Report(), err
}

// importStoreMode is how a local import opens the store: read-only for a
// dry run, else a store that must exist.
func importStoreMode(dryRun bool) storeMode {
	if dryRun {
		return storeReadOnly
	}
	return storeExisting
}

// checkImportStore refuses a local import into a data folder that holds
// no SQLite event store, as a dry run does, rather than create an empty
// ledger there (a mistyped --data, or the wrong working directory for the
// default ./data) whose every row names an unknown organisation. A folder
// that is there but cannot be written says so first, unless the import is
// a dry run, which writes nothing.
func checkImportStore(cfg config, dryRun bool) error {
	if cfg.store != "sqlite" {
		return nil
	}
	if _, err := os.Stat(cfg.data); err == nil && !dryRun {
		if err := cfg.prepareDataFolder(); err != nil {
			return err
		}
	}
	return cfg.noSQLiteStore()
}

// importRemote sends the file to POST /v1/imports/patents and returns the
// server's report. The progress bar follows the upload, which the server
// imports as it arrives.
func importRemote(ctx context.Context, f importFlags, path string, bar *importBar) (api.ImportAnswer, error) {
	var answer api.ImportAnswer
	file, err := os.Open(path)
	if err != nil {
		return answer, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return answer, err
	}
	br := bufio.NewReader(file)
	contentType := "text/csv"
	if magic, _ := br.Peek(4); bytes.Equal(magic, []byte("PK\x03\x04")) {
		contentType = api.MIMEXLSX
	}
	body := &uploadReader{r: br, onRead: func(n int64) { bar.progress(n, 0) }}
	req, err := f.request(ctx, http.MethodPost, "/v1/imports/patents", body)
	if err != nil {
		return answer, err
	}
	if f.dryRun {
		req.URL.RawQuery = "dry_run=true"
	}
	req.ContentLength = info.Size()
	req.Header.Set("Content-Type", contentType)
	if f.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", f.idempotencyKey)
	}
	err = decodeAnswer(req, 64<<20, &answer, "an import report")
	return answer, err
}

// uploadReader reports how much of the body has been sent.
type uploadReader struct {
	r      io.Reader
	n      int64
	onRead func(n int64)
}

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	u.onRead(u.n)
	return n, err
}

// printImportReport prints the report: as the API's JSON with --json,
// otherwise as lines for people, each problem naming its column as the
// file spells it.
func printImportReport(w io.Writer, a api.ImportAnswer, f importFlags) {
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a)
		return
	}
	rows := "rows"
	if a.Rows == 1 {
		rows = "row"
	}
	fmt.Fprintf(w, "%d %s: %d imported, %d unchanged, %d rejected", a.Rows, rows, a.Imported, a.Unchanged, a.RejectedRows)
	switch {
	case f.dryRun:
		fmt.Fprint(w, " (dry run: nothing written)")
	case a.Position > 0:
		fmt.Fprintf(w, "; position %d", a.Position)
	default:
		fmt.Fprint(w, "; nothing written")
	}
	// A truncated report cut the list, or lists, that reached their limit.
	if a.Truncated && len(a.Rejected) >= domain.MaxListedRejected {
		fmt.Fprintf(w, "; the first %d problems are listed", len(a.Rejected))
	}
	if a.Truncated && len(a.Warnings) >= domain.MaxListedWarnings {
		fmt.Fprintf(w, "; the first %d warnings are listed", len(a.Warnings))
	}
	fmt.Fprintln(w)
	for _, r := range a.Rejected {
		column := r.Field
		if r.Column != "" && r.Column != r.Field {
			column = r.Column + " (" + r.Field + ")"
		}
		fmt.Fprintf(w, "row %d\t%s\t%s\t%s\n", r.Row, column, r.Code, r.Message)
	}
	printWarnings(w, a.Warnings)
}

// printWarnings prints each warning of a report ("row 5: …") once, with
// the rows that have it: the same note about an IPC code is on every row
// that gives the code.
func printWarnings(w io.Writer, warnings []string) {
	var order []string
	rows := map[string][]string{}
	for _, warning := range warnings {
		row, msg, ok := strings.Cut(warning, ": ")
		if !ok {
			row, msg = "", warning
		}
		if _, seen := rows[msg]; !seen {
			order = append(order, msg)
		}
		rows[msg] = append(rows[msg], strings.TrimPrefix(row, "row "))
	}
	for _, msg := range order {
		switch r := rows[msg]; {
		case len(r) == 1 && r[0] == "":
			fmt.Fprintf(w, "warning: %s\n", msg)
		case len(r) == 1:
			fmt.Fprintf(w, "warning: row %s: %s\n", r[0], msg)
		case len(r) <= 5:
			fmt.Fprintf(w, "warning: rows %s: %s\n", strings.Join(r, ", "), msg)
		default:
			fmt.Fprintf(w, "warning: rows %s, … (%d rows): %s\n", strings.Join(r[:5], ", "), len(r), msg)
		}
	}
}

// importBar is the progress bar of an import, drawn only on a terminal:
// by bytes of the file, or by rows for a workbook (whose size says little
// about its rows).
type importBar struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	size  int64
	rows  atomic.Bool
	ended atomic.Bool
}

func newImportBar(stdout io.Writer, path string) *importBar {
	b := &importBar{w: stdout}
	f, ok := stdout.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return b
	}
	if info, err := os.Stat(path); err == nil {
		b.size = info.Size()
	}
	b.bar = progressbar.NewOptions64(b.size, progressbar.OptionSetWriter(stdout),
		progressbar.OptionSetDescription("importing"), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth())
	return b
}

// countRows switches the bar to counting rows.
func (b *importBar) countRows() {
	if b.bar == nil {
		return
	}
	b.rows.Store(true)
	b.bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription("importing rows"), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

// progress moves the bar to bytes read (or rows, when counting rows).
func (b *importBar) progress(bytesRead int64, rows int) {
	if b.bar == nil || b.ended.Load() {
		return
	}
	if b.rows.Load() {
		_ = b.bar.Set64(int64(rows))
		return
	}
	_ = b.bar.Set64(min(bytesRead, b.size))
}

func (b *importBar) finish() {
	if b.bar == nil || b.ended.Swap(true) {
		return
	}
	_ = b.bar.Finish()
	_ = b.bar.Clear()
}

// emptyFlags refuses each of the named flags given on the command line of
// fs with an empty value, which would silently mean the flag's absence: a
// script's --as "$ORG" with the variable unset would act as the admin.
func emptyFlags(fs *flag.FlagSet, names ...string) error {
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(names, f.Name) && f.Value.String() == "" {
			errs = append(errs, fmt.Errorf("--%s is empty: give a value, or leave --%s out", f.Name, f.Name))
		}
	})
	return errors.Join(errs...)
}

// secretFlags are the flags whose values a message never repeats (URLs
// may hold a password).
var secretFlags = []string{"key", "store-url", "admin-key", "server", "nats-url"}

// maskSecrets returns args with the value of every secret flag among them
// ("--key K", "-key=K") replaced by ***: flags given after "--" are taken
// as file names, and the message naming those must not print a key.
func maskSecrets(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(secretFlags, name) {
			continue
		}
		switch {
		case hasValue && value != "":
			out[i] = a[:len(a)-len(value)] + "***"
		case !hasValue && i+1 < len(out):
			out[i+1] = "***"
		}
	}
	return out
}
