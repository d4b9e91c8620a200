package domain_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// importRow is a valid row registering an invention filed in the year its
// digits say, with patentees given as IDs or names.
func importRow(t testing.TB, row int, digits string, patentees ...string) domain.ImportRow {
	t.Helper()
	return domain.ImportRow{Row: row, Patent: domain.RegisterPatent{Number: string(validNumber(t, digits)),
		Title: "一种储能电池管理方法", PatenteeIDs: patentees, IPC: []string{"H01M 10/42"},
		FiledOn: bday(digits[:4] + "-03-15"), GrantedOn: bday("2022-01-10")}}
}

// withLumpSum adds a lump-sum declaration to a row.
func withLumpSum(r domain.ImportRow, fen domain.Fen, months int) domain.ImportRow {
	r.Declaration = &domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: fen},
		TermMonths: months, DeclaredOn: bday("2024-03-01")}
	return r
}

// rejectedFields returns "row:field:code" for each rejection.
func rejectedFields(r domain.ImportReport) []string {
	var out []string
	for _, x := range r.Rejected {
		out = append(out, fmt.Sprintf("%d:%s:%s", x.Row, x.Field, x.Code))
	}
	return out
}

func mustImport(t testing.TB, svc *domain.Service, req domain.Request, rows []domain.ImportRow, opts domain.ImportOptions) domain.ImportReport {
	t.Helper()
	rep, err := svc.ImportPatents(context.Background(), req, rows, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func registeredPatent(t testing.TB, svc *domain.Service, digits string) *domain.Patent {
	t.Helper()
	p, err := svc.LoadPatent(context.Background(), validNumber(t, digits))
	if err != nil {
		return nil
	}
	return p
}

func TestImportWritesValidRowsAndRejectsBadOnes(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	bad := importRow(t, 4, "202010000004", w.uni)
	bad.Patent.IPC = []string{"H01M 10/0562", "not-a-code"}
	tooLong := withLumpSum(importRow(t, 5, "202010000005", w.uni), 5_000_000, 240)
	rows := []domain.ImportRow{
		importRow(t, 2, "202010000002", "华南理工大学"),
		withLumpSum(importRow(t, 3, "202010000003", w.uni), 5_000_000, 36),
		bad,
		tooLong,
		importRow(t, 6, "202010000006", "没有这个大学"),
		{Row: 7, Patent: importRow(t, 7, "202010000007", w.uni).Patent, Problems: []domain.FieldError{{Field: domain.ColFiledOn, Message: `"2020/13/01" is not a date`}}},
	}
	before := head(t, st)
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	if rep.Rows != 6 || rep.Imported != 2 || rep.Unchanged != 0 || rep.RejectedRows != 4 {
		t.Fatalf("report %+v", rep)
	}
	want := []string{"4:ipc:invalid_argument", "5:term_months:term_exceeds_patent", "6:patentees:not_found", "7:filed_on:invalid_argument"}
	if got := rejectedFields(rep); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rejected %v, want %v", got, want)
	}
	// Three events in one append: two registrations and a declaration.
	if rep.Position != before+3 || head(t, st) != before+3 {
		t.Fatalf("position %d, head %d, before %d", rep.Position, head(t, st), before)
	}
	if p := registeredPatent(t, svc, "202010000002"); p == nil || p.PatenteeIDs[0] != w.uni {
		t.Fatalf("row 2 not registered to the university: %+v", p)
	}
	if p := registeredPatent(t, svc, "202010000003"); p == nil || p.DeclarationInEffect(bday("2024-03-01")) == nil {
		t.Fatal("row 3 not declared")
	}
	for _, digits := range []string{"202010000004", "202010000005", "202010000006", "202010000007"} {
		if registeredPatent(t, svc, digits) != nil {
			t.Fatalf("rejected row %s wrote its patent", digits)
		}
	}
}

func TestImportAgainIsUnchangedAndWritesNothing(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	rows := []domain.ImportRow{
		importRow(t, 2, "202010000002", w.uni),
		withLumpSum(importRow(t, 3, "202010000003", "华南理工大学"), 5_000_000, 36),
		withLumpSum(importRow(t, 4, "202010000004", w.uni), -1, 36),
	}
	first := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	if first.Imported != 2 || first.RejectedRows != 1 {
		t.Fatalf("first import %+v", first)
	}
	before := head(t, st)
	// Another service on the same store (a fresh process) and this one's
	// warm cache both find nothing new.
	for _, s := range []*domain.Service{svc, newService(t, st)} {
		again := mustImport(t, s, as(w.uni), rows, domain.ImportOptions{})
		if again.Imported != 0 || again.Unchanged != 2 || again.RejectedRows != 1 || again.Position != before {
			t.Fatalf("second import %+v", again)
		}
		if head(t, st) != before {
			t.Fatal("importing the same rows again moved the head")
		}
	}
}

func TestImportChangedRowIsRejectedNamingTheColumn(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	n := w.patent("202010123456") // registered through the API path
	row := importRow(t, 2, "202010123456", w.uni)
	row.Patent.Title = "一种固态锂电池电解质及其制备方法"
	row.Patent.IPC = []string{"H01M 10/0562 (2010.01)"}
	row.Patent.FiledOn = bday("2020-03-15")
	if rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{row}, domain.ImportOptions{}); rep.Unchanged != 1 {
		t.Fatalf("the same values (IPC with an edition suffix) must be unchanged: %+v", rep)
	}
	before := head(t, st)
	changed := row
	changed.Patent.Title = "一种改进的固态锂电池电解质"
	changed.Patent.GrantedOn = bday("2022-02-10")
	rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{changed}, domain.ImportOptions{ColumnLabel: func(f string) string { return "«" + f + "»" }})
	if got := strings.Join(rejectedFields(rep), " "); got != "2:title:conflicts_with_ledger 2:granted_on:conflicts_with_ledger" {
		t.Fatalf("rejected %s", got)
	}
	if c := rep.Rejected[0]; c.Column != "«title»" || !strings.Contains(c.Message, "一种固态锂电池电解质及其制备方法") {
		t.Fatalf("rejection %+v", c)
	}
	if head(t, st) != before {
		t.Fatal("a conflicting row wrote something")
	}
	if p, _ := svc.LoadPatent(context.Background(), n); p.Title != "一种固态锂电池电解质及其制备方法" {
		t.Fatalf("title overwritten: %s", p.Title)
	}
	// A declaration added to a registered patent is imported; the terms in
	// effect are then unchanged.
	declared := withLumpSum(row, 5_000_000, 36)
	if rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{declared}, domain.ImportOptions{}); rep.Imported != 1 || head(t, st) != before+1 {
		t.Fatalf("declaration on a registered patent: %+v", rep)
	}
	if rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{declared}, domain.ImportOptions{}); rep.Unchanged != 1 {
		t.Fatalf("same declaration again: %+v", rep)
	}
	// The same day's declaration with other terms (the file edited after
	// the import) names each column that differs; another day's, while one
	// is in effect, is refused as already active.
	other := withLumpSum(row, 6_000_000, 24)
	rep = mustImport(t, svc, as(w.uni), []domain.ImportRow{other}, domain.ImportOptions{})
	if got := strings.Join(rejectedFields(rep), " "); got != "2:lump_sum_fen:conflicts_with_ledger 2:term_months:conflicts_with_ledger" ||
		!strings.Contains(rep.Rejected[0].Message, "gives lump_sum_fen ¥50,000.00, the row gives ¥60,000.00; a declaration's terms never change") {
		t.Fatalf("other terms of the same day: %s %+v", got, rep.Rejected)
	}
	later := withLumpSum(row, 6_000_000, 24)
	later.Declaration.DeclaredOn = bday("2024-05-01")
	rep = mustImport(t, svc, as(w.uni), []domain.ImportRow{later}, domain.ImportOptions{})
	if got := strings.Join(rejectedFields(rep), " "); got != "2:declared_on:declaration_already_active" {
		t.Fatalf("other terms while one is in effect: %s %+v", got, rep.Rejected)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	rows := []domain.ImportRow{
		withLumpSum(importRow(t, 2, "202010000002", w.uni), 5_000_000, 36),
		importRow(t, 3, "202010000003", w.sme2),
	}
	before := head(t, st)
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{DryRun: true})
	if !rep.DryRun || rep.Imported != 1 || rep.RejectedRows != 1 || rep.Rejected[0].Code != string(domain.CodeForbidden) || rep.Position != before {
		t.Fatalf("dry run %+v", rep)
	}
	if head(t, st) != before || registeredPatent(t, svc, "202010000002") != nil {
		t.Fatal("a dry run wrote")
	}
	// The real run agrees with the dry run.
	real := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	if real.Imported != rep.Imported || real.RejectedRows != rep.RejectedRows {
		t.Fatalf("dry run %+v, real run %+v", rep, real)
	}
}

