package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// Benchmarks of the read side. Sizes come from the environment so that a
// run on a shared machine stays modest by default:
//
//	LEDGER_BENCH_EVENTS   events of the synthetic ledger (default 20,000)
//	LEDGER_BENCH_DIR      a folder that keeps the synthetic ledger between
//	                      runs (built there when it holds none; kept after)
//	LEDGER_BENCH_RATE     events/s of BenchmarkSustainedLag (default 5,000)
//	LEDGER_BENCH_SECONDS  its duration (default 10)
//	LEDGER_BENCH_SQL      1: BenchmarkReviewCoverage without the in-memory index
//
// e.g. LEDGER_BENCH_EVENTS=200000 go test -run '^$' -bench . -benchtime 1x ./projections
// Figures are reported with b.ReportMetric; nothing is asserted about time.

func benchEvents() int { return envInt("LEDGER_BENCH_EVENTS", 20_000) }

var benchIPC = []string{"H01M 10/0562", "H01M 4/13", "H01M 10/44", "H01L 23/367", "H01L 33/48", "G06F 17/30", "G06N 3/08",
	"A61K 31/00", "C12N 15/10", "B60L 58/12", "H04W 72/04", "F24S 10/00"}

// synth writes a synthetic ledger straight to the store: decodable events
// of every kind the projections read, in proportions a regional ledger
// might show, without going through the domain's rules (which the other
// tests cover).
type synth struct {
	rng    *rand.Rand
	unis   []string
	firms  []string
	banks  []string
	events []domain.StreamAppend
	count  int
	ids    int // the IDs handed out so far
}

// id returns a new ID with prefix: IDs grow in the order they are handed
// out, as the server's own time-ordered IDs do.
func (s *synth) id(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s%09d", prefix, s.ids)
}

// scatteredSerial returns the serial number of the i-th synthetic patent:
// spread over the seven digits in no order, as patents reach a real ledger
// (not by number). Distinct for every i below 9,999,991, a prime.
func scatteredSerial(i int) int { return 1 + i*7_919%9_999_991 }

func (s *synth) add(stream string, evs ...domain.Event) {
	sa := domain.StreamAppend{Stream: stream, Expected: domain.ExpectAny}
	for _, ev := range evs {
		typ, data, err := domain.DefaultCodec.Encode(ev)
		if err != nil {
			panic(err)
		}
		sa.Events = append(sa.Events, domain.EventData{ID: uuid.NewString(), Type: typ, Data: data,
			Meta: domain.Metadata{RecordedAt: time.Now().UTC(), Actor: "admin", SchemaVersion: 1}})
	}
	s.events = append(s.events, sa)
	s.count += len(evs)
}

// orgs adds the registrations of universities, firms (every other one an
// SME) and banks, in regions taken in turn.
func (s *synth) orgs(universities, firms, banks int) {
	s.registerOrgs(&s.unis, universities, "大学%d", domain.OrgUniversity)
	s.registerOrgs(&s.firms, firms, "企业%d", domain.OrgEnterprise)
	s.registerOrgs(&s.banks, banks, "银行%d", domain.OrgBank)
}

// onePatentOneFirm registers, through the command service on a store in
// dir, a university, an SME and a patent of the university; it returns the
// store, the service, the SME and the patent.
func onePatentOneFirm(tb testing.TB, dir string) (domain.EventStore, *domain.Service, string, domain.PatentNumber) {
	st := openStore(tb, dir)
	svc := newService(tb, st)
	uni := registerOrg(tb, svc, 1, orgSpec{"大学", domain.OrgUniversity, "440106", false})
	firm := registerOrg(tb, svc, 2, orgSpec{"企业", domain.OrgEnterprise, "440113", true})
	n := patentNumber(tb, 2020, 1, 1)
	registerPatent(tb, svc, n, "电池", []string{"H01M 10/0562"}, date("2020-01-01"), uni)
	return st, svc, firm, n
}

func (s *synth) flush(b testing.TB, st domain.EventStore) {
	for len(s.events) > 0 {
		n := min(len(s.events), 200)
		if _, err := st.Append(context.Background(), s.events[:n]...); err != nil {
			b.Fatal(err)
		}
		s.events = s.events[n:]
	}
}

func (s *synth) day() domain.Date { return date("2021-01-01").AddDays(s.rng.IntN(5 * 365)) }

func (s *synth) words(n int) string {
	out := ""
	for range n {
		out += searchWords[s.rng.IntN(len(searchWords))]
	}
	return out
}

