package projections

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// testNow is the injected clock of the tests: 2026-01-02 in Shanghai, after
// the last day the histories use (2025-12-31), since recordals, payments,
// pledges, reviews and status changes may not be dated in the future.
var testNow = time.Date(2026, 1, 2, 2, 30, 0, 0, time.UTC)

var admin = domain.Request{Actor: domain.AdminActor}

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), sqlite.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t testing.TB, st domain.EventStore) *domain.Service {
	t.Helper()
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return testNow }, NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func openDB(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := OpenDB(context.Background(), filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// quietLogger drops logs below errors.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{}, &slog.HandlerOptions{Level: slog.LevelError + 4}))
}

type testWriter struct{}

func (testWriter) Write(p []byte) (int, error) { return len(p), nil }

// fastRetries are runner options that give up quickly.
func fastRetries() RunnerOptions {
	return RunnerOptions{Logger: quietLogger(), MaxRetries: 2, RetryInterval: time.Millisecond}
}

// startPipeline starts the embedded pipeline on store with its read models
// in dir.
func startPipeline(t testing.TB, st domain.EventStore, dir string) *Pipeline {
	t.Helper()
	p, err := Start(context.Background(), st, filepath.Join(dir, FileName), Options{Logger: quietLogger(), Runner: fastRetries()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitHead waits until every projection has applied the store's head.
func waitHead(t testing.TB, p *Pipeline, st domain.EventStore) {
	t.Helper()
	h, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitFor(ctx, h.Position); err != nil {
		t.Fatalf("wait for position %d: %v (%+v)", h.Position, err, p.Statuses())
	}
}

func date(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// patentNumber returns a valid number of the given year, kind digit (1
// invention, 2 utility model, 3 design) and serial.
func patentNumber(t testing.TB, year, kind, serial int) domain.PatentNumber {
	t.Helper()
	digits := fmt.Sprintf("%04d%d%07d", year, kind, serial)
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	return domain.PatentNumber("ZL" + digits + "." + string(c))
}

// creditCode returns a valid unified social credit code for serial.
func creditCode(t testing.TB, serial int) domain.CreditCode {
	t.Helper()
	body := fmt.Sprintf("91440101MA%07d", serial)
	c, err := domain.CreditCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return domain.CreditCode(body + string(c))
}

// orgSpec describes an organisation to register.
type orgSpec struct {
	name   string
	kind   domain.OrgKind
	region string
	sme    bool
}

// registerOrg registers an organisation as the admin and returns its ID.
func registerOrg(t testing.TB, svc *domain.Service, serial int, o orgSpec) string {
	t.Helper()
	res, err := svc.RegisterOrg(context.Background(), admin, domain.RegisterOrg{Name: o.name, Kind: o.kind,
		RegionCode: domain.RegionCode(o.region), CreditCode: creditCode(t, serial), SME: o.sme})
	if err != nil {
		t.Fatalf("register %s: %v", o.name, err)
	}
	return res.ID
}

// registerPatent registers an invention of the patentees filed on filed.
func registerPatent(t testing.TB, svc *domain.Service, n domain.PatentNumber, title string, ipc []string, filed domain.Date, patentees ...string) {
	t.Helper()
	_, err := svc.RegisterPatent(context.Background(), admin, domain.RegisterPatent{Number: string(n), Title: title,
		PatenteeIDs: patentees, IPC: ipc, FiledOn: filed, GrantedOn: filed.AddDays(400)})
	if err != nil {
		t.Fatalf("register %s: %v", n, err)
	}
}

// declare declares a patent open for a lump sum and returns the result.
func declare(t testing.TB, svc *domain.Service, n domain.PatentNumber, on domain.Date, months int, fee domain.FeeTerms) domain.Result {
	t.Helper()
	res, err := svc.FileDeclaration(context.Background(), admin, n, domain.FileDeclaration{Fee: fee, TermMonths: months, DeclaredOn: on})
	if err != nil {
		t.Fatalf("declare %s: %v", n, err)
	}
	return res
}

func lumpSum(fen domain.Fen) domain.FeeTerms {
	return domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: fen}
}

// eachEvent calls visit with every event of the store's log, in order,
// decoded.
func eachEvent(t testing.TB, st domain.EventStore, visit func(e domain.RecordedEvent, ev domain.Event)) {
	t.Helper()
	for pos := int64(0); ; {
		events, err := st.ReadAll(context.Background(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			return
		}
		for _, e := range events {
			ev, err := domain.DefaultCodec.Decode(e.Type, e.Data)
			if err != nil {
				t.Fatalf("position %d: %v", e.Position, err)
			}
			visit(e, ev)
			pos = e.Position
		}
	}
}