func TestImportActingParty(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	ctx := context.Background()
	if _, err := svc.NewImport(ctx, as(w.reg), domain.ImportOptions{}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a regulator imports: %v", err)
	}
	rows := []domain.ImportRow{importRow(t, 2, "202010000002", w.sme), importRow(t, 3, "202010000003", w.reg)}
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	if got := strings.Join(rejectedFields(rep), " "); got != "2:patentees:forbidden 3:patentees:invalid_argument" {
		t.Fatalf("rejected %s", got)
	}
	// The admin imports anyone's patents, but never names a regulator.
	rep = mustImport(t, svc, admin, rows, domain.ImportOptions{})
	if rep.Imported != 1 || rep.RejectedRows != 1 {
		t.Fatalf("admin import %+v", rep)
	}
}

func TestImportDuplicateRowsAndNames(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	twin1 := w.org("广州科技(集团)有限公司", domain.OrgEnterprise, "440106", "91440101MA5CWWWW3", false)
	w.org("广州科技（集团）有限公司", domain.OrgEnterprise, "440106", "91440101MA5CWWWW4", false)
	same := importRow(t, 2, "202010000002", "  华南理工大学 ")
	again := same
	again.Row = 5
	changed := importRow(t, 6, "202010000002", w.uni)
	changed.Patent.Title = "另一个标题"
	rows := []domain.ImportRow{
		same,
		importRow(t, 3, "202010000003", w.uni, "广州科技（集团）有限公司"),
		importRow(t, 4, "202010000004", w.uni, twin1),
		again, changed,
		importRow(t, 7, "202010000007", "华南理工大学", w.uni),
	}
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{BatchRows: 3})
	want := "3:patentees:ambiguous_name 6:number:duplicate_row 7:patentees:invalid_argument"
	if got := strings.Join(rejectedFields(rep), " "); got != want {
		t.Fatalf("rejected %s, want %s", got, want)
	}
	if rep.Imported != 2 || rep.Unchanged != 1 {
		t.Fatalf("report %+v", rep)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w domain.ImportWarning) bool { return w.Row == 5 && strings.Contains(w.Message, "repeats row 2") }) {
		t.Errorf("the repeated row is not named in a warning: %+v", rep.Warnings)
	}
	if got := domain.FoldOrgName(" 广州科技（集团）有限公司 "); got != domain.FoldOrgName("广州科技(集团)有限公司") {
		t.Fatalf("fold %q", got)
	}
}