// synthVersion names the synthetic ledger's recipe in the marker of a
// kept ledger (LEDGER_BENCH_DIR), so that a ledger written by an older
// recipe is written again rather than measured.
const synthVersion = 3

// synthLedger appends about n events and returns how many patents it made.
func synthLedger(b testing.TB, st domain.EventStore, n int) int {
	s := &synth{rng: rand.New(rand.NewPCG(1, 2))}
	s.orgs(300, 3000, 30)
	s.flush(b, st)
	patents := 0
	for s.count < n {
		s.patent(patentNumber(b, 2019+patents%2, 1, scatteredSerial(patents)))
		patents++
		if len(s.events) >= 1000 {
			s.flush(b, st)
		}
	}
	s.flush(b, st)
	return patents
}

// registerOrgs adds n organisations of a kind, named by pattern, in the
// regions taken in turn; every other enterprise is an SME.
func (s *synth) registerOrgs(ids *[]string, n int, pattern string, kind domain.OrgKind) {
	for i := range n {
		id := uuid.NewString()
		*ids = append(*ids, id)
		s.add("org-"+id, domain.OrgRegistered{OrgID: id, Name: fmt.Sprintf(pattern, i), Kind: kind,
			RegionCode: domain.RegionCode(histRegions[i%len(histRegions)]), SME: kind == domain.OrgEnterprise && i%2 == 0})
	}
}

// patent adds a patent's life: registration; usually an open-licence
// declaration under one of the fee modes, with a few licences, their
// payments and recordals, sometimes withdrawn; sometimes a negotiated
// licence, a transfer, a pledge to a bank (often released), a lapse (now
// and then restored) or a review (now and then corrected).
func (s *synth) patent(n domain.PatentNumber) {
	owner := s.unis[s.rng.IntN(len(s.unis))]
	evs := []domain.Event{domain.PatentRegistered{Number: n, Kind: domain.KindInvention, Title: "一种" + s.words(3),
		Abstract: s.words(12), PatenteeIDs: []string{owner}, IPC: []domain.IPCCode{domain.IPCCode(benchIPC[s.rng.IntN(len(benchIPC))])},
		FiledOn: date("2019-03-01"), GrantedOn: date("2020-06-01"), ExpiresOn: date("2039-02-28")}}
	if s.rng.IntN(10) < 9 {
		evs = append(evs, s.openLicensing(n, owner)...)
	}
	if s.rng.IntN(10) == 0 {
		lic := s.id("N")
		eff := s.day()
		evs = append(evs, domain.LicenseGranted{Number: n, LicenseID: lic, Type: domain.LicenseOrdinary, LicensorIDs: []string{owner},
			LicenseeID: s.firms[s.rng.IntN(len(s.firms))], EffectiveOn: eff, EndsOn: eff.AddYears(3).AddDays(-1), FeePaidFen: 2_000_000})
		evs = append(evs, s.recordal(n, lic, eff)...)
	}
	if s.rng.IntN(20) == 0 {
		to := s.firms[s.rng.IntN(len(s.firms))]
		evs = append(evs, domain.PatentTransferred{Number: n, TransferID: s.id("T"), FromIDs: []string{owner},
			ToIDs: []string{to}, EffectiveOn: s.day(), PriceFen: 1_000_000})
	}
	if s.rng.IntN(16) == 0 {
		pledge, on := s.id("P"), s.day()
		evs = append(evs, domain.PledgeRegistered{Number: n, PledgeID: pledge, PledgorID: owner, PledgeeID: s.banks[s.rng.IntN(len(s.banks))],
			Patents: []domain.PatentNumber{n}, SecuredAmountFen: domain.Fen(1+s.rng.IntN(50)) * 1_000_000_00, RegisteredOn: on,
			DebtDueOn: on.AddYears(2), OpenLicenseConsent: true})
		if s.rng.IntN(2) == 0 {
			evs = append(evs, domain.PledgeReleased{Number: n, PledgeID: pledge, ReleasedOn: on.AddDays(180 + s.rng.IntN(540)), Reason: domain.ReleaseRepaid})
		}
	}
	if s.rng.IntN(30) == 0 {
		on := s.day()
		evs = append(evs, domain.PatentStatusChanged{Number: n, Status: domain.StatusLapsed, EffectiveOn: on, Reason: "未缴年费"})
		if s.rng.IntN(3) == 0 {
			evs = append(evs, domain.PatentStatusChanged{Number: n, Status: domain.StatusActive, EffectiveOn: on.AddDays(60), Reason: "恢复权利"})
		}
	}
	if s.rng.IntN(5) == 0 {
		review := domain.ReviewRecorded{Number: n, Campaign: []string{"2024", "2025"}[s.rng.IntN(2)], ReviewerID: owner, ReviewedOn: s.day(),
			Grade: domain.Grades[s.rng.IntN(len(domain.Grades))], Disposition: domain.Dispositions[s.rng.IntN(len(domain.Dispositions))]}
		evs = append(evs, review)
		if s.rng.IntN(10) == 0 {
			review.Grade, review.Notes = domain.GradeHigh, "复核"
			evs = append(evs, domain.ReviewCorrected(review))
		}
	}
	s.add(domain.PatentStream(n), evs...)
}

