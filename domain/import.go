package domain

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// The columns of a patent list (CONTRACT.md, POST /v1/imports/patents). An
// import report names the offending column of a rejected row with these
// names, whatever language the file's headers are in.
const (
	ColNumber              = "number"
	ColTitle               = "title"
	ColPatentees           = "patentees"
	ColIPC                 = "ipc"
	ColLocarno             = "locarno"
	ColFiledOn             = "filed_on"
	ColGrantedOn           = "granted_on"
	ColAbstract            = "abstract"
	ColFeeMode             = "fee_mode"
	ColLumpSumFen          = "lump_sum_fen"
	ColInstalmentFen       = "instalment_fen"
	ColInstalments         = "instalments"
	ColEntryFeeFen         = "entry_fee_fen"
	ColRoyaltyBP           = "royalty_bp"
	ColRoyaltyBase         = "royalty_base"
	ColTermMonths          = "term_months"
	ColDeclaredOn          = "declared_on"
	ColEvaluationReportRef = "evaluation_report_ref"
	ColCoOwnerConsent      = "co_owner_consent"
	ColOtherTerms          = "other_terms"
	// ColRow stands for the row as a whole: a row that could not be read
	// (a malformed CSV line) has its problem under ColRow.
	ColRow = "row"
)

// Codes an import report gives rejected rows beside the error codes of the
// contract (invalid_argument, not_found, forbidden) and the rules.
const (
	// CodeConflictsWithLedger: the patent is registered with other values
	// in the column named; an import never overwrites the ledger.
	CodeConflictsWithLedger Code = "conflicts_with_ledger"
	// CodeDuplicateRow: an earlier row of the same file has the same patent
	// with other values, or was itself rejected.
	CodeDuplicateRow Code = "duplicate_row"
	// CodeAmbiguousName: more than one organisation has the name given.
	CodeAmbiguousName Code = "ambiguous_name"
)

// Import limits: rows per store append, and an estimate of the bytes of one
// append (EventStoreDB refuses an append over 1 MiB by default, and a batch
// of 500 rows with long abstracts would exceed it).
const (
	DefaultImportBatch  = 500
	maxImportBatchBytes = 512 << 10
)

// The lengths of a report's lists: a Truncated report cut the list that is
// this long.
const (
	// MaxListedRejected is how many rejections a report lists at most (it
	// counts every rejected row).
	MaxListedRejected = 10_000
	// MaxListedWarnings is how many warnings a report lists at most.
	MaxListedWarnings = 1_000
)

// ImportRow is one row of a patent list: a registration and, optionally, an
// open-licence declaration of the patent.
type ImportRow struct {
	// Row is the row number as a spreadsheet program shows it: the first
	// line of a CSV file or the first row of a sheet is 1 (the header,
	// unless title lines come above it); blank rows count.
	Row int
	// Patent registers the patent. Its PatenteeIDs hold organisation IDs or
	// exact organisation names; the import resolves the names.
	Patent RegisterPatent
	// Declaration, when not nil, declares the patent open for licensing.
	// Its CoOwnerConsent, like PatenteeIDs, holds IDs or names.
	Declaration *FileDeclaration
	// Problems are what the reader of the file could not make sense of (a
	// malformed date or amount), each naming its column (Col…). A row with
	// problems is rejected with them and with whatever else is wrong.
	Problems []FieldError
	// Continued are the list items (a co-owner, an IPC code, a consent)
	// that rows continuing this patent's row gave: a problem with one of
	// them names the row that holds it.
	Continued []ContinuedItem
}

// ContinuedItem is a list item given on a row that continues a patent laid
// over several rows.
type ContinuedItem struct {
	Column, Item string
	Row          int
}

// onContinuedRow prefixes the message of each rejection of a list column
// that quotes an item given on a row continuing the patent with that row,
// which the rejection's own row number does not name.
func onContinuedRow(list []ImportRejection, continued []ContinuedItem) {
	for i, r := range list {
		column, _, _ := strings.Cut(r.Field, "[") // ipc[1] is the ipc column
		for _, c := range continued {
			if c.Column == column && strings.Contains(r.Message, Quote(c.Item)) {
				list[i].Message = fmt.Sprintf("row %d, which continues this patent: %s", c.Row, r.Message)
				break
			}
		}
	}
}