// countingStore counts appends and the streams of each, and can fail or
// interfere with an append before it reaches the store.
type countingStore struct {
	domain.EventStore
	appends atomic.Int32
	mu      sync.Mutex
	streams []int
	before  func(n int, appends []domain.StreamAppend) error
}

func (s *countingStore) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	n := int(s.appends.Add(1))
	if s.before != nil {
		if err := s.before(n, appends); err != nil {
			return domain.AppendResult{}, err
		}
	}
	s.mu.Lock()
	s.streams = append(s.streams, len(appends))
	s.mu.Unlock()
	return s.EventStore.Append(ctx, appends...)
}

func TestImportBatchesAreAtomic(t *testing.T) {
	st := openStore(t)
	setup := newService(t, st)
	w := newWorld(t, setup)
	cs := &countingStore{EventStore: st}
	svc := newService(t, cs)
	var rows []domain.ImportRow
	for i := range 5 {
		rows = append(rows, importRow(t, i+2, fmt.Sprintf("2020100000%02d", i), w.uni))
	}
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{BatchRows: 2})
	slices.Sort(cs.streams) // two batches are written at a time
	if rep.Imported != 5 || fmt.Sprint(cs.streams) != "[1 2 2]" {
		t.Fatalf("report %+v, appends over %v streams", rep, cs.streams)
	}

	// A failing append writes none of its batch; the others stay.
	failing := domain.PatentStream(validNumber(t, "202110000002"))
	cs2 := &countingStore{EventStore: st, before: func(_ int, appends []domain.StreamAppend) error {
		for _, a := range appends {
			if a.Stream == failing {
				return errors.New("disk full")
			}
		}
		return nil
	}}
	svc2 := newService(t, cs2)
	rows = rows[:0]
	for i := range 5 {
		rows = append(rows, importRow(t, i+2, fmt.Sprintf("2021100000%02d", i), w.uni))
	}
	rows[0].Patent.FiledOn = bday("2021-03-15")
	if _, err := svc2.ImportPatents(context.Background(), as(w.uni), rows, domain.ImportOptions{BatchRows: 2}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want the store's error, got %v", err)
	}
	for i, wantRegistered := range []bool{true, true, false, false, true} {
		if got := registeredPatent(t, setup, fmt.Sprintf("2021100000%02d", i)) != nil; got != wantRegistered {
			t.Fatalf("row %d registered %v, want %v", i, got, wantRegistered)
		}
	}
	// Importing again completes the import.
	rep = mustImport(t, newService(t, st), as(w.uni), rows, domain.ImportOptions{BatchRows: 2})
	if rep.Imported != 2 || rep.Unchanged != 3 {
		t.Fatalf("completing import %+v", rep)
	}
}