// synthFees are the fee terms of synthetic declarations, by how often
// they occur: lump sums most, then instalments, an entry fee plus
// royalties, royalties alone, and free licences.
var synthFees = []domain.FeeTerms{
	{Mode: domain.FeeLumpSum}, {Mode: domain.FeeLumpSum}, {Mode: domain.FeeLumpSum}, {Mode: domain.FeeLumpSum}, {Mode: domain.FeeLumpSum},
	{Mode: domain.FeeInstalment, InstalmentFen: 40_000_00, Instalments: 3}, {Mode: domain.FeeInstalment, InstalmentFen: 15_000_00, Instalments: 4},
	{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 20_000_00, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales},
	{Mode: domain.FeeRoyalty, RoyaltyBP: 500, RoyaltyBase: domain.BaseNetSales},
	{Mode: domain.FeeFree},
}

// openLicensing returns a declaration of n with up to three open licences,
// each with what its fee mode pays (the lump sum, first instalment or
// entry fee; then the later instalments, royalties, or for half the lump
// sums a further payment) and usually its recordal, and one time in ten a
// withdrawal.
func (s *synth) openLicensing(n domain.PatentNumber, owner string) []domain.Event {
	on := s.day()
	declID := s.id("D")
	fee := synthFees[s.rng.IntN(len(synthFees))]
	if fee.Mode == domain.FeeLumpSum {
		fee.LumpSumFen = domain.Fen(1+s.rng.IntN(50)) * 100_000
	}
	evs := []domain.Event{domain.DeclarationFiled{Number: n, DeclarationID: declID, Fee: fee, TermMonths: 36,
		DeclaredOn: on, TermEndsOn: domain.TermEndsOn(on, 36), PatenteeIDs: []string{owner}}}
	first := fee.LumpSumFen + fee.InstalmentFen + fee.EntryFeeFen
	for range s.rng.IntN(4) {
		lic := s.id("L")
		eff := on.AddDays(s.rng.IntN(300))
		evs = append(evs, domain.LicenseGranted{Number: n, LicenseID: lic, Type: domain.LicenseOpen, LicensorIDs: []string{owner},
			LicenseeID: s.firms[s.rng.IntN(len(s.firms))], EffectiveOn: eff, EndsOn: domain.TermEndsOn(on, 36),
			FeePaidFen: first, DeclarationID: declID})
		switch {
		case fee.Mode == domain.FeeInstalment:
			for k := 1; k < fee.Instalments; k++ {
				evs = append(evs, domain.RoyaltyPaid{Number: n, LicenseID: lic, PaidOn: eff.AddMonths(6 * k), AmountFen: fee.InstalmentFen})
			}
		case fee.RoyaltyBP > 0 || (fee.Mode == domain.FeeLumpSum && s.rng.IntN(2) == 0):
			evs = append(evs, domain.RoyaltyPaid{Number: n, LicenseID: lic, PaidOn: eff.AddDays(90), AmountFen: 12_345, Period: "Q"})
		}
		evs = append(evs, s.recordal(n, lic, eff)...)
	}
	if s.rng.IntN(10) == 0 {
		evs = append(evs, domain.DeclarationWithdrawn{Number: n, DeclarationID: declID, EffectiveOn: on.AddDays(200), Reason: "调整"})
	}
	return evs
}

// recordal returns, for seven licences in ten, their recordal: most within
// the three months allowed, some late.
func (s *synth) recordal(n domain.PatentNumber, lic string, effective domain.Date) []domain.Event {
	if s.rng.IntN(10) >= 7 {
		return nil
	}
	return []domain.Event{domain.LicenseRecorded{Number: n, LicenseID: lic, RecordNo: "BA" + lic,
		RecordedOn: effective.AddDays(s.rng.IntN(120)), DueBy: domain.RecordalDeadline(effective)}}
}

