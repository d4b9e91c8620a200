package domain_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// seedEvents appends the events of each stream in batches of about 1,000
// events straight to the store: benchmark set-up, not what is measured.
func seedEvents(b *testing.B, st domain.EventStore, streams map[string][]domain.Event, order []string) {
	b.Helper()
	ctx := context.Background()
	var batch []domain.StreamAppend
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := st.Append(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		batch, size = nil, 0
	}
	for _, stream := range order {
		sa := domain.StreamAppend{Stream: stream, Expected: domain.ExpectAny}
		for _, e := range streams[stream] {
			typ, data, err := domain.DefaultCodec.Encode(e)
			if err != nil {
				b.Fatal(err)
			}
			sa.Events = append(sa.Events, domain.EventData{ID: uuid.NewString(), Type: typ, Data: data,
				Meta: domain.Metadata{RecordedAt: fixedNow, Actor: "admin", SchemaVersion: 1}})
		}
		batch = append(batch, sa)
		size += len(sa.Events)
		if size >= 1000 {
			flush()
		}
	}
	flush()
}

// declaredPatents seeds n patents of one university, each with an open
// declaration for a lump sum of ¥50,000, and returns numbers and
// declaration IDs.
func declaredPatents(b *testing.B, st domain.EventStore, uni string, n int) ([]domain.PatentNumber, []string) {
	numbers := make([]domain.PatentNumber, n)
	decls := make([]string, n)
	streams := map[string][]domain.Event{}
	var order []string
	for i := range n {
		num := validNumber(b, fmt.Sprintf("20201%07d", i))
		numbers[i], decls[i] = num, fmt.Sprintf("D%s-%016x", string(num[2:14])+string(num[15:]), i)
		reg := domain.PatentRegistered{Number: num, Kind: num.Kind(), Title: fmt.Sprintf("一种储能电池管理方法%d", i),
			PatenteeIDs: []string{uni}, IPC: []domain.IPCCode{"H01M 10/42"}, FiledOn: bday("2020-03-15"),
			GrantedOn: bday("2022-01-10"), ExpiresOn: domain.ExpiryDate(num.Kind(), bday("2020-03-15"))}
		decl := domain.DeclarationFiled{Number: num, DeclarationID: decls[i], Fee: domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 5_000_000},
			TermMonths: 36, DeclaredOn: bday("2024-01-02"), TermEndsOn: domain.TermEndsOn(bday("2024-01-02"), 36), PatenteeIDs: []string{uni}}
		stream := domain.PatentStream(num)
		streams[stream] = []domain.Event{reg, decl}
		order = append(order, stream)
	}
	seedEvents(b, st, streams, order)
	return numbers, decls
}

// BenchmarkTakeOpenLicense measures the command service taking open
// licences on 10,000 distinct declared patents from 64 goroutines, on the
// durable SQLite store.
func BenchmarkTakeOpenLicense(b *testing.B) {
	const patents = 10_000
	st := openStore(b)
	svc := newService(b, st)
	w := newWorld(b, svc)
	numbers, decls := declaredPatents(b, st, w.uni, patents)
	licensees := make([]string, b.N/patents+1)
	for i := range licensees {
		licensees[i] = w.org(fmt.Sprintf("企业%03d", i), domain.OrgEnterprise, "440106", fmt.Sprintf("91440101MA5E%05d", i), true)
	}
	var next atomic.Int64
	ctx := context.Background()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			licensee := licensees[i/patents]
			c := openLicense(licensee, decls[i%patents])
			if _, err := svc.GrantLicense(ctx, as(licensee), numbers[i%patents], c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commands/s")
}

// BenchmarkLoadPatent10000 measures loading a patent whose stream holds
// 10,000 events (a popular open licence) into a fresh aggregate, without
// the service's state cache.
func BenchmarkLoadPatent10000(b *testing.B) {
	st := openStore(b)
	svc := newService(b, st)
	n := seedPopularPatent(b, st)
	b.ResetTimer()
	for b.Loop() {
		p, err := svc.LoadPatent(context.Background(), n)
		if err != nil {
			b.Fatal(err)
		}
		if p.Version() != 10_000 {
			b.Fatalf("loaded version %d", p.Version())
		}
	}
}

// seedPopularPatent writes a declared patent with 9,998 open licences:
// 10,000 events in its stream.
func seedPopularPatent(b *testing.B, st domain.EventStore) domain.PatentNumber {
	uni := "uni"
	numbers, decls := declaredPatents(b, st, uni, 1)
	n := numbers[0]
	var events []domain.Event
	for i := range 9_998 {
		events = append(events, domain.LicenseGranted{Number: n, LicenseID: fmt.Sprintf("L%s-%016x", string(n[2:14])+string(n[15:]), i),
			Type: domain.LicenseOpen, LicensorIDs: []string{uni}, LicenseeID: uuid.NewString(), EffectiveOn: bday("2024-03-01"),
			EndsOn: bday("2027-01-01"), FeePaidFen: 5_000_000, DeclarationID: decls[0]})
	}
	seedEvents(b, st, map[string][]domain.Event{domain.PatentStream(n): events}, []string{domain.PatentStream(n)})
	return n
}

// BenchmarkLoadPatent10000Snapshot loads the same 10,000-event patent from
// a snapshot taken at its last event.
func BenchmarkLoadPatent10000Snapshot(b *testing.B) {
	st := openStore(b)
	snaps := openSnapshots(b)
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: uuid.NewString, Snapshots: snaps})
	if err != nil {
		b.Fatal(err)
	}
	n := seedPopularPatent(b, st)
	if _, err := svc.LoadPatent(context.Background(), n); err != nil { // takes the snapshot
		b.Fatal(err)
	}
	if snap, ok, _ := snaps.LoadSnapshot(context.Background(), domain.PatentStream(n)); !ok || snap.Version != 10_000 {
		b.Fatalf("no snapshot at version 10,000")
	}
	b.ResetTimer()
	for b.Loop() {
		p, err := svc.LoadPatent(context.Background(), n)
		if err != nil {
			b.Fatal(err)
		}
		if p.Version() != 10_000 || len(p.Licenses) != 9_998 {
			b.Fatalf("loaded version %d with %d licences", p.Version(), len(p.Licenses))
		}
	}
}
