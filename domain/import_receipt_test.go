package domain_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// keyedImport returns a run function importing rows under req that counts
// its runs and fails while fail is set.
func keyedImport(t *testing.T, svc *domain.Service, req domain.Request, rows []domain.ImportRow, runs *int, fail *bool) func() (domain.ImportReport, error) {
	return func() (domain.ImportReport, error) {
		*runs++
		if *fail {
			return domain.ImportReport{}, errors.New("the upload broke off")
		}
		return svc.ImportPatents(context.Background(), req, rows, domain.ImportOptions{})
	}
}

// keyedWorld returns a store, its service and world, and a request of the
// world's university under an idempotency key.
func keyedWorld(t *testing.T, key string) (domain.EventStore, *domain.Service, *world, domain.Request) {
	t.Helper()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	req := as(w.uni)
	req.IdempotencyKey = key
	return st, svc, w, req
}

// importStream reads the receipt stream of an import under key by req.
func importStream(t *testing.T, st domain.EventStore, req domain.Request, key string) []string {
	t.Helper()
	events, err := st.ReadStream(context.Background(), domain.ImportStream(domain.CommandID(req.Actor.String(), key)), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

func TestImportOnceAnswersARepeatWithTheFirstReport(t *testing.T) {
	ctx := context.Background()
	st, svc, w, req := keyedWorld(t, "upload-2024-07-01")
	rows := []domain.ImportRow{importRow(t, 1, "202010123456", w.uni), importRow(t, 2, "202010654321", w.uni)}
	runs, fail := 0, false

	first, repeat, err := svc.ImportOnce(ctx, req, "hash-a", keyedImport(t, svc, req, rows, &runs, &fail))
	if err != nil || repeat || first.Imported != 2 || first.Position == 0 || runs != 1 {
		t.Fatalf("first: %+v repeat=%v err=%v runs=%d", first, repeat, err, runs)
	}
	head, _ := st.Head(ctx)
	again, repeat, err := svc.ImportOnce(ctx, req, "hash-a", keyedImport(t, svc, req, rows, &runs, &fail))
	if err != nil || !repeat || runs != 1 || !reflect.DeepEqual(again, first) {
		t.Fatalf("repeat: %+v repeat=%v err=%v runs=%d, want %+v", again, repeat, err, runs, first)
	}
	_, _, err = svc.ImportOnce(ctx, req, "hash-b", keyedImport(t, svc, req, rows, &runs, &fail))
	if !errors.Is(err, domain.ErrIdempotencyMismatch) || runs != 1 {
		t.Fatalf("another file: err=%v runs=%d", err, runs)
	}
	if after, _ := st.Head(ctx); after.Position != head.Position {
		t.Fatalf("the repeat and the mismatch wrote: head %d → %d", head.Position, after.Position)
	}
	if got := importStream(t, st, req, req.IdempotencyKey); !reflect.DeepEqual(got, []string{domain.TypeImportStarted, domain.TypeImportCompleted}) {
		t.Fatalf("receipt stream %v", got)
	}
	// Another organisation's key of the same name is its own.
	other := as(w.sme)
	other.IdempotencyKey = req.IdempotencyKey
	if _, repeat, err := svc.ImportOnce(ctx, other, "hash-b", func() (domain.ImportReport, error) { return domain.ImportReport{Rows: 1}, nil }); err != nil || repeat {
		t.Fatalf("another actor: repeat=%v err=%v", repeat, err)
	}
}

func TestImportOnceRunsAgainAfterAFailure(t *testing.T) {
	ctx := context.Background()
	st, svc, w, req := keyedWorld(t, "upload-2")
	rows := []domain.ImportRow{importRow(t, 1, "202010123456", w.uni)}
	runs, fail := 0, true
	if _, _, err := svc.ImportOnce(ctx, req, "hash-a", keyedImport(t, svc, req, rows, &runs, &fail)); err == nil || runs != 1 {
		t.Fatalf("failing run: err=%v runs=%d", err, runs)
	}
	// The key stays claimed for the file: another file is refused.
	if _, _, err := svc.ImportOnce(ctx, req, "hash-b", keyedImport(t, svc, req, rows, &runs, &fail)); !errors.Is(err, domain.ErrIdempotencyMismatch) || runs != 1 {
		t.Fatalf("another file after a failure: err=%v runs=%d", err, runs)
	}
	// The failure is recorded, so that a repeat on another node (another
	// Service, sharing the store) runs the import again at once.
	fail = false
	other := newService(t, st)
	rep, repeat, err := other.ImportOnce(ctx, req, "hash-a", keyedImport(t, other, req, rows, &runs, &fail))
	if err != nil || repeat || rep.Imported != 1 || runs != 2 {
		t.Fatalf("retry: %+v repeat=%v err=%v runs=%d", rep, repeat, err, runs)
	}
	want := []string{domain.TypeImportStarted, domain.TypeImportFailed, domain.TypeImportStarted, domain.TypeImportCompleted}
	if got := importStream(t, st, req, req.IdempotencyKey); !reflect.DeepEqual(got, want) {
		t.Fatalf("receipt stream %v, want %v", got, want)
	}
}

func TestImportOnceWithoutKeyOrRight(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	runs := 0
	run := func() (domain.ImportReport, error) { runs++; return domain.ImportReport{Rows: runs}, nil }
	for range 2 {
		if rep, repeat, err := svc.ImportOnce(ctx, as(w.uni), "hash-a", run); err != nil || repeat || rep.Rows != runs {
			t.Fatalf("without a key: %+v repeat=%v err=%v", rep, repeat, err)
		}
	}
	if runs != 2 {
		t.Fatalf("without a key the import runs every time; ran %d times", runs)
	}
	reg := as(w.reg)
	reg.IdempotencyKey = "k"
	if _, _, err := svc.ImportOnce(ctx, reg, "hash-a", run); !errors.Is(err, domain.ErrForbidden) || runs != 2 {
		t.Fatalf("a regulator: err=%v runs=%d", err, runs)
	}
	if got := importStream(t, st, reg, "k"); len(got) != 0 {
		t.Fatalf("a refused import left a receipt: %v", got)
	}
}

// serviceAt returns a service on st, a process of its own, whose clock
// reads now.
func serviceAt(t *testing.T, st domain.EventStore, now time.Time, soleWriter bool) *domain.Service {
	t.Helper()
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return now },
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() }, SoleWriter: soleWriter})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestImportOnceRepeatWhileRunningRunsNothing: a repeat of an import that
// is still running, in the same process or another, answers a conflict
// and runs nothing; once the import is done, repeats answer its report.
func TestImportOnceRepeatWhileRunningRunsNothing(t *testing.T) {
	ctx := context.Background()
	st, svc, w, req := keyedWorld(t, "upload-3")
	rows := []domain.ImportRow{importRow(t, 1, "202010123456", w.uni), importRow(t, 2, "202010654321", w.uni)}
	started, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	run := func() (domain.ImportReport, error) {
		runs.Add(1)
		close(started)
		<-release
		return svc.ImportPatents(ctx, req, rows, domain.ImportOptions{})
	}
	type answer struct {
		rep domain.ImportReport
		err error
	}
	first := make(chan answer)
	go func() {
		rep, _, err := svc.ImportOnce(ctx, req, "hash-a", run)
		first <- answer{rep, err}
	}()
	<-started
	other := serviceAt(t, st, fixedNow, false)
	for name, s := range map[string]*domain.Service{"this process": svc, "another process": other} {
		_, _, err := s.ImportOnce(ctx, req, "hash-a", func() (domain.ImportReport, error) {
			runs.Add(1)
			return domain.ImportReport{}, nil
		})
		if !errors.Is(err, domain.ErrConflict) || !strings.Contains(err.Error(), "still running") {
			t.Errorf("a repeat from %s while the import runs: %v, want a conflict", name, err)
		}
	}
	close(release)
	got := <-first
	if got.err != nil || got.rep.Imported != 2 || runs.Load() != 1 {
		t.Fatalf("the import: %+v, %v; %d runs", got.rep, got.err, runs.Load())
	}
	for _, s := range []*domain.Service{svc, other} {
		if rep, repeat, err := s.ImportOnce(ctx, req, "hash-a", run); err != nil || !repeat || !reflect.DeepEqual(rep, got.rep) {
			t.Fatalf("a repeat after the import: %+v repeat=%v err=%v, want %+v", rep, repeat, err, got.rep)
		}
	}
	want := []string{domain.TypeImportStarted, domain.TypeImportCompleted}
	if types := importStream(t, st, req, req.IdempotencyKey); !reflect.DeepEqual(types, want) {
		t.Fatalf("receipt stream %v, want %v", types, want)
	}
}