// TestMain removes the synthetic ledger of the benchmarks, if one was made.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchLedger.dir != "" && os.Getenv("LEDGER_BENCH_DIR") == "" {
		os.RemoveAll(benchLedger.dir)
	}
	os.Exit(code)
}

// benchLedger is a synthetic ledger shared by the benchmarks of one run.
var benchLedger struct {
	once    sync.Once
	dir     string
	patents int
	events  int64
}

// sharedLedger builds (once per process) the synthetic store and its read
// models, and returns the folder holding them. With LEDGER_BENCH_DIR, a
// store written there by an earlier run of the same size is used again, and
// its read models are brought up to date (rebuilt if their schema changed).
func sharedLedger(b *testing.B) string {
	benchLedger.once.Do(func() {
		dir, keep := os.Getenv("LEDGER_BENCH_DIR"), true
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "ledger-bench-"); err != nil {
				b.Fatal(err)
			}
			keep = false
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		benchLedger.dir = dir
		marker := filepath.Join(dir, fmt.Sprintf("built-v%d-%d", synthVersion, benchEvents()))
		data, err := os.ReadFile(marker)
		if !keep || err != nil || len(data) == 0 {
			writeBenchStore(b, dir)
			if keep {
				if err := os.WriteFile(marker, fmt.Appendf(nil, "%d %d", benchLedger.events, benchLedger.patents), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		} else if _, err := fmt.Sscan(string(data), &benchLedger.events, &benchLedger.patents); err != nil {
			b.Fatal(err)
		}
		catchUpBenchLedger(b, dir)
	})
	if benchLedger.events == 0 {
		b.Fatal("no synthetic ledger")
	}
	return benchLedger.dir
}

// writeBenchStore writes the synthetic store into dir, replacing any store
// and read models there.
func writeBenchStore(b *testing.B, dir string) {
	for _, name := range []string{"events.db", FileName} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(dir, name+suffix)); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
		}
	}
	st := openStore(b, dir)
	start := time.Now()
	benchLedger.patents = synthLedger(b, st, benchEvents())
	h, _ := st.Head(context.Background())
	benchLedger.events = h.Position
	b.Logf("synthetic ledger: %d events, %d patents, written in %s", h.Position, benchLedger.patents, time.Since(start))
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
}

// catchUpBenchLedger brings the read models in dir up to its store.
func catchUpBenchLedger(b *testing.B, dir string) {
	st := openStore(b, dir)
	defer st.Close()
	db, err := OpenDB(context.Background(), filepath.Join(dir, FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r, err := NewRunner(context.Background(), db, st, RunnerOptions{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	requireAtHead(b, r)
}

// requireAtHead fails the benchmark unless every projection of r applied
// the whole synthetic ledger: one that stopped on an event would make the
// figures meaningless.
func requireAtHead(b *testing.B, r *Runner) {
	for _, st := range r.Statuses() {
		if !st.Healthy || st.Checkpoint != benchLedger.events {
			b.Fatalf("projection %s stopped at %d of %d: %s", st.Name, st.Checkpoint, benchLedger.events, st.Error)
		}
	}
}

// BenchmarkRebuild replays the synthetic ledger into empty read models and
// reports events per second: every projection, each one alone, and a
// projection that applies nothing (what reading and decoding the log
// cost).
func BenchmarkRebuild(b *testing.B) {
	dir := sharedLedger(b)
	st := openStore(b, dir)
	for _, c := range []struct {
		name        string
		projections []Projection
	}{{"all", All()}, {ListingsName, []Projection{Listings{}}}, {TalliesName, []Projection{Tallies{}}}, {"read-only", []Projection{readOnly{}}}} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				db := openDB(b, b.TempDir())
				r, err := NewRunner(context.Background(), db, st, RunnerOptions{Logger: quietLogger(), Projections: c.projections})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := r.Rebuild(context.Background(), nil, nil); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				requireAtHead(b, r)
			}
			b.ReportMetric(float64(benchLedger.events)*float64(b.N)/total.Seconds(), "events/s")
			b.ReportMetric(float64(benchLedger.events), "events")
		})
	}
}

