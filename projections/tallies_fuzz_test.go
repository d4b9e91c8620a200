package projections

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// FuzzTallies sends arbitrary tallies, rankings, deals by region and review
// coverages (subject, period, range, filters, level, campaign, order,
// limit) to the read models of a random history: each is either answered
// or refused with invalid_argument (never another error, never a panic),
// and what the in-memory tally index answers equals what SQLite answers.
func FuzzTallies(f *testing.F) {
	dir := f.TempDir()
	st := openStore(f, dir)
	h := newHistory(f, newService(f, st), 11)
	h.run(150)
	recordSome(f, h)
	changeSomeStatuses(h, 20)
	rebuildInto(f, dir, st)
	db := openDB(f, dir)
	if err := db.WarmUp(context.Background()); err != nil {
		f.Fatal(err)
	}
	orgs := append(append([]string{""}, h.unis...), h.firms...)
	subjects := append(append([]string{}, Subjects...), ExtraSubjects...)
	f.Add(uint8(0), "month", int16(0), int16(1000), "", "", uint8(0), "", "", int8(0), "", uint8(0), "2024")
	f.Add(uint8(6), "year", int16(-400), int16(2000), "44", "H01M", uint8(1), "open", "invention", int8(1), "fees_fen", uint8(3), "2025")
	f.Add(uint8(3), "week", int16(300), int16(320), "4401", "G06", uint8(2), "sole", "design", int8(-1), "conversion_bp", uint8(1), "")
	f.Add(uint8(8), "quarter", int16(900), int16(100), "x", "!", uint8(40), "perpetual", "plant", int8(0), "nothing", uint8(200), "20 24")
	f.Add(uint8(1), "month", int16(0), int16(1200), "", "", uint8(0), "", "", int8(0), "share", uint8(2), "2024")
	f.Add(uint8(2), "year", int16(-100), int16(1400), "", "", uint8(1), "", "", int8(0), "licenses", uint8(6), "2025")
	f.Add(uint8(4), "month", int16(200), int16(900), "", "", uint8(3), "", "", int8(0), "declared", uint8(12), "2023")
	f.Fuzz(func(t *testing.T, subject uint8, period string, from, to int16, region, ipc string, patentee uint8,
		typ, kind string, sme int8, metric string, limit uint8, campaign string) {
		ctx := context.Background()
		base := date("2022-01-01")
		q := TallyQuery{Subject: subjects[int(subject)%len(subjects)], Period: Period(period),
			From: base.AddDays(int(from)), To: base.AddDays(int(to)), Region: region, IPCPrefix: ipc,
			PatenteeID: orgs[int(patentee)%len(orgs)], Type: domain.LicenseType(typ), Kind: domain.PatentKind(kind)}
		if sme != 0 {
			q.SME = new(sme > 0)
		}
		if _, err := db.Tally(ctx, q); err != nil {
			refused(t, q, err)
		} else if db.tallies.holds(q.Subject) {
			if inMemory, inSQL := bothWays(t, db, q); !reflect.DeepEqual(inMemory, inSQL) {
				t.Fatalf("%+v:\nmemory %s\nSQL    %s", q, mustJSON(inMemory), mustJSON(inSQL))
			}
		}
		rq := RankingQuery{Metric: metric, From: q.From, To: q.To, Limit: int(limit)}
		if _, err := db.Rankings(ctx, rq); err != nil {
			refused(t, rq, err)
		} else if inMemory, inSQL := rankedBothWays(t, db, rq); !reflect.DeepEqual(inMemory, inSQL) {
			t.Fatalf("%+v:\nmemory %+v\nSQL    %+v", rq, inMemory, inSQL)
		}
		dq := RegionDealsQuery{From: q.From, To: q.To, Digits: int(limit % 8), Limit: int(patentee % 4)}
		if _, err := db.DealsByRegion(ctx, dq); err != nil {
			refused(t, dq, err)
		} else if inMemory, inSQL := regionDealsBothWays(t, db, dq); !reflect.DeepEqual(inMemory, inSQL) {
			t.Fatalf("%+v:\nmemory %+v\nSQL    %+v", dq, inMemory, inSQL)
		}
		cq := ReviewCoverageQuery{Campaign: campaign, AsOf: q.To, PatenteeID: q.PatenteeID, Region: region, Sort: metric, Limit: int(limit)}
		if _, err := db.ReviewCoverage(ctx, cq); err != nil {
			refused(t, cq, err)
		} else if inMemory, inSQL := coverageBothWays(t, db, cq); !reflect.DeepEqual(inMemory, inSQL) {
			t.Fatalf("%+v:\nmemory %+v\nSQL    %+v", cq, inMemory, inSQL)
		}
	})
}

// refused fails unless err is an invalid_argument refusal of query.
func refused(t *testing.T, query any, err error) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument {
		t.Fatalf("%+v: %v", query, err)
	}
}

// regionDealsBothWays answers q from the in-memory tally index and in SQL,
// in one read.
func regionDealsBothWays(t *testing.T, db *DB, q RegionDealsQuery) (inMemory, inSQL []RegionDeals) {
	t.Helper()
	inOneRead(t, db, func(position int64) bool {
		return db.tallies.readAt(position, func(f *tallyFacts) { inMemory = f.dealsByRegion(q) })
	}, func(ctx context.Context, tx *sql.Tx) (err error) {
		inSQL, err = regionDealsInSQL(ctx, tx, q)
		return err
	})
	return inMemory, inSQL
}