func TestImportBatchIsDecidedAgainAfterAConflict(t *testing.T) {
	st := openStore(t)
	other := newService(t, st)
	w := newWorld(t, other)
	rows := []domain.ImportRow{
		importRow(t, 2, "202010000002", w.uni),
		withLumpSum(importRow(t, 3, "202010000003", w.uni), 5_000_000, 36),
	}
	// Another process registers row 3's patent just before the import
	// appends: the append conflicts, the batch is decided again on fresh
	// states, and row 3 then only needs its declaration.
	cs := &countingStore{EventStore: st, before: func(n int, _ []domain.StreamAppend) error {
		if n == 1 {
			_, err := other.RegisterPatent(context.Background(), as(w.uni), rows[1].Patent)
			return err
		}
		return nil
	}}
	svc := newService(t, cs)
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	if rep.Imported != 2 || cs.appends.Load() != 2 {
		t.Fatalf("report %+v after %d appends", rep, cs.appends.Load())
	}
	p := registeredPatent(t, other, "202010000003")
	if p == nil || len(p.Declarations) != 1 || p.Version() != 2 {
		t.Fatalf("patent after the retried batch: %+v", p)
	}
}

func TestImportDeclarationRulesNameTheirColumn(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	coOwned := func(row int, digits string, consent ...string) domain.ImportRow {
		r := withLumpSum(importRow(t, row, digits, w.uni, "广州星能电池科技有限公司"), 5_000_000, 36)
		r.Declaration.CoOwnerConsent = consent
		return r
	}
	utility := withLumpSum(importRow(t, 4, "202020000004", w.uni), 5_000_000, 36)
	promo := withLumpSum(importRow(t, 5, "202010000005", w.uni), 5_000_000, 36)
	promo.Declaration.OtherTerms = "国内领先，业内第一"
	rows := []domain.ImportRow{
		coOwned(2, "202010000002", "广州星能电池科技有限公司"),
		coOwned(3, "202010000003"),
		utility,
		promo,
	}
	rep := mustImport(t, svc, as(w.uni), rows, domain.ImportOptions{})
	want := "3:co_owner_consent:co_owner_consent_missing 4:evaluation_report_ref:evaluation_report_required 5:other_terms:promotional_language"
	if got := strings.Join(rejectedFields(rep), " "); got != want || rep.Imported != 1 {
		t.Fatalf("rejected %s (want %s), report %+v", got, want, rep)
	}
	// The row named the co-owner by name: the message does too, not by ID.
	if msg := rep.Rejected[0].Message; !strings.Contains(msg, "广州星能电池科技有限公司") || strings.Contains(msg, w.sme) {
		t.Errorf("the co-owner's consent is missing, says %q", msg)
	}
	p := registeredPatent(t, svc, "202010000002")
	if p == nil || len(p.Declarations) != 1 || p.Declarations[0].CoOwnerConsent[0] != w.sme {
		t.Fatalf("co-owned declaration: %+v", p)
	}
	// After a transfer the patent's original registration still matches.
	if _, err := svc.TransferPatent(context.Background(), as(w.uni), p.Number, domain.TransferPatent{
		ToIDs: []string{w.sme2}, EffectiveOn: bday("2024-05-01"), CoOwnerConsent: []string{w.sme}}); err != nil {
		t.Fatal(err)
	}
	if rep := mustImport(t, svc, admin, rows[:1], domain.ImportOptions{}); rep.Unchanged != 1 {
		t.Fatalf("re-import after a transfer: %+v", rep)
	}
}

