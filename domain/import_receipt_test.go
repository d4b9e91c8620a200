package domain_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

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
	fail = false
	rep, repeat, err := svc.ImportOnce(ctx, req, "hash-a", keyedImport(t, svc, req, rows, &runs, &fail))
	if err != nil || repeat || rep.Imported != 1 || runs != 2 {
		t.Fatalf("retry: %+v repeat=%v err=%v runs=%d", rep, repeat, err, runs)
	}
	if got := importStream(t, st, req, req.IdempotencyKey); !reflect.DeepEqual(got, []string{domain.TypeImportStarted, domain.TypeImportCompleted}) {
		t.Fatalf("receipt stream %v", got)
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
