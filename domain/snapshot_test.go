package domain_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/eventstore/storetest"
)

func openSnapshots(t testing.TB) *sqlite.Snapshots {
	t.Helper()
	s, err := sqlite.OpenSnapshots(context.Background(), filepath.Join(t.TempDir(), "snapshots.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func snapshotService(t testing.TB, st domain.EventStore, snaps domain.SnapshotStore) *domain.Service {
	t.Helper()
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return fixedNow }, NewID: uuid.NewString,
		Snapshots: snaps, SnapshotEvery: 3, OnSnapshotError: func(err error) { t.Errorf("snapshot: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// patentState is what a loaded patent exposes, for comparing loads.
func patentState(p *domain.Patent) map[string]any {
	statuses := map[string]any{}
	for _, d := range []string{"2022-01-09", "2022-01-10", "2024-03-01", "2024-05-01", "2040-03-15"} {
		statuses[d] = []any{p.StatusOn(bday(d)), p.SuspendedOn(bday(d)), p.AnnualFeeOverdueOn(bday(d))}
	}
	return map[string]any{"number": p.Number, "patentees": p.PatenteeIDs, "ipc": p.IPC, "expires": p.ExpiresOn,
		"declarations": p.Declarations, "licenses": p.Licenses, "pledges": p.Pledges, "transfers": p.Transfers,
		"reviews": p.Reviews, "version": p.Version(), "statuses": statuses}
}

func TestSnapshotsLoadTheSameState(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	snaps := openSnapshots(t)
	svc := snapshotService(t, st, snaps)
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")
	req := as(w.sme)
	req.IdempotencyKey = "first-licence"
	lic, err := svc.GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error {
			_, err := svc.RecordLicense(ctx, as(w.sme), domain.RecordLicense{LicenseID: lic.ID, RecordNo: "R1", RecordedOn: bday("2024-04-01")})
			return err
		},
		func() error {
			_, err := svc.PayRoyalty(ctx, as(w.sme), domain.PayRoyalty{LicenseID: lic.ID, PaidOn: bday("2024-04-02"), AmountFen: 500})
			return err
		},
		func() error {
			_, err := svc.GrantLicense(ctx, as(w.sme2), n, openLicense(w.sme2, declID))
			return err
		},
		func() error {
			overdue := true
			_, err := svc.ChangeStatus(ctx, as(w.uni), n, domain.ChangeStatus{AnnualFeeOverdue: &overdue, EffectiveOn: bday("2024-05-01")})
			return err
		},
		func() error {
			_, err := svc.RecordReview(ctx, as(w.uni), n, domain.RecordReview{Campaign: "2024", ReviewedOn: bday("2024-06-01"), Grade: domain.GradeHigh, Disposition: domain.DispositionOpenLicense})
			return err
		},
		func() error {
			_, err := svc.WithdrawDeclaration(ctx, as(w.uni), n, domain.WithdrawDeclaration{DeclarationID: declID, EffectiveOn: bday("2024-07-01"), Reason: "重新定价"})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	snap, ok, err := snaps.LoadSnapshot(ctx, domain.PatentStream(n))
	if err != nil || !ok || snap.Version < 6 {
		t.Fatalf("no recent snapshot was taken: %+v %v %v", snap.Version, ok, err)
	}
	fromSnapshot, err := snapshotService(t, st, snaps).LoadPatent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := newService(t, st).LoadPatent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := patentState(fromSnapshot), patentState(replayed); !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot load differs from replay:\n got %v\nwant %v", got, want)
	}
	// The idempotency record survives the snapshot: a repeat on a fresh
	// service that loads from it answers the first licence.
	again, err := snapshotService(t, st, snaps).GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil || !again.Repeat || again.ID != lic.ID {
		t.Fatalf("repeat after a snapshot load: %+v %v", again, err)
	}
}

// TestSnapshotOfAnotherStoreIsIgnored loads the same stream name from two
// stores sharing one snapshot file: the first store's snapshot (version 6,
// four licences) must not be taken for the second's shorter stream.
func TestSnapshotOfAnotherStoreIsIgnored(t *testing.T) {
	ctx := context.Background()
	snaps := openSnapshots(t)
	var numbers []domain.PatentNumber
	for i := range 2 {
		st := openStore(t)
		svc := newService(t, st) // writes without snapshots; only the loads below use them
		w := newWorld(t, svc)
		n, declID := w.declared("202010123456")
		numbers = append(numbers, n)
		for j := range 4 - i*2 {
			id := w.org(fmt.Sprintf("企业%d", j), domain.OrgEnterprise, "440106", fmt.Sprintf("91440101MA5G%05d", j), true)
			if _, err := svc.GrantLicense(ctx, as(id), n, openLicense(id, declID)); err != nil {
				t.Fatal(err)
			}
		}
		p, err := snapshotService(t, st, snaps).LoadPatent(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Licenses) != 4-i*2 {
			t.Fatalf("store %d: loaded %d licences, want %d", i, len(p.Licenses), 4-i*2)
		}
	}
	if numbers[0] != numbers[1] {
		t.Fatal("the test needs the same stream in both stores")
	}
}

// fill appends batches of 100 events of a type no index keeps.
func fill(t *testing.T, st domain.EventStore, batches int) {
	t.Helper()
	for i := range batches {
		batch := make([]domain.EventData, 100)
		for j := range batch {
			batch[j] = storetest.NewEventData()
		}
		if _, err := st.Append(context.Background(), domain.StreamAppend{Stream: fmt.Sprintf("filler-%d", i),
			Expected: domain.ExpectNoStream, Events: batch}); err != nil {
			t.Fatal(err)
		}
	}
}

// countingReads is the store it wraps, counting the events ReadAll returns;
// while failing is set, ReadAll fails as an unreachable store does.
type countingReads struct {
	domain.EventStore
	read    atomic.Int64
	failing atomic.Bool
}

func (c *countingReads) ReadAll(ctx context.Context, after int64, limit int) ([]domain.RecordedEvent, error) {
	if c.failing.Load() {
		return nil, domain.Unavailable("the store is down")
	}
	evs, err := c.EventStore.ReadAll(ctx, after, limit)
	c.read.Add(int64(len(evs)))
	return evs, err
}

// TestOrgIndexStartsFromItsSnapshot: once the organisation index has read
// a long log it keeps a snapshot, and the index of a service started again
// reads only what came after it (over 1,000,000 events a restart read
// everything again, 9 s during which registrations and imports by name
// waited); it still finds what was registered before and after the
// snapshot. A snapshot taken of another store is ignored.
func TestOrgIndexStartsFromItsSnapshot(t *testing.T) {
	ctx := context.Background()
	st, snaps := openStore(t), openSnapshots(t)
	w := newWorld(t, snapshotService(t, st, snaps))
	fill(t, st, 110) // 11,000 events no index keeps
	if ids, err := w.svc.Orgs().OrgsNamed(ctx, "华南理工大学"); err != nil || len(ids) != 1 || ids[0] != w.uni {
		t.Fatalf("first index: %v, %v; want [%s]", ids, err, w.uni)
	}
	late := w.org("中山大学", domain.OrgUniversity, "440105", "12440000455400001", false) // after the snapshot

	counted := &countingReads{EventStore: st}
	again := snapshotService(t, counted, snaps)
	counted.failing.Store(true) // the first lookup finds the store down: it fails, and the next starts from the snapshot
	if _, err := again.Orgs().OrgsNamed(ctx, "华南理工大学"); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("lookup with the store down: %v; want unavailable", err)
	}
	counted.failing.Store(false)
	for name, want := range map[string]string{"华南理工大学": w.uni, "中山大学": late} {
		if ids, err := again.Orgs().OrgsNamed(ctx, name); err != nil || len(ids) != 1 || ids[0] != want {
			t.Errorf("index started again: %s is %v, %v; want [%s]", name, ids, err, want)
		}
	}
	if id, err := again.Orgs().OrgWithCreditCode(ctx, creditCode(t, "91440101MA5CXXXX1")); err != nil || id != w.sme {
		t.Errorf("index started again: credit code's organisation %q, %v; want %s", id, err, w.sme)
	}
	if n := counted.read.Load(); n > 10 {
		t.Errorf("index started again read %d events of the log; want the few after its snapshot", n)
	}

	otherStore := openStore(t) // a longer log, with other events
	fill(t, otherStore, 120)
	other := snapshotService(t, otherStore, snaps)
	if ids, err := other.Orgs().OrgsNamed(ctx, "华南理工大学"); err != nil || len(ids) != 0 {
		t.Errorf("another store's index found %v, %v from a snapshot of this one; want none", ids, err)
	}
	// Each ledger keeps its own snapshot beside the other's: the shorter
	// one's restart still starts from its own (a longer ledger's snapshot
	// under one key kept it from saving any).
	shorter := openStore(t)
	newWorld(t, snapshotService(t, shorter, snaps))
	fill(t, shorter, 105)
	if _, err := snapshotService(t, shorter, snaps).Orgs().OrgsNamed(ctx, "华南理工大学"); err != nil {
		t.Fatal(err)
	}
	countedShorter := &countingReads{EventStore: shorter}
	if ids, err := snapshotService(t, countedShorter, snaps).Orgs().OrgsNamed(ctx, "华南理工大学"); err != nil || len(ids) != 1 ||
		countedShorter.read.Load() > 10 {
		t.Errorf("the shorter ledger started again: %v, %v, %d events read; want its university, a few events", ids, err, countedShorter.read.Load())
	}
}