func TestImportConcurrentImportsOfOneFile(t *testing.T) {
	st := openStore(t)
	w := newWorld(t, newService(t, st))
	var rows []domain.ImportRow
	for i := range 40 {
		rows = append(rows, withLumpSum(importRow(t, i+2, fmt.Sprintf("2020100001%02d", i), w.uni), 5_000_000, 36))
	}
	before := head(t, st)
	// Two processes (services with their own caches) import the same file
	// at once, in small batches: every row is written exactly once.
	reps := make([]domain.ImportReport, 2)
	var wg sync.WaitGroup
	for i := range reps {
		svc := newService(t, st)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := svc.ImportPatents(context.Background(), as(w.uni), rows, domain.ImportOptions{BatchRows: 7})
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		}()
	}
	wg.Wait()
	for _, r := range reps {
		if r.Imported+r.Unchanged != len(rows) || r.RejectedRows != 0 {
			t.Fatalf("reports %+v", reps)
		}
	}
	if reps[0].Imported+reps[1].Imported != len(rows) || head(t, st) != before+int64(2*len(rows)) {
		t.Fatalf("imported %d + %d rows, head moved by %d", reps[0].Imported, reps[1].Imported, head(t, st)-before)
	}
}

// TestImportBatchesOfLongTextsAreCut imports 300 rows with abstracts of
// 3,000 characters (9 KB each in UTF-8): a batch of 500 such rows would be
// one append of several MB, beyond what EventStoreDB takes (1 MiB by
// default), so the batches are cut by size: each append's events hold
// under 1 MiB of data, and every row is imported.
func TestImportBatchesOfLongTextsAreCut(t *testing.T) {
	st := openStore(t)
	w := newWorld(t, newService(t, st))
	var largest atomic.Int64
	cs := &countingStore{EventStore: st, before: func(_ int, appends []domain.StreamAppend) error {
		var bytes int64
		for _, a := range appends {
			for _, e := range a.Events {
				bytes += int64(len(e.Data))
			}
		}
		if bytes > largest.Load() {
			largest.Store(bytes)
		}
		return nil
	}}
	var rows []domain.ImportRow
	for i := range 300 {
		r := importRow(t, i+2, fmt.Sprintf("2020100%05d", i), w.uni)
		r.Patent.Abstract = strings.Repeat("储能电池管理方法", 375)
		rows = append(rows, r)
	}
	rep := mustImport(t, newService(t, cs), as(w.uni), rows, domain.ImportOptions{})
	if rep.Imported != 300 || cs.appends.Load() < 6 || largest.Load() >= 1<<20 {
		t.Fatalf("report %+v; %d appends, the largest %d bytes", rep, cs.appends.Load(), largest.Load())
	}
}

