package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
)

// readModelQueries is what rebuildSnapshot asks of the read models; both
// the live pipeline and a read-model file answer it.
type readModelQueries interface {
	Listings(ctx context.Context, q projections.ListingQuery) (projections.ListingPage, error)
	Tally(ctx context.Context, q projections.TallyQuery) (projections.Tally, error)
	Rankings(ctx context.Context, q projections.RankingQuery) ([]projections.Ranking, error)
}

// rebuildSnapshot answers many listing, tally and ranking queries and
// returns the answers as JSON, byte for byte as the API would send them.
func rebuildSnapshot(t *testing.T, rm readModelQueries) []byte {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	emit := func(v any, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewEncoder(&buf).Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	today := domain.NewDate(2025, 6, 30)
	for _, q := range []projections.ListingQuery{{Today: today, Limit: 100}, {Today: today, Text: "电池", Limit: 7},
		{Today: today, Sort: projections.SortFee, IPCPrefix: "H01", Limit: 100}, {Today: domain.NewDate(2024, 1, 1), Region: "4401"}} {
		for range 20 {
			page, err := rm.Listings(ctx, q)
			emit(page, err)
			if page.NextCursor == nil {
				break
			}
			q.Cursor = *page.NextCursor
		}
	}
	for _, subject := range projections.Subjects {
		for _, p := range projections.Periods {
			q := projections.TallyQuery{Subject: subject, Period: p, From: domain.NewDate(2023, 1, 1), To: domain.NewDate(2025, 12, 31)}
			emit(rm.Tally(ctx, q))
			q.Region = "4401"
			emit(rm.Tally(ctx, q))
		}
	}
	for _, m := range []string{projections.MetricLicenses, projections.MetricFees, projections.MetricDeclared} {
		emit(rm.Rankings(ctx, projections.RankingQuery{Metric: m, Limit: projections.MaxRankingLimit}))
	}
	return buf.Bytes()
}

func TestRebuildAnswersByteForByteLikeTheLiveReadModels(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: uuid.NewString,
		Clock: func() time.Time { return time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC) }}) // after the demo's last day
	if err != nil {
		t.Fatal(err)
	}
	// The read models run before the ledger is written, so that they are
	// built live, event by event through the bus, and not by the replay a
	// start makes of events already in the store.
	reads, err := projections.Start(ctx, st, filepath.Join(dir, projections.FileName),
		projections.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadDemoSeeded(ctx, svc, 7, "", io.Discard); err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := reads.WaitFor(waitCtx, head.Position); err != nil {
		t.Fatal(err)
	}
	live := rebuildSnapshot(t, reads)
	if !bytes.Contains(live, []byte(`"items":[{"number"`)) || !bytes.Contains(live, []byte(`"patentee_id"`)) {
		t.Fatalf("the demo ledger lists nothing or ranks no one:\n%.2000s", live)
	}
	if err := reads.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"rebuild", "--data", dir}, {"rebuild", projections.TalliesName, "--data", dir}} {
		code, out := runLedger(t, args...)
		if code != 0 || !strings.Contains(out, "rebuilt ") || !strings.Contains(out, " events in ") {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		db, err := projections.OpenDB(ctx, filepath.Join(dir, projections.FileName))
		if err != nil {
			t.Fatal(err)
		}
		rebuilt := rebuildSnapshot(t, db)
		db.Close()
		if !bytes.Equal(live, rebuilt) {
			t.Fatalf("%v: the rebuilt answers differ from the live ones", args)
		}
	}
}

// TestRebuildRefusesAnUnknownReadModel: a name that is no read model is a
// usage mistake (exit 2, the known names listed), found before any store
// is opened or folder created.
func TestRebuildRefusesAnUnknownReadModel(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 3)
	code, out := runLedger(t, "rebuild", "--data", dir, "gossip")
	if code != 2 || !strings.Contains(out, `ledger rebuild: no read model "gossip" (have listings, tallies)`) {
		t.Fatalf("exit %d: %s", code, out)
	}
	missing := filepath.Join(t.TempDir(), "data")
	if code, out := runLedger(t, "rebuild", "--data", missing, "listing"); code != 2 {
		t.Fatalf("unknown name, no data folder: exit %d: %s", code, out)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("the data folder was created: %v", err)
	}
	if code, out := runLedger(t, "rebuild", "--data", t.TempDir()); code != 1 {
		t.Fatalf("rebuild without a store: exit %d: %s", code, out)
	}
}

// TestRebuildOfADamagedReadModelFileSaysWhatMendsIt: a read-model file
// that is no database fails the rebuild (exit 1) with what mends it, since
// it holds nothing the store does not: delete it and rebuild; which then
// works.
func TestRebuildOfADamagedReadModelFileSaysWhatMendsIt(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, 3)
	path := filepath.Join(dir, projections.FileName)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runLedger(t, "rebuild", "--data", dir)
	if want := "is damaged; it holds nothing the event store does not: delete it and run ledger rebuild again"; code != 1 || !strings.Contains(out, want) {
		t.Fatalf("exit %d: %s; want exit 1 and %q", code, out, want)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if code, out := runLedger(t, "rebuild", "--data", dir); code != 0 {
		t.Fatalf("after deleting it: exit %d: %s", code, out)
	}
}