// TestImportOnceTakesOverAClaimWhoseProcessDied: a claim left unfinished
// by a process that died (no failure recorded) blocks repeats on a shared
// store until StaleImportAfter, and none on a store the process writes
// alone.
func TestImportOnceTakesOverAClaimWhoseProcessDied(t *testing.T) {
	ctx := context.Background()
	st, _, _, req := keyedWorld(t, "upload-4")
	claimDead := func(key string) {
		id := domain.CommandID(req.Actor.String(), key)
		typ, data, err := domain.DefaultCodec.Encode(domain.ImportStarted{ImportID: id, FileSHA256: "hash-a", Claimant: "a-process-that-died"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Append(ctx, domain.StreamAppend{Stream: domain.ImportStream(id), Expected: domain.ExpectNoStream,
			Events: []domain.EventData{{ID: uuid.NewString(), Type: typ, Data: data,
				Meta: domain.Metadata{RecordedAt: fixedNow, Actor: req.Actor.String(), IdempotencyKey: key, SchemaVersion: 1}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	runs := 0
	run := func() (domain.ImportReport, error) { runs++; return domain.ImportReport{Rows: 1, Imported: 1}, nil }
	claimDead(req.IdempotencyKey)
	lapses := fixedNow.Add(time.Hour).UTC().Format(time.RFC3339)
	if _, _, err := serviceAt(t, st, fixedNow.Add(59*time.Minute), false).ImportOnce(ctx, req, "hash-a", run); !errors.Is(err, domain.ErrConflict) ||
		runs != 0 || !strings.Contains(err.Error(), "or that server stopped without finishing it") || !strings.Contains(err.Error(), "or from "+lapses) {
		t.Fatalf("59 minutes after the claim: %v, %d runs; want a conflict saying when the claim lapses (%s)", err, runs, lapses)
	}
	rep, repeat, err := serviceAt(t, st, fixedNow.Add(time.Hour), false).ImportOnce(ctx, req, "hash-a", run)
	if err != nil || repeat || rep.Imported != 1 || runs != 1 {
		t.Fatalf("an hour after the claim: %+v repeat=%v err=%v, %d runs", rep, repeat, err, runs)
	}
	sole := req
	sole.IdempotencyKey = "upload-5"
	claimDead(sole.IdempotencyKey)
	if rep, _, err := serviceAt(t, st, fixedNow, true).ImportOnce(ctx, sole, "hash-a", run); err != nil || rep.Imported != 1 || runs != 2 {
		t.Fatalf("the sole writer at once: %+v, %v, %d runs", rep, err, runs)
	}
}

// TestImportOnceConcurrentRepeatsRunOnce sends one import under one key
// from many goroutines of two processes at once: it runs once, and every
// answer that is not a conflict, and the receipt, hold that run's report.
func TestImportOnceConcurrentRepeatsRunOnce(t *testing.T) {
	ctx := context.Background()
	st, svc, w, req := keyedWorld(t, "upload-6")
	other := serviceAt(t, st, fixedNow, false)
	rows := []domain.ImportRow{importRow(t, 1, "202010123456", w.uni), importRow(t, 2, "202010654321", w.uni)}
	var runs atomic.Int32
	var mu sync.Mutex
	var reports []domain.ImportReport
	var wg sync.WaitGroup
	for i := range 8 {
		s := []*domain.Service{svc, other}[i%2]
		wg.Go(func() {
			rep, _, err := s.ImportOnce(ctx, req, "hash-a", func() (domain.ImportReport, error) {
				runs.Add(1)
				time.Sleep(20 * time.Millisecond)
				return s.ImportPatents(ctx, req, rows, domain.ImportOptions{})
			})
			switch {
			case errors.Is(err, domain.ErrConflict):
			case err != nil:
				t.Errorf("import: %v", err)
			default:
				mu.Lock()
				reports = append(reports, rep)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || len(reports) == 0 {
		t.Fatalf("%d runs, %d reports", runs.Load(), len(reports))
	}
	final, repeat, err := svc.ImportOnce(ctx, req, "hash-a", nil)
	if err != nil || !repeat || final.Imported != 2 {
		t.Fatalf("the recorded report: %+v repeat=%v err=%v", final, repeat, err)
	}
	for _, rep := range reports {
		if !reflect.DeepEqual(rep, final) {
			t.Errorf("an answer %+v differs from the recorded report %+v", rep, final)
		}
	}
}

// TestImportOnceAfterManyFailures: an import that failed more times than
// one page of its receipt holds still claims, runs and records at the
// receipt's end.
func TestImportOnceAfterManyFailures(t *testing.T) {
	ctx := context.Background()
	st, svc, _, req := keyedWorld(t, "upload-7")
	failing := func() (domain.ImportReport, error) { return domain.ImportReport{}, errors.New("the store went away") }
	for i := range 40 {
		if _, _, err := svc.ImportOnce(ctx, req, "hash-a", failing); err == nil || errors.Is(err, domain.ErrConflict) {
			t.Fatalf("failing run %d: %v", i, err)
		}
	}
	rep, repeat, err := svc.ImportOnce(ctx, req, "hash-a", func() (domain.ImportReport, error) { return domain.ImportReport{Rows: 1}, nil })
	if err != nil || repeat || rep.Rows != 1 {
		t.Fatalf("after 40 failures: %+v repeat=%v err=%v", rep, repeat, err)
	}
	if again, repeat, err := svc.ImportOnce(ctx, req, "hash-a", failing); err != nil || !repeat || again.Rows != 1 {
		t.Fatalf("a repeat after the success: %+v repeat=%v err=%v", again, repeat, err)
	}
	if types := importStream(t, st, req, req.IdempotencyKey); len(types) != 82 || types[81] != domain.TypeImportCompleted {
		t.Fatalf("receipt stream of %d events ending %v", len(types), types[len(types)-1])
	}
}