// TestImportReadsOrganisationCellsAsPeopleFillThem: an ID in capitals is
// the organisation's; a yes or no in a column of organisations, and names
// joined by a comma, are refused saying what to give instead.
func TestImportReadsOrganisationCellsAsPeopleFillThem(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	consentYes := importRow(t, 4, "202010000004", w.uni, w.sme)
	consentYes = withLumpSum(consentYes, 5_000_000, 36)
	consentYes.Declaration.CoOwnerConsent = []string{"是"}
	rows := []domain.ImportRow{
		importRow(t, 2, "202010000002", strings.ToUpper(w.uni)),
		importRow(t, 3, "202010000003", "华南理工大学,广州星能电池科技有限公司"),
		consentYes,
	}
	rep := mustImport(t, svc, domain.Request{Actor: domain.AdminActor}, rows, domain.ImportOptions{})
	if rep.Imported != 1 || len(rep.Rejected) != 2 {
		t.Fatalf("report %+v", rep)
	}
	if p := registeredPatent(t, svc, "202010000002"); p == nil || !slices.Equal(p.PatenteeIDs, []string{w.uni}) {
		t.Fatalf("the row naming the university's ID in capitals: %+v", p)
	}
	for _, want := range []string{"separate several by ; or 、", `"是" is a yes or no; give the names or IDs`} {
		if !slices.ContainsFunc(rep.Rejected, func(r domain.ImportRejection) bool { return strings.Contains(r.Message, want) }) {
			t.Errorf("no rejection says %q: %+v", want, rep.Rejected)
		}
	}
}

// TestImportConflictsSayWhatDiffers: the same IPC codes in another order
// are a conflict that says so (the first is the main classification), a
// list is written with its items apart, and another abstract is said in
// words that read.
func TestImportConflictsSayWhatDiffers(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	row := importRow(t, 2, "202010000002", w.uni)
	row.Patent.IPC = []string{"H01M 10/42", "G06F 16/00"}
	row.Patent.Abstract = "一种电池。"
	if rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{row}, domain.ImportOptions{}); rep.Imported != 1 {
		t.Fatalf("report %+v", rep)
	}
	changed := row
	changed.Patent.IPC = []string{"G06F 16/00", "H01M 10/42"}
	changed.Patent.Abstract = "另一种电池。"
	rep := mustImport(t, svc, as(w.uni), []domain.ImportRow{changed}, domain.ImportOptions{})
	want := map[string]string{
		domain.ColIPC:      "registered with ipc [H01M 10/42; G06F 16/00], the row gives [G06F 16/00; H01M 10/42] in another order (the first code is the main classification)",
		domain.ColAbstract: "is registered with another abstract than the row's",
	}
	for field, text := range want {
		if !slices.ContainsFunc(rep.Rejected, func(r domain.ImportRejection) bool { return r.Field == field && strings.Contains(r.Message, text) }) {
			t.Errorf("no %s rejection says %q: %+v", field, text, rep.Rejected)
		}
	}
}

// TestImportUnreadableOrganisationCellIsOneProblem: a patentees cell the
// reader could not read (bytes of another encoding) is rejected for that
// alone, not also as an organisation that no name matches.
func TestImportUnreadableOrganisationCellIsOneProblem(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st)
	newWorld(t, svc)
	row := importRow(t, 2, "202010000002", "\xbb\xaa\xc4\xcf大学")
	row.Problems = []domain.FieldError{{Field: domain.ColPatentees, Message: "holds bytes that are not UTF-8 text"}}
	rep := mustImport(t, svc, domain.Request{Actor: domain.AdminActor}, []domain.ImportRow{row}, domain.ImportOptions{})
	if got := strings.Join(rejectedFields(rep), " "); got != "2:patentees:invalid_argument" {
		t.Fatalf("rejected %s: %+v", got, rep.Rejected)
	}
}