// BenchmarkRebuildWriteFloor measures the least any rebuild must spend
// writing: it copies the final rows of the shared ledger's read models
// into an empty file the cheapest way SQLite allows (one transaction,
// INSERT … SELECT in key order, no statement per row from Go), feeds the
// search index in rowid order, then creates the secondary indexes with a
// sorting thread per core. No event is read or applied, so a rebuild can
// be no faster than this on the same machine. It runs twice: in WAL mode,
// as the read models are kept, and with no journal at all, the floor of a
// rebuild into a fresh file that nobody reads until it is complete.
func BenchmarkRebuildWriteFloor(b *testing.B) {
	for _, journal := range []string{"WAL", "OFF"} {
		b.Run("journal="+journal, func(b *testing.B) { benchmarkWriteFloor(b, journal) })
	}
}

// benchmarkWriteFloor is BenchmarkRebuildWriteFloor with the journal mode
// given.
func benchmarkWriteFloor(b *testing.B, journal string) {
	dir := sharedLedger(b)
	ctx := context.Background()
	var total time.Duration
	for range b.N {
		db := openDB(b, b.TempDir())
		setUp := []string{"PRAGMA journal_mode = " + journal, "PRAGMA synchronous = OFF",
			fmt.Sprintf("PRAGMA cache_size = %d", rebuildCacheKiB), fmt.Sprintf("PRAGMA threads = %d", runtime.NumCPU())}
		var indexes []string
		for _, p := range All() {
			tables, idx := splitSchema(p.Schema())
			setUp, indexes = append(setUp, tables...), append(indexes, idx...)
		}
		for _, stmt := range setUp {
			if _, err := db.conn.ExecContext(ctx, stmt); err != nil {
				b.Fatal(err)
			}
		}
		var mode string
		if err := db.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, journal) {
			b.Fatalf("journal mode %q, want %s (%v)", mode, journal, err)
		}
		if _, err := db.conn.ExecContext(ctx, "ATTACH ? AS built", filepath.Join(dir, FileName)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		err := db.Update(ctx, func(tx *Tx) error {
			for _, p := range All() {
				for _, table := range slices.DeleteFunc(p.Tables(), func(t string) bool { return t == "lst_search" }) {
					if err := tx.Exec("INSERT INTO main." + table + " SELECT * FROM built." + table); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		docs, err := indexedPatents(db)
		if err != nil {
			b.Fatal(err)
		}
		err = db.Update(ctx, func(tx *Tx) error {
			for _, d := range docs {
				if err := tx.Exec("INSERT INTO lst_search (rowid, title, abstract, codes) VALUES (?, ?, ?, ?)",
					d.id, IndexTokens(d.title), IndexTokens(d.abstract), CodeTokens(d.codes, d.locarno)); err != nil {
					return err
				}
			}
			for _, stmt := range indexes {
				if err := tx.Exec(stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.pragma(ctx, "wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s")
	b.ReportMetric(float64(benchLedger.events)*float64(b.N)/total.Seconds(), "events/s")
}

// indexedPatent is what the search index holds of a patent.
type indexedPatent struct {
	id                       int64
	title, abstract, locarno string
	codes                    []domain.IPCCode
}

// indexedPatents returns the patents of db's search index, in rowid order.
func indexedPatents(db *DB) ([]indexedPatent, error) {
	rows, err := db.Reader().Query("SELECT id, title, abstract, ipc, locarno FROM lst_patents WHERE indexed = 1 ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []indexedPatent
	for rows.Next() {
		var d indexedPatent
		var ipc string
		if err := rows.Scan(&d.id, &d.title, &d.abstract, &ipc, &d.locarno); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ipc), &d.codes); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// readOnly is a projection with no tables that applies nothing.
type readOnly struct{}

// Name implements Projection.
func (readOnly) Name() string { return "read-only" }

// Schema implements Projection.
func (readOnly) Schema() []string { return nil }

// Tables implements Projection.
func (readOnly) Tables() []string { return nil }

// Apply implements Projection.
func (readOnly) Apply(*Tx, domain.RecordedEvent, domain.Event) error { return nil }

// quantiles runs f n times and reports the 50th and 99th percentile.
func quantiles(b *testing.B, n int, f func(i int)) {
	lat := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		f(i)
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkListingSearch asks for a two-character Chinese word within an
// IPC subclass, first page, and reports latency and the read-model size per
// listed patent.
func BenchmarkListingSearch(b *testing.B) {
	dir := sharedLedger(b)
	db := openDB(b, dir)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	warmUp := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	queries := []string{"电池", "芯片", "药物", "系统", "通信"}
	var total int64
	b.ResetTimer()
	quantiles(b, max(b.N, 200), func(i int) {
		page, err := db.Listings(context.Background(), ListingQuery{Today: date("2024-07-01"), Text: queries[i%len(queries)],
			IPCPrefix: "H01M", Limit: 20})
		if err != nil {
			b.Fatal(err)
		}
		total = page.Total
	})
	b.StopTimer()
	var listed int64
	if err := db.Reader().QueryRow(`SELECT COUNT(*) FROM lst_declarations WHERE declared_on <= '2024-07-01' AND last_day >= '2024-07-01'`).Scan(&listed); err != nil {
		b.Fatal(err)
	}
	if _, err := db.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(warmUp.Milliseconds()), "warm-up-ms")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(listed), "index-bytes/listed")
	b.ReportMetric(float64(listed), "listed")
	b.ReportMetric(float64(total), "matches")
	b.ReportMetric(float64(fi.Size())/float64(benchLedger.patents), "file-bytes/patent")
	b.ReportMetric(float64(fi.Size())/float64(listed), "file-bytes/listed")
}

// BenchmarkListingSearchInSQL asks BenchmarkListingSearch's queries (a
// two-character Chinese word and an IPC subclass) of SQLite itself, as a
// server with --memory-indexes=false, or one still loading its indexes,
// answers them: FTS5 ranks the word's matches, the filter is matched in a
// subquery.
func BenchmarkListingSearchInSQL(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	queries := []string{"电池", "芯片", "药物", "系统", "通信"}
	var total int64
	b.ResetTimer()
	quantiles(b, max(b.N, 10), func(i int) {
		page, err := db.Listings(context.Background(), ListingQuery{Today: date("2024-07-01"), Text: queries[i%len(queries)],
			IPCPrefix: "H01M", Limit: 20})
		if err != nil {
			b.Fatal(err)
		}
		total = page.Total
	})
	b.ReportMetric(float64(total), "matches")
}

// BenchmarkPatenteeRegions reads the regions the search page suggests, on
// every view: from SQLite (read), and kept with the listings' checkpoint
// (kept).
func BenchmarkPatenteeRegions(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	ctx := context.Background()
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := loadSnapshot(ctx, db.read, readPatenteeRegions); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.PatenteeRegions(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListingSearchWithoutFilter asks for a two-character Chinese
// word alone, first page: the commonest search, with every match to rank.
func BenchmarkListingSearchWithoutFilter(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	queries := []string{"电池", "芯片", "药物", "系统", "通信"}
	var matches int64
	b.ResetTimer()
	quantiles(b, max(b.N, 200), func(i int) {
		page, err := db.Listings(context.Background(), ListingQuery{Today: date("2024-07-01"), Text: queries[i%len(queries)], Limit: 20})
		if err != nil {
			b.Fatal(err)
		}
		matches += page.Total
	})
	b.ReportMetric(float64(matches)/float64(max(b.N, 200)), "matches/query")
}

// BenchmarkListingSearchNextPage asks for the second page of relevance
// searches, with and without an IPC filter: a relevance cursor first reads
// the current score of the listing it continues after.
func BenchmarkListingSearchNextPage(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, ipc := range []string{"H01M", ""} {
		b.Run("ipc="+ipc, func(b *testing.B) {
			var queries []ListingQuery
			for _, text := range []string{"电池", "芯片", "药物", "系统", "通信"} {
				q := ListingQuery{Today: date("2024-07-01"), Text: text, IPCPrefix: ipc, Limit: 20}
				first, err := db.Listings(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				if first.NextCursor != nil {
					q.Cursor = *first.NextCursor
					queries = append(queries, q)
				}
			}
			if len(queries) == 0 {
				b.Skip("no search has a second page")
			}
			b.ResetTimer()
			quantiles(b, max(b.N, 200), func(i int) {
				if _, err := db.Listings(context.Background(), queries[i%len(queries)]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkDealsTally asks for three years of deals per month.
func BenchmarkDealsTally(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	start := time.Now()
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	warmUp := time.Since(start)
	var deals int64
	b.ResetTimer()
	quantiles(b, max(b.N, 100), func(int) {
		t, err := db.Tally(context.Background(), TallyQuery{Subject: Deals, Period: Month, From: date("2022-01-01"), To: date("2024-12-31")})
		if err != nil {
			b.Fatal(err)
		}
		deals = t.Total.Values[0]
	})
	b.ReportMetric(float64(deals), "deals")
	b.ReportMetric(float64(warmUp.Milliseconds()), "warm-up-ms")
}

// BenchmarkFilteredTallies asks for three years of deals, and of
// declarations, per month with each filter a regulator uses: a city, a
// district, an IPC subclass, a patent kind, SME licensees (deals only),
// one university.
func BenchmarkFilteredTallies(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	var uni string
	if err := db.Reader().QueryRow("SELECT id FROM tly_orgs WHERE kind = 'university' ORDER BY id LIMIT 1").Scan(&uni); err != nil {
		b.Fatal(err)
	}
	sme := true
	filters := []struct {
		name   string
		filter func(*TallyQuery)
	}{
		{"city", func(q *TallyQuery) { q.Region = "4401" }},
		{"district", func(q *TallyQuery) { q.Region = "440106" }},
		{"ipc", func(q *TallyQuery) { q.IPCPrefix = "H01M" }},
		{"kind", func(q *TallyQuery) { q.Kind = domain.KindInvention }},
		{"sme", func(q *TallyQuery) { q.SME = &sme }},
		{"patentee", func(q *TallyQuery) { q.PatenteeID = uni }},
	}
	for _, subject := range []string{Deals, Declarations} {
		for _, c := range filters {
			if c.name == "sme" && subject != Deals {
				continue
			}
			b.Run(subject+"/"+c.name, func(b *testing.B) {
				q := TallyQuery{Subject: subject, Period: Month, From: date("2022-01-01"), To: date("2024-12-31")}
				c.filter(&q)
				var counted int64
				quantiles(b, max(b.N, 100), func(int) {
					t, err := db.Tally(context.Background(), q)
					if err != nil {
						b.Fatal(err)
					}
					counted = t.Total.Values[0]
				})
				b.ReportMetric(float64(counted), "counted")
			})
		}
	}
}

// BenchmarkOtherTallies asks for three years per month of every tally but
// deals (fee reductions per year), from the in-memory index.
func BenchmarkOtherTallies(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, subject := range append(slices.Clone(Subjects[1:]), ExtraSubjects...) {
		b.Run(subject, func(b *testing.B) {
			q := TallyQuery{Subject: subject, Period: Month, From: date("2022-01-01"), To: date("2024-12-31")}
			if subject == FeeReductions {
				q.Period = Year
			}
			quantiles(b, max(b.N, 20), func(int) {
				if _, err := db.Tally(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkDealsByRegion groups three years of deals by district, city and
// province, from the in-memory index and in SQL.
func BenchmarkDealsByRegion(b *testing.B) {
	dir := sharedLedger(b)
	warm := openDB(b, dir)
	if err := warm.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		db   *DB
	}{{"memory", warm}, {"sql", openDB(b, dir)}} {
		for _, digits := range []int{6, 4, 2} {
			b.Run(fmt.Sprintf("%s-%d", c.name, digits), func(b *testing.B) {
				q := RegionDealsQuery{From: date("2022-01-01"), To: date("2024-12-31"), Digits: digits}
				quantiles(b, max(b.N, 20), func(int) {
					if _, err := c.db.DealsByRegion(context.Background(), q); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkReviewCoverage computes the review coverage of campaign 2024 at
// the end of 2024, for every university and for one city's, from the
// in-memory index (with LEDGER_BENCH_SQL=1, in SQL).
func BenchmarkReviewCoverage(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if os.Getenv("LEDGER_BENCH_SQL") != "1" {
		if err := db.WarmUp(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	for _, region := range []string{"", "4401"} {
		b.Run("region="+region, func(b *testing.B) {
			q := ReviewCoverageQuery{Campaign: "2024", AsOf: date("2024-12-31"), Region: region}
			quantiles(b, max(b.N, 10), func(int) {
				if _, err := db.ReviewCoverage(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkRankings ranks the patentees by each metric over three years.
func BenchmarkRankings(b *testing.B) {
	db := openDB(b, sharedLedger(b))
	if err := db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, metric := range []string{MetricLicenses, MetricFees, MetricDeclared} {
		b.Run(metric, func(b *testing.B) {
			q := RankingQuery{Metric: metric, From: date("2022-01-01"), To: date("2024-12-31")}
			quantiles(b, max(b.N, 20), func(int) {
				if _, err := db.Rankings(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkProjectionLag appends licences through the command service from
// four writers while the live pipeline follows, and reports how long each
// write takes to be readable (WaitFor on every projection) and the largest
// lag in events seen.
func BenchmarkProjectionLag(b *testing.B) {
	dir := b.TempDir()
	st, svc, firm, n := onePatentOneFirm(b, dir)
	p := startPipeline(b, st, dir)
	var maxLag atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			h, _ := st.Head(context.Background())
			for _, s := range p.Statuses() {
				if lag := h.Position - s.Checkpoint; lag > maxLag.Load() {
					maxLag.Store(lag)
				}
			}
		}
	}()
	writes := max(b.N, 400)
	lat := make([]time.Duration, writes)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < writes; i = int(next.Add(1)) - 1 {
				res, err := svc.GrantLicense(context.Background(), admin, n, domain.GrantLicense{Type: domain.LicenseOrdinary,
					LicenseeID: firm, EffectiveOn: date("2024-01-01").AddDays(i % 300), EndsOn: date("2030-01-01"), FeePaidFen: 100})
				if err != nil {
					b.Error(err)
					return
				}
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				if err := p.WaitFor(ctx, res.Position); err != nil {
					b.Error(err)
				}
				cancel()
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled
	slices.Sort(lat)
	b.ReportMetric(float64(writes)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(lat[writes/2].Microseconds())/1000, "p50-visible-ms")
	b.ReportMetric(float64(lat[writes*99/100].Microseconds())/1000, "p99-visible-ms")
	b.ReportMetric(float64(maxLag.Load()), "max-lag-events")
}

// BenchmarkSustainedLag appends realistic patent histories straight to the
// store at a steady rate (LEDGER_BENCH_RATE events/s, default 5,000, for
// LEDGER_BENCH_SECONDS, default 10) while the live pipeline follows, and
// reports the rate reached and how long each append takes to be applied by
// every projection (p50, p99, max).
func BenchmarkSustainedLag(b *testing.B) {
	rate, seconds := envInt("LEDGER_BENCH_RATE", 5000), envInt("LEDGER_BENCH_SECONDS", 10)
	dir := b.TempDir()
	st := openStore(b, dir)
	s := &synth{rng: rand.New(rand.NewPCG(3, 4))}
	s.orgs(30, 270, 5)
	s.flush(b, st)
	p := startPipeline(b, st, dir)
	waitHead(b, p, st)
	if err := p.db.WarmUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	const tick = 20 * time.Millisecond
	perTick := rate * int(tick) / int(time.Second)
	b.ResetTimer()
	start, patents, written := time.Now(), 0, s.count
	for next := start; time.Since(start) < time.Duration(seconds)*time.Second; next = next.Add(tick) {
		time.Sleep(time.Until(next))
		for s.count < written+perTick {
			s.patent(patentNumber(b, 2019+patents%2, 1, patents+1))
			patents++
		}
		sent := time.Now()
		res, err := st.Append(context.Background(), s.events...)
		if err != nil {
			b.Fatal(err)
		}
		s.events, written = s.events[:0], s.count
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.WaitFor(ctx, res.Position); err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			lat = append(lat, time.Since(sent))
			mu.Unlock()
		}()
	}
	elapsed := time.Since(start)
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(written-300)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-lag-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-lag-ms")
}

// envInt returns the positive integer in the environment variable name, or
// def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestSyntheticLedgerHasEveryEventKind checks that the benchmarks'
// synthetic ledger holds every type of event the projections read, so
// that their figures cover each way of applying one.
func TestSyntheticLedgerHasEveryEventKind(t *testing.T) {
	st := openStore(t, t.TempDir())
	synthLedger(t, st, 5_000)
	seen := map[string]int{}
	eachEvent(t, st, func(e domain.RecordedEvent, _ domain.Event) { seen[e.Type]++ })
	for _, typ := range []string{domain.TypeOrgRegistered, domain.TypePatentRegistered, domain.TypePatentStatusChanged,
		domain.TypeDeclarationFiled, domain.TypeDeclarationWithdrawn, domain.TypeLicenseGranted, domain.TypeLicenseRecorded,
		domain.TypeRoyaltyPaid, domain.TypePatentTransferred, domain.TypePledgeRegistered, domain.TypePledgeReleased,
		domain.TypeReviewRecorded, domain.TypeReviewCorrected} {
		if seen[typ] == 0 {
			t.Errorf("no %s in the synthetic ledger: %v", typ, seen)
		}
	}
}