// ImportRejection says why a row was rejected. A row may have several.
type ImportRejection struct {
	Row int `json:"row"`
	// Field is the column (Col…) at fault.
	Field string `json:"field"`
	// Column is the column's header as the file spells it, when known.
	Column string `json:"column,omitempty"`
	// Code is the rule of a rule violation (DOMAIN.md, e.g.
	// term_exceeds_patent), else an error code of the contract
	// (invalid_argument, not_found, forbidden) or of the import
	// (conflicts_with_ledger, duplicate_row, ambiguous_name).
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportWarning is a soft-limit note about an imported row (an IPC code
// outside the reference list, a fee above the guidance), or a note about
// the file on its header row (columns not imported).
type ImportWarning struct {
	Row     int    `json:"row"`
	Message string `json:"message"`
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	// Rows counts the non-empty rows read, a patent laid over several rows
	// once (see importer's continuation rows).
	Rows int `json:"rows"`
	// Imported counts rows that wrote something (or, in a dry run, would).
	Imported int `json:"imported"`
	// Unchanged counts rows the ledger already holds as given.
	Unchanged int `json:"unchanged"`
	// RejectedRows counts rows that wrote nothing because of a problem.
	RejectedRows int `json:"rejected_rows"`
	// Rejected lists the problems of the rejected rows, by row; at most
	// 10,000 are listed (Truncated then says so).
	Rejected []ImportRejection `json:"rejected"`
	// Warnings lists soft-limit notes of imported rows; at most 1,000.
	Warnings []ImportWarning `json:"warnings"`
	// Position is the global position of the last event written; when a
	// row was unchanged or nothing was written, the head of the log once
	// the import ended (see Import.Flush).
	Position int64 `json:"position"`
	// DryRun is set when nothing was written by design.
	DryRun bool `json:"dry_run"`
	// Truncated is set when Rejected or Warnings do not list everything.
	Truncated bool `json:"truncated"`
}

// OrgNames finds organisations by name for an import.
type OrgNames interface {
	// OrgsNamed returns the IDs of the organisations whose name equals name
	// once both are folded with FoldOrgName; none when there is none. It is
	// safe for concurrent use.
	OrgsNamed(ctx context.Context, name string) ([]string, error)
}

// ImportOptions configure an import.
type ImportOptions struct {
	// DryRun validates every row against the ledger and writes nothing.
	DryRun bool
	// BatchRows is the most rows written in one atomic append;
	// DefaultImportBatch when zero. A batch of long texts is cut earlier,
	// at about 512 KiB of events.
	BatchRows int
	// Names resolves organisation names; when nil the import uses the
	// service's organisation index (Service.Orgs).
	Names OrgNames
	// ColumnLabel returns a column's header as the file spells it, for
	// ImportRejection.Column; nil leaves Column empty.
	ColumnLabel func(field string) string
}

// Import is a patent-list import in progress: rows are added chunk by
// chunk (Add), validated and written in atomic batches, and the report
// grows as batches settle; Flush ends the import (Abandon, when the input
// failed). An Import is not safe for concurrent use, and the context given
// to Add must stay alive until Flush returns: batches are written in the
// background meanwhile.
//
// The idempotency key of the request is not used: importing the same rows
// again is idempotent by content (they come out unchanged), and the events
// of each batch get fresh IDs.
type Import struct {
	svc   *Service
	req   Request
	opts  ImportOptions
	names OrgNames
	refs  map[string]resolvedRef
	// givenNames maps the ID of each organisation the file named by name
	// to the name it first gave, for the report's messages; namer writes
	// them in, built again when givenNames has grown.
	givenNames map[string]string
	namer      *strings.Replacer
	namerSize  int
	seen       map[uint64]seenRow
	report     ImportReport
	batch      []*importItem // rows of the next batch
	// batchBytes estimates the bytes of the next batch's events (see
	// importItem.size).
	batchBytes int
	waiting    []waitingRow // repeats of patents not yet settled
	flights    []*flight    // the batches being written, oldest first
	err        error        // the first failure; the import stops
	// sawExisting is set when the last batch written found registered
	// patents: the next one then reads its patents' states first.
	sawExisting atomic.Bool
}

// resolvedRef is an organisation reference resolved once per import: an ID,
// or the rejection it earns.
type resolvedRef struct {
	id      string
	code    Code
	message string
}

// seenRow remembers the first row of each patent in an import.
type seenRow struct {
	row   int
	fp    uint64
	state rowState
}

type rowState uint8

const (
	rowPending rowState = iota
	rowAccepted
	rowRejected
	rowFailed // its batch could not be written
)

// NewImport starts an import by the request's actor: the admin, or an
// organisation that must be a patentee of every row. It fails with
// ErrForbidden for a regulator or an unknown organisation.
func (s *Service) NewImport(ctx context.Context, req Request, opts ImportOptions) (*Import, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return nil, err
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultImportBatch
	}
	req.IdempotencyKey = ""
	im := &Import{svc: s, req: req, opts: opts, names: opts.Names,
		refs: map[string]resolvedRef{}, seen: map[uint64]seenRow{}}
	im.report.DryRun = opts.DryRun
	return im, nil
}

// ImportPatents imports rows in one go; see Import for the semantics.
func (s *Service) ImportPatents(ctx context.Context, req Request, rows []ImportRow, opts ImportOptions) (ImportReport, error) {
	im, err := s.NewImport(ctx, req, opts)
	if err != nil {
		return ImportReport{}, err
	}
	if err := im.Add(ctx, rows); err != nil {
		im.Abandon()
		return im.Report(), err
	}
	err = im.Flush(ctx)
	return im.Report(), err
}

// Add validates rows and writes the valid ones in atomic batches of
// BatchRows rows (fewer when their texts are long: about 512 KiB of events
// at most): one store append over the streams of every patent of the
// batch, with their expected versions, decided again on states read afresh
// when a concurrent write wins. Each row is decided on its patent's current
// state: a new patent is registered (and declared); a registered one must
// match the row in every registration column, or the row is rejected with
// conflicts_with_ledger naming the column; a declaration whose terms the
// patent already has is not filed again. A rejected row writes nothing; a
// row that writes nothing else is unchanged.
//
// One batch is written while the next is built: Add may return with a
// batch in flight and rows waiting for the next one; Flush writes them and
// waits. Add returns an error only when the import cannot go on (the store
// fails, ctx ends); rows of batches already written stay written, and
// importing the same rows again then completes the import.
func (im *Import) Add(ctx context.Context, rows []ImportRow) error {
	if im.err != nil {
		return im.err
	}
	for i := range rows {
		it, wait, err := im.prepare(ctx, &rows[i])
		if err != nil {
			im.err = err
			return err
		}
		if wait != nil {
			im.waiting = append(im.waiting, *wait)
		}
		if it == nil {
			continue
		}
		im.batch, im.batchBytes = append(im.batch, it), im.batchBytes+it.size()
		if len(im.batch) >= im.opts.BatchRows || im.batchBytes >= maxImportBatchBytes {
			if err := im.launch(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes the rows Add left waiting and waits for every batch; then
// Report covers every row added. When a row was already in the ledger
// (unchanged), or nothing was written (a dry run, a file of rejected
// rows), the report's position becomes the head of the log once the import
// ended: at or after every event the import read, so that a read with that
// min_position shows every row of the file as the import found it. It
// returns the first error of the import.
func (im *Import) Flush(ctx context.Context) error {
	if im.err == nil && (len(im.batch) > 0 || len(im.waiting) > 0) {
		if err := im.launch(ctx); err != nil {
			return err
		}
	}
	if err := im.settleAll(); err != nil || (im.report.Unchanged == 0 && im.report.Position > 0) {
		return err
	}
	head, err := im.svc.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("import: read the head of the log: %w", err)
	}
	im.report.Position = max(im.report.Position, head.Position)
	return nil
}

// Abandon waits for the batches in flight and drops the rows waiting for
// the next one, for an import whose input failed. It returns the first
// error of the import.
func (im *Import) Abandon() error {
	im.batch, im.waiting = nil, nil
	return im.settleAll()
}

// maxInFlight is how many batches are decided and written at once: while
// the store appends one batch, the next reads its patents' states. Their
// patents differ (a repeat of a patent waits for its first row's batch).
const maxInFlight = 2

// flight is a batch being decided and written.
type flight struct {
	batch   []*importItem
	waiting []waitingRow
	done    chan struct{}
	pos     int64
	err     error
}

// launch starts writing the batch built, once fewer than maxInFlight are
// in flight (settling the oldest first).
func (im *Import) launch(ctx context.Context) error {
	if len(im.flights) >= maxInFlight {
		if err := im.settle(); err != nil {
			return err
		}
	}
	if im.err != nil {
		return im.err
	}
	f := &flight{batch: im.batch, waiting: im.waiting, done: make(chan struct{})}
	im.batch, im.batchBytes, im.waiting = make([]*importItem, 0, im.opts.BatchRows), 0, nil
	im.flights = append(im.flights, f)
	go func() {
		defer close(f.done)
		if len(f.batch) > 0 {
			f.pos, f.err = im.writeBatch(ctx, f.batch)
		}
	}()
	return nil
}

// settleAll settles every batch in flight.
func (im *Import) settleAll() error {
	for len(im.flights) > 0 {
		im.settle()
	}
	return im.err
}

// settle waits for the oldest batch in flight, if any, and records its
// outcome; batches settle in the order they were launched, so a waiting
// repeat always finds its first row settled.
func (im *Import) settle() error {
	if len(im.flights) == 0 {
		return im.err
	}
	f := im.flights[0]
	<-f.done
	im.flights = im.flights[1:]
	if f.err != nil {
		// The batch wrote nothing; its rows and their repeats are in no
		// count of the report. Batches after it may have been written.
		if im.err == nil {
			im.err = f.err
		}
		for _, it := range f.batch {
			s := im.seen[it.key]
			s.state = rowFailed
			im.seen[it.key] = s
		}
		return im.err
	}
	im.report.Position = max(im.report.Position, f.pos)
	for _, it := range f.batch {
		s := im.seen[it.key]
		if it.err != nil {
			s.state = rowRejected
			im.reject(rejectionsOf(it.row, it.err))
		} else {
			s.state = rowAccepted
			if len(it.events) > 0 {
				im.report.Imported++
				im.warn(it.row, warningsOf(it.events))
			} else {
				im.report.Unchanged++
			}
		}
		im.seen[it.key] = s
	}
	for _, w := range f.waiting {
		im.settleRepeat(w.row, w.fp, im.seen[w.key])
	}
	return im.err
}

// Report returns the report of the rows settled so far (every row added,
// after Flush), its lists in row order.
func (im *Import) Report() ImportReport {
	r := im.report
	r.Rejected = slices.Clone(r.Rejected)
	r.Warnings = slices.Clone(r.Warnings)
	sort.SliceStable(r.Rejected, func(i, j int) bool { return r.Rejected[i].Row < r.Rejected[j].Row })
	sort.SliceStable(r.Warnings, func(i, j int) bool { return r.Warnings[i].Row < r.Warnings[j].Row })
	if r.Rejected == nil {
		r.Rejected = []ImportRejection{}
	}
	if r.Warnings == nil {
		r.Warnings = []ImportWarning{}
	}
	return r
}

// importItem is a row that passed every check that does not depend on the
// patent's state, waiting to be decided in a batch.
type importItem struct {
	row  int
	cmd  RegisterPatent // patentees resolved to IDs
	reg  PatentRegistered
	decl *FileDeclaration
	key  uint64
	fp   uint64
	// Set by the last decision of the batch.
	events []Event
	err    error
}

// size estimates the bytes the row's events take in a store append: its
// texts, and 2 KB for the rest of its registration and declaration and
// their metadata.
func (it *importItem) size() int {
	n := 2048 + len(it.reg.Title) + len(it.reg.Abstract)
	if it.decl != nil {
		n += len(it.decl.OtherTerms)
	}
	return n
}

// waitingRow is a row repeating a patent of a batch not yet settled; its
// outcome follows from that row's.
type waitingRow struct {
	row int
	key uint64
	fp  uint64
}

// rowProblems collects the rejections of one row, at most one message per
// column for the problems the reader already found.
type rowProblems struct {
	row  int
	list []ImportRejection
	bad  map[string]bool
}

func (p *rowProblems) add(field string, code Code, msg string) {
	p.addRejection(ImportRejection{Row: p.row, Field: field, Code: string(code), Message: msg})
}

func (p *rowProblems) addRejection(r ImportRejection) {
	if p.bad == nil {
		p.bad = map[string]bool{}
	}
	p.bad[r.Field] = true
	p.list = append(p.list, r)
}

// addErr adds the problems of a domain error, skipping columns that already
// have one from the reader or the resolution of names.
func (p *rowProblems) addErr(err error, skipBad bool) {
	if err == nil {
		return
	}
	var before map[string]bool
	if skipBad {
		before = maps.Clone(p.bad)
	}
	for _, r := range rejectionsOf(p.row, err) {
		if before[r.Field] {
			continue
		}
		p.addRejection(r)
	}
}

// prepare runs the checks of a row that need no patent state: what the
// reader found, the organisations named, the command's own validation and
// the acting party. It returns the item to decide, or a waiting row when
// the patent repeats one of a batch not yet settled, or neither when the row
// is settled (rejected, or a repeat of an earlier batch's row).
func (im *Import) prepare(ctx context.Context, r *ImportRow) (*importItem, *waitingRow, error) {
	im.report.Rows++
	probs := rowProblems{row: r.Row}
	for _, p := range r.Problems {
		probs.add(p.Field, CodeInvalidArgument, p.Message)
	}
	if probs.bad[ColRow] {
		im.reject(probs.list)
		return nil, nil, nil
	}
	cmd := r.Patent
	var err error
	if cmd.PatenteeIDs, err = im.resolveAll(ctx, ColPatentees, cmd.PatenteeIDs, &probs); err != nil {
		return nil, nil, err
	}
	var decl *FileDeclaration
	if r.Declaration != nil {
		c := *r.Declaration
		if c.CoOwnerConsent, err = im.resolveAll(ctx, ColCoOwnerConsent, c.CoOwnerConsent, &probs); err != nil {
			return nil, nil, err
		}
		decl = &c
	}
	reg, perr := cmd.Parse()
	probs.addErr(perr, true)
	if decl != nil {
		probs.addErr(decl.Validate(), true)
	}
	if a := im.req.Actor; !a.Admin && !probs.bad[ColPatentees] && !slices.Contains(cmd.PatenteeIDs, a.OrgID) {
		probs.add(ColPatentees, CodeForbidden, "the acting organisation is not among the patentees; an organisation imports only its own patents")
	}
	var key uint64
	if n, nerr := ParsePatentNumber(cmd.Number); nerr == nil {
		key = numberKey(n)
	}
	if len(probs.list) > 0 {
		onContinuedRow(probs.list, r.Continued)
		im.reject(probs.list)
		if _, dup := im.seen[key]; key != 0 && !dup {
			im.seen[key] = seenRow{row: r.Row, state: rowRejected}
		}
		return nil, nil, nil
	}
	fp := fingerprint(reg, decl)
	if first, dup := im.seen[key]; dup {
		if first.state == rowPending {
			return nil, &waitingRow{row: r.Row, key: key, fp: fp}, nil
		}
		im.settleRepeat(r.Row, fp, first)
		return nil, nil, nil
	}
	im.seen[key] = seenRow{row: r.Row, fp: fp, state: rowPending}
	return &importItem{row: r.Row, cmd: cmd, reg: reg, decl: decl, key: key, fp: fp}, nil, nil
}

// settleRepeat decides a row whose patent an earlier row of the import
// already had: the same values are unchanged, anything else is rejected.
func (im *Import) settleRepeat(row int, fp uint64, first seenRow) {
	switch {
	case first.state == rowFailed || first.state == rowPending:
		// The first row's batch failed: the import stops unsettled.
	case first.state == rowRejected:
		im.reject([]ImportRejection{{Row: row, Field: ColNumber, Code: string(CodeDuplicateRow),
			Message: fmt.Sprintf("the same patent is on row %d, which was rejected", first.row)}})
	case first.fp != fp:
		im.reject([]ImportRejection{{Row: row, Field: ColNumber, Code: string(CodeDuplicateRow),
			Message: fmt.Sprintf("the same patent is on row %d with other values; give each patent once", first.row)}})
	default:
		im.report.Unchanged++
		im.Warn(row, fmt.Sprintf("repeats row %d, the same patent with the same values: counted once, as unchanged", first.row))
	}
}

// reject records the rejections of one row.
func (im *Import) reject(list []ImportRejection) {
	im.report.RejectedRows++
	for _, r := range list {
		if len(im.report.Rejected) >= MaxListedRejected {
			im.report.Truncated = true
			return
		}
		if im.opts.ColumnLabel != nil {
			r.Column = im.opts.ColumnLabel(r.Field)
		}
		r.Message = im.inGivenNames(r.Message)
		im.report.Rejected = append(im.report.Rejected, r)
	}
}

// inGivenNames returns a message with the ID of each organisation that the
// file named by name written as that name: the rules name organisations by
// ID ("co-owner 01a2… has not consented"), the user wrote names.
func (im *Import) inGivenNames(msg string) string {
	if len(im.givenNames) == 0 {
		return msg
	}
	if im.namer == nil || im.namerSize != len(im.givenNames) {
		pairs := make([]string, 0, 2*len(im.givenNames))
		for id, name := range im.givenNames {
			pairs = append(pairs, id, name)
		}
		im.namer, im.namerSize = strings.NewReplacer(pairs...), len(im.givenNames)
	}
	return im.namer.Replace(msg)
}

// Warn adds a note about the file to the report, on the row it is about
// (the header's, for columns the reader does not import).
func (im *Import) Warn(row int, message string) { im.warn(row, []string{message}) }

func (im *Import) warn(row int, msgs []string) {
	for _, m := range msgs {
		if len(im.report.Warnings) >= MaxListedWarnings {
			im.report.Truncated = true
			return
		}
		im.report.Warnings = append(im.report.Warnings, ImportWarning{Row: row, Message: m})
	}
}

// writeBatch decides the batch in one command over its patents' streams
// and writes the events of its valid rows in one append (none in a dry
// run). It runs beside the goroutine that builds the next batch and touches
// only the batch's items.
func (im *Import) writeBatch(ctx context.Context, batch []*importItem) (int64, error) {
	streams := make([]string, len(batch))
	fps := make([]byte, 0, 8*len(batch))
	for i, it := range batch {
		streams[i] = PatentStream(it.reg.Number)
		fps = binary.BigEndian.AppendUint64(fps, it.fp)
	}
	c := command{req: im.req, hash: commandHash("import_patents", streams[0], fps), streams: streams,
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			out := make([][]Event, len(st))
			for i, a := range st {
				it := batch[i]
				it.events, it.err = it.decide(d, a.(*Patent))
				if it.err != nil && !isDomainError(it.err) {
					return nil, it.err
				}
				if it.err != nil {
					it.events = nil
				}
				out[i] = it.events
			}
			return out, nil
		}}
	pos, existing, err := im.svc.runImportBatch(ctx, c, im.opts.DryRun, !im.sawExisting.Load())
	im.sawExisting.Store(existing)
	return pos, err
}

// decide decides one row on its patent's state p, which it does not change.
func (it *importItem) decide(d decision, p *Patent) ([]Event, error) {
	var events []Event
	target := p
	if !p.Registered() {
		evs, err := p.Register(d, it.cmd)
		if err != nil {
			return nil, err
		}
		events = evs
		target = &Patent{}
		for _, e := range evs {
			target.Apply(e)
		}
	} else if err := it.compare(p); err != nil {
		return nil, err
	}
	if it.decl != nil && !target.hasDeclaration(*it.decl) {
		if err := target.compareDeclaration(*it.decl); err != nil {
			return nil, err
		}
		evs, err := target.Declare(d, *it.decl)
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	return events, nil
}

// compare checks the row's registration columns against the patent as it
// was registered (its patentees before any transfer). A blank abstract or
// Locarno class in the row is not compared.
func (it *importItem) compare(p *Patent) error {
	reg := it.reg
	var diffs []FieldError
	differ := func(field string, ledger, row any) {
		diffs = append(diffs, FieldError{Field: field, Message: fmt.Sprintf(
			"%s is registered with %s %v, the row gives %v; an import never changes a registered patent", p.Number, field, ledger, row)})
	}
	if reg.Title != p.Title {
		differ(ColTitle, Quote(p.Title), Quote(reg.Title))
	}
	if reg.Abstract != "" && reg.Abstract != p.Abstract {
		diffs = append(diffs, FieldError{Field: ColAbstract, Message: fmt.Sprintf(
			"%s is registered with another abstract than the row's; an import never changes a registered patent", p.Number)})
	}
	if registered := registeredPatentees(p); !slices.Equal(reg.PatenteeIDs, registered) {
		differ(ColPatentees, listed(registered), listed(reg.PatenteeIDs))
	}
	if !slices.Equal(reg.IPC, p.IPC) {
		order := ""
		if sameMembers(reg.IPC, p.IPC) {
			order = " in another order (the first code is the main classification)"
		}
		differ(ColIPC, listed(p.IPC), listed(reg.IPC)+order)
	}
	if reg.Locarno != "" && reg.Locarno != p.Locarno {
		differ(ColLocarno, Quote(p.Locarno), Quote(reg.Locarno))
	}
	if reg.FiledOn != p.FiledOn {
		differ(ColFiledOn, p.FiledOn, reg.FiledOn)
	}
	if reg.GrantedOn != p.GrantedOn {
		differ(ColGrantedOn, p.GrantedOn, reg.GrantedOn)
	}
	if len(diffs) > 0 {
		return &Error{Code: CodeConflictsWithLedger, Message: fmt.Sprintf("%s differs from the ledger", p.Number), Fields: diffs}
	}
	return nil
}

// compareDeclaration checks the row's declaration columns against a
// declaration of the patent on the same day, which the row declares again
// with other terms (the file edited after an import): the terms a
// declaration offers never change, so the row names each column that
// differs (conflicts_with_ledger), where a declaration would be refused as
// already active, with no word of what differs.
func (p *Patent) compareDeclaration(c FileDeclaration) error {
	i := slices.IndexFunc(p.Declarations, func(d *Declaration) bool {
		return d.DeclaredOn == c.DeclaredOn && !d.lastDayInEffect().Before(d.DeclaredOn) // one withdrawn on its first day offered nothing
	})
	if i < 0 {
		return nil
	}
	d := p.Declarations[i]
	var diffs []FieldError
	add := func(field string, ledger, row any) {
		diffs = append(diffs, FieldError{Field: field, Message: fmt.Sprintf("declaration %s of %s on %s gives %s %v, the row gives %v; "+
			"a declaration's terms never change: withdraw it and declare again", d.DeclarationID, p.Number, d.DeclaredOn, field, ledger, row)})
	}
	differ := func(field string, ledger, row any) {
		if ledger != row {
			add(field, ledger, row)
		}
	}
	differ(ColFeeMode, d.Fee.Mode, c.Fee.Mode)
	differ(ColLumpSumFen, d.Fee.LumpSumFen, c.Fee.LumpSumFen)
	differ(ColInstalmentFen, d.Fee.InstalmentFen, c.Fee.InstalmentFen)
	differ(ColInstalments, d.Fee.Instalments, c.Fee.Instalments)
	differ(ColEntryFeeFen, d.Fee.EntryFeeFen, c.Fee.EntryFeeFen)
	differ(ColRoyaltyBP, d.Fee.RoyaltyBP, c.Fee.RoyaltyBP)
	differ(ColRoyaltyBase, d.Fee.RoyaltyBase, c.Fee.RoyaltyBase)
	differ(ColTermMonths, d.TermMonths, c.TermMonths)
	differ(ColEvaluationReportRef, Quote(d.EvaluationReportRef), Quote(strings.TrimSpace(c.EvaluationReportRef)))
	differ(ColOtherTerms, Quote(d.OtherTerms), Quote(c.OtherTerms))
	if !sameMembers(d.CoOwnerConsent, c.CoOwnerConsent) {
		add(ColCoOwnerConsent, d.CoOwnerConsent, c.CoOwnerConsent)
	}
	if len(diffs) == 0 {
		return nil
	}
	return &Error{Code: CodeConflictsWithLedger, Message: fmt.Sprintf("%s's declaration differs from the ledger", p.Number), Fields: diffs}
}

// listed writes a list of names, IDs or codes as a message shows it:
// [华南理工大学; 中山大学].
func listed[T ~string](items []T) string {
	parts := make([]string, len(items))
	for i, item := range items {
		parts[i] = string(item)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// registeredPatentees returns the patentees the patent was registered with.
func registeredPatentees(p *Patent) []string {
	if len(p.Transfers) > 0 {
		return p.Transfers[0].FromIDs
	}
	return p.PatenteeIDs
}

// hasDeclaration reports whether p has a declaration (in effect, ended or
// withdrawn) with the terms of c.
func (p *Patent) hasDeclaration(c FileDeclaration) bool {
	for _, d := range p.Declarations {
		if d.Fee == c.Fee && d.TermMonths == c.TermMonths && d.DeclaredOn == c.DeclaredOn &&
			d.EvaluationReportRef == strings.TrimSpace(c.EvaluationReportRef) && d.OtherTerms == c.OtherTerms &&
			sameMembers(d.CoOwnerConsent, c.CoOwnerConsent) {
			return true
		}
	}
	return false
}

func sameMembers[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// runImportBatch decides an import batch and appends its events in one
// append; a batch whose rows all write nothing appends nothing. It returns
// the position of the append, 0 when nothing was appended.
//
// Unlike execute it never takes a cached state as current for a row that
// writes nothing: such a row (unchanged, rejected) puts no expected version
// in the append, so its state must have been read from the store. The
// streams the cache does not hold (new patents, mostly) are first taken as
// empty without reading them: a row that registers its patent then
// appends with the expectation that the stream is empty, which the store
// checks, and a row rejected on such a state has its stream read before
// the append. After a conflict, every stream is read. A dry run reads
// every stream, and so does an import that guesses (optimistic false)
// that its patents are mostly registered already. existing reports
// whether the batch found a registered patent, which makes a good guess
// for the next batch.
func (s *Service) runImportBatch(ctx context.Context, c command, dryRun, optimistic bool) (pos int64, existing bool, err error) {
	entries := s.cache.acquire(c.streams, newState)
	broken := false
	defer func() { s.cache.release(entries, broken, newState) }()
	states := make([]aggregate, len(entries))
	optimistic = optimistic && !dryRun
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		toRead := entries
		if optimistic {
			toRead = nil
			for _, e := range entries {
				if e.loaded {
					toRead = append(toRead, e)
				}
			}
		}
		if err := s.catchUp(ctx, toRead); err != nil {
			broken = true
			return 0, false, err
		}
		existing = false
		for i, e := range entries {
			states[i] = e.state
			existing = existing || e.state.base().Version() > 0
		}
		perStream, err := c.decide(decision{actor: c.req.Actor, today: s.Today(), newID: s.newID}, states)
		if err != nil || dryRun {
			return 0, existing, err
		}
		if fresh, err := s.verifyUnread(ctx, entries, perStream); err != nil {
			broken = true
			return 0, existing, err
		} else if !fresh {
			optimistic = false
			continue
		}
		pos, err := s.appendBatch(ctx, c, entries, perStream)
		switch {
		case errors.Is(err, ErrConflict):
			optimistic = false
			continue
		case err != nil && !isDomainError(err):
			broken = true
		}
		return pos, existing, err
	}
	return 0, true, Conflict(nil, "concurrent writes to the patents of an import batch won %d times; import again", s.maxAttempts)
}

// verifyUnread reads the streams that were taken as empty and get no
// events; it reports false when one is not empty after all, so the batch
// must be decided again.
func (s *Service) verifyUnread(ctx context.Context, entries []*cacheEntry, perStream [][]Event) (bool, error) {
	var unread []*cacheEntry
	for i, e := range entries {
		if !e.loaded && len(perStream[i]) == 0 {
			unread = append(unread, e)
		}
	}
	if err := s.catchUp(ctx, unread); err != nil {
		return false, err
	}
	for _, e := range unread {
		if e.state.base().Version() > 0 {
			return false, nil
		}
	}
	return true, nil
}

// appendBatch appends the events decided for each stream with the version
// of its state as the expectation, and folds them into the cached states.
// A stream taken as empty that the append extends is then known: the store
// checked that it was empty.
func (s *Service) appendBatch(ctx context.Context, c command, entries []*cacheEntry, perStream [][]Event) (int64, error) {
	appends, err := s.buildAppends(c, "", entries, perStream)
	if errors.Is(err, &Error{Code: CodeRuleViolation, Rule: RuleNothingToChange}) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	ar, err := s.append(ctx, appends...)
	if err != nil {
		return 0, err
	}
	s.applyAppended(entries, appends, perStream, ar)
	for i, e := range entries {
		if len(perStream[i]) > 0 && e.state.base().Version() > 0 {
			e.loaded = true
		}
		s.maybeSnapshot(ctx, e.stream, e.state)
	}
	return ar.Position, nil
}

// resolveAll resolves organisation references (IDs or names) to IDs. A
// reference that does not resolve is kept as given and its problem added
// under field.
func (im *Import) resolveAll(ctx context.Context, field string, refs []string, probs *rowProblems) ([]string, error) {
	if len(refs) == 0 || probs.bad[field] {
		return refs, nil // a cell the reader could not read (bytes of another encoding) names no organisation to look up
	}
	out := make([]string, len(refs))
	for i, ref := range refs {
		r, err := im.resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		out[i] = r.id
		if r.code != "" {
			out[i] = ref
			probs.add(field, r.code, r.message)
		}
	}
	return out, nil
}

// resolve resolves one reference, once per import: an organisation ID (a
// UUID) must be registered; a name must match exactly one organisation.
// Regulators are never parties.
func (im *Import) resolve(ctx context.Context, ref string) (resolvedRef, error) {
	ref = strings.TrimSpace(ref)
	if r, ok := im.refs[ref]; ok {
		return r, nil
	}
	r, err := im.lookup(ctx, ref)
	if err != nil {
		return r, err
	}
	if r.code == "" {
		kind, err := im.svc.orgKind(ctx, r.id)
		if err != nil {
			return r, err
		}
		if kind == OrgRegulator {
			r = resolvedRef{code: CodeInvalidArgument, message: fmt.Sprintf("%s is a regulator and cannot be a party", Quote(ref))}
		}
	}
	if _, named := im.givenNames[r.id]; r.code == "" && r.id != ref && !named {
		if im.givenNames == nil {
			im.givenNames = map[string]string{}
		}
		im.givenNames[r.id] = ref
	}
	im.refs[ref] = r
	return r, nil
}

func (im *Import) lookup(ctx context.Context, ref string) (resolvedRef, error) {
	if ref == "" {
		return resolvedRef{code: CodeInvalidArgument, message: "an organisation is empty; separate names or IDs with ;"}, nil
	}
	if looksLikeOrgID(ref) {
		id := strings.ToLower(ref) // a UUID is the same in capitals, as a spreadsheet may write it
		_, err := im.svc.orgKind(ctx, id)
		if ErrorCode(err) == CodeNotFound {
			return resolvedRef{code: CodeNotFound, message: fmt.Sprintf("no organisation has the ID %s", ref)}, nil
		}
		return resolvedRef{id: id}, err
	}
	if yesOrNo[strings.ToLower(ref)] {
		return resolvedRef{code: CodeInvalidArgument, message: fmt.Sprintf("%s is a yes or no; give the names or IDs of the organisations, separated by ;", Quote(ref))}, nil
	}
	if im.names == nil {
		im.names = im.svc.orgs
	}
	ids, err := im.names.OrgsNamed(ctx, ref)
	switch {
	case err != nil:
		return resolvedRef{}, err
	case len(ids) == 0 && strings.Contains(ref, ","):
		return resolvedRef{code: CodeNotFound, message: fmt.Sprintf("no organisation is named %s; give its exact registered name or its ID, "+
			"and separate several by ; or 、 (a comma may be part of a name)", Quote(ref))}, nil
	case len(ids) == 0:
		return resolvedRef{code: CodeNotFound, message: fmt.Sprintf("no organisation is named %s; give its exact registered name or its ID", Quote(ref))}, nil
	case len(ids) > 1:
		return resolvedRef{code: CodeAmbiguousName, message: fmt.Sprintf("%d organisations are named %s; give the ID instead (%s)", len(ids), Quote(ref), strings.Join(ids, ", "))}, nil
	}
	return resolvedRef{id: ids[0]}, nil
}

// yesOrNo are the answers a yes/no column holds, which a column of
// organisations (a co-owners' consent column read as "did they consent?")
// may be given by mistake.
var yesOrNo = map[string]bool{"是": true, "否": true, "同意": true, "不同意": true, "yes": true, "no": true, "y": true, "n": true,
	"true": true, "false": true, "√": true, "✓": true, "×": true}

// looksLikeOrgID reports whether s has the form of an organisation ID, a
// UUID (8-4-4-4-12 hex digits).
func looksLikeOrgID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// rejectionsOf turns a domain error about a row into its rejections, each
// naming a column.
func rejectionsOf(row int, err error) []ImportRejection {
	var e *Error
	if !errors.As(err, &e) {
		return []ImportRejection{{Row: row, Field: ColNumber, Code: string(CodeInternal), Message: err.Error()}}
	}
	code := string(e.Code)
	if e.Rule != "" {
		code = string(e.Rule)
	}
	if len(e.Fields) == 0 {
		return []ImportRejection{{Row: row, Field: columnOfRule(e), Code: code, Message: e.Message}}
	}
	out := make([]ImportRejection, 0, len(e.Fields))
	for _, f := range e.Fields {
		out = append(out, ImportRejection{Row: row, Field: columnOf(f.Field), Code: code, Message: f.Message})
	}
	return out
}

// columnOf maps a command field ("patentee_ids[1]", "fee.mode") to its
// column.
func columnOf(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	field = strings.TrimPrefix(field, "fee.")
	switch field {
	case "patentee_ids":
		return ColPatentees
	case "mode":
		return ColFeeMode
	case "":
		return ColNumber
	}
	return field
}

// ruleColumns names the column a rule violation is about.
var ruleColumns = map[Rule]string{
	RulePatentNotActive:          ColDeclaredOn,
	RuleAnnualFeeUnpaid:          ColDeclaredOn,
	RulePatentSuspended:          ColDeclaredOn,
	RuleExclusiveLicenseInForce:  ColDeclaredOn,
	RulePledgedWithoutConsent:    ColDeclaredOn,
	RuleDeclarationAlreadyActive: ColDeclaredOn,
	RuleEvaluationReportRequired: ColEvaluationReportRef,
	RuleCoOwnerConsentMissing:    ColCoOwnerConsent,
	RuleTermExceedsPatent:        ColTermMonths,
	RulePromotionalLanguage:      ColOtherTerms,
	RuleInvalidFeeTerms:          ColFeeMode,
	RulePatentAlreadyRegistered:  ColNumber,
}

func columnOfRule(e *Error) string {
	if c, ok := ruleColumns[e.Rule]; ok {
		return c
	}
	if e.Code == CodeForbidden {
		return ColPatentees
	}
	return ColNumber
}

// numberKey packs a patent number into a map key.
func numberKey(n PatentNumber) uint64 {
	c := compactNumber(n)
	var k uint64
	for _, r := range c[:12] {
		k = k*10 + uint64(r-'0')
	}
	check := uint64(10)
	if r := c[12]; r != 'X' {
		check = uint64(r - '0')
	}
	return k*11 + check + 1
}

// fingerprint hashes every value of a validated row, to tell a repeat of a
// patent within one file from a row with other values.
func fingerprint(reg PatentRegistered, decl *FileDeclaration) uint64 {
	b := make([]byte, 0, 512)
	str := func(v string) { b = append(append(b, v...), 0) }
	num := func(v int64) { b = append(strconv.AppendInt(b, v, 10), 0) }
	day := func(d Date) { num(d.days); b = append(b, boolByte(d.ok)) }
	str(string(reg.Number))
	str(reg.Title)
	str(reg.Abstract)
	for _, id := range reg.PatenteeIDs {
		str(id)
	}
	b = append(b, 1)
	for _, c := range reg.IPC {
		str(string(c))
	}
	b = append(b, 1)
	str(reg.Locarno)
	day(reg.FiledOn)
	day(reg.GrantedOn)
	if decl != nil {
		f := decl.Fee
		str(string(f.Mode))
		for _, v := range []int64{int64(f.LumpSumFen), int64(f.InstalmentFen), int64(f.Instalments), int64(f.EntryFeeFen), int64(f.RoyaltyBP), int64(decl.TermMonths)} {
			num(v)
		}
		str(string(f.RoyaltyBase))
		day(decl.DeclaredOn)
		str(strings.TrimSpace(decl.EvaluationReportRef))
		for _, id := range decl.CoOwnerConsent {
			str(id)
		}
		b = append(b, 1)
		str(decl.OtherTerms)
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// FoldOrgName is the form in which organisation names are compared: without
// spaces, full-width letters, digits and brackets folded to ASCII
// (（集团） equals (集团)), ASCII letters in lower case.
func FoldOrgName(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		if r = FoldWidth(r); r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, name)
}

// OrgNameIndex finds organisations by name, and by unified social credit
// code, from the store's global log: it reads the log once, then only what
// was appended since; with a snapshot store (the service's), it starts
// from its last snapshot and reads only what came after. It is safe for
// concurrent use. A read model that indexes organisation names can stand
// in for it (OrgNames).
type OrgNameIndex struct {
	store    EventStore
	codec    *Codec
	mu       sync.Mutex
	after    int64  // the last position read
	lastID   string // the ID of the event at after
	byName   map[string][]string
	byCredit map[CreditCode]string // the first organisation registered under each code

	snapshots SnapshotStore // nil: none
	onSnapErr func(error)
	started   bool   // whether a snapshot was looked for
	savedAt   int64  // the position of the last snapshot loaded or saved
	key       string // the snapshot's key (snapshotKey)
}

var _ OrgNames = (*OrgNameIndex)(nil)

// NewOrgNameIndex returns an index over store; it reads nothing until
// asked.
func NewOrgNameIndex(store EventStore) *OrgNameIndex {
	return &OrgNameIndex{store: store, codec: DefaultCodec, byName: map[string][]string{}, byCredit: map[CreditCode]string{}}
}

// orgNameScanBatch is how many events one read of the log returns.
const orgNameScanBatch = 5000

// OrgsNamed catches up with the log and returns the IDs of the
// organisations named name (see FoldOrgName). It returns the store's error
// when the log cannot be read.
func (x *OrgNameIndex) OrgsNamed(ctx context.Context, name string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.catchUp(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(x.byName[FoldOrgName(name)]), nil
}

// OrgWithCreditCode catches up with the log and returns the ID of the
// first organisation registered under code, "" when none was.
func (x *OrgNameIndex) OrgWithCreditCode(ctx context.Context, code CreditCode) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.catchUp(ctx); err != nil {
		return "", err
	}
	return x.byCredit[code], nil
}

// catchUp reads the organisations registered since the last read (at
// first, since the index's snapshot), and saves a snapshot when it has
// read enough. The caller holds x.mu.
func (x *OrgNameIndex) catchUp(ctx context.Context) error {
	if x.snapshots != nil && !x.started {
		if err := x.loadSnapshot(ctx); err != nil {
			return fmt.Errorf("read the log for organisations: %w", err)
		}
		x.started = true
	}
	for {
		batch, err := x.store.ReadAll(ctx, x.after, orgNameScanBatch)
		if err != nil {
			return fmt.Errorf("read the log for organisations: %w", err)
		}
		if len(batch) == 0 {
			if x.snapshots != nil {
				x.maybeSaveSnapshot(ctx)
			}
			return nil
		}
		for _, re := range batch {
			x.after, x.lastID = re.Position, re.ID
			if !strings.HasPrefix(re.Stream, "org-") || !strings.HasPrefix(re.Type, "org.registered.") {
				continue
			}
			e, err := x.codec.Decode(re.Type, re.Data)
			if err != nil {
				return fmt.Errorf("position %d: %w", re.Position, err)
			}
			if o, ok := e.(OrgRegistered); ok {
				k := FoldOrgName(o.Name)
				x.byName[k] = append(x.byName[k], o.OrgID)
				if _, taken := x.byCredit[o.CreditCode]; !taken {
					x.byCredit[o.CreditCode] = o.OrgID
				}
			}
		}
	}
}
