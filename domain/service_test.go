package domain_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// fixedNow is the injected clock of the service tests.
var fixedNow = time.Date(2024, 7, 1, 2, 30, 0, 0, time.UTC)

func openStore(t testing.TB) domain.EventStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t testing.TB, st domain.EventStore) *domain.Service {
	t.Helper()
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return fixedNow }, NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func bday(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// validNumber returns a patent number with a correct check character.
func validNumber(t testing.TB, digits string) domain.PatentNumber {
	t.Helper()
	c, err := domain.PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	return domain.PatentNumber("ZL" + digits + "." + string(c))
}

// creditCode returns a valid unified social credit code built on body (17
// characters).
func creditCode(t testing.TB, body string) domain.CreditCode {
	t.Helper()
	c, err := domain.CreditCheckChar(body)
	if err != nil {
		t.Fatal(err)
	}
	return domain.CreditCode(body + string(c))
}

var admin = domain.Request{Actor: domain.AdminActor}

func as(org string) domain.Request { return domain.Request{Actor: domain.OrgActor(org)} }

// world is a small ledger: a university, an SME, a second SME, a bank and
// a regulator, and helpers to register patents.
type world struct {
	t                         testing.TB
	svc                       *domain.Service
	uni, sme, sme2, bank, reg string
}

func newWorld(t testing.TB, svc *domain.Service) *world {
	w := &world{t: t, svc: svc}
	w.uni = w.org("华南理工大学", domain.OrgUniversity, "440106", "12440000455416125", false)
	w.sme = w.org("广州星能电池科技有限公司", domain.OrgEnterprise, "440113", "91440101MA5CXXXX1", true)
	w.sme2 = w.org("广州芯海微电子有限公司", domain.OrgEnterprise, "440105", "91440101MA5CYYYY2", true)
	w.bank = w.org("中国工商银行广州分行", domain.OrgBank, "440104", "91440101190452347", false)
	w.reg = w.org("广州市市场监督管理局", domain.OrgRegulator, "440100", "11440100MB2C9XXXX", false)
	return w
}

func (w *world) org(name string, kind domain.OrgKind, region, credit string, sme bool) string {
	w.t.Helper()
	res, err := w.svc.RegisterOrg(context.Background(), admin, domain.RegisterOrg{Name: name, Kind: kind,
		RegionCode: domain.RegionCode(region), CreditCode: creditCode(w.t, credit), SME: sme})
	if err != nil {
		w.t.Fatalf("register %s: %v", name, err)
	}
	return res.ID
}

// patent registers an invention of the university, filed in 2020.
func (w *world) patent(digits string) domain.PatentNumber {
	w.t.Helper()
	n := validNumber(w.t, digits)
	_, err := w.svc.RegisterPatent(context.Background(), as(w.uni), domain.RegisterPatent{Number: string(n),
		Title: "一种固态锂电池电解质及其制备方法", PatenteeIDs: []string{w.uni}, IPC: []string{"H01M 10/0562"},
		FiledOn: bday("2020-03-15"), GrantedOn: bday("2022-01-10")})
	if err != nil {
		w.t.Fatalf("register patent %s: %v", n, err)
	}
	return n
}

// declared registers a patent and declares it open for an entry fee of
// ¥50,000 and a royalty of 3% of net sales (so that royalties may be paid
// under its licences); it returns the number and declaration ID.
func (w *world) declared(digits string) (domain.PatentNumber, string) {
	w.t.Helper()
	n := w.patent(digits)
	res, err := w.svc.FileDeclaration(context.Background(), as(w.uni), n, domain.FileDeclaration{
		Fee:        domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 5_000_000, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales},
		TermMonths: 36, DeclaredOn: bday("2024-01-02")})
	if err != nil {
		w.t.Fatalf("declare %s: %v", n, err)
	}
	return n, res.ID
}

func openLicense(licensee, declID string) domain.GrantLicense {
	return domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: licensee, EffectiveOn: bday("2024-03-01"),
		FeePaidFen: 5_000_000, DeclarationID: declID}
}

func head(t testing.TB, st domain.EventStore) int64 {
	t.Helper()
	h, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.Position
}

func TestServiceWholeFlow(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")

	lic, err := svc.GrantLicense(ctx, as(w.sme), n, openLicense(w.sme, declID))
	if err != nil {
		t.Fatal(err)
	}
	if lic.Position != head(t, st) || lic.ID == "" || lic.Repeat {
		t.Fatalf("licence result %+v, head %d", lic, head(t, st))
	}
	if _, err := svc.RecordLicense(ctx, as(w.sme), domain.RecordLicense{LicenseID: lic.ID, RecordNo: "2024440000123", RecordedOn: bday("2024-05-15")}); err != nil {
		t.Fatal(err)
	}
	late, err := svc.PayRoyalty(ctx, as(w.uni), domain.PayRoyalty{LicenseID: lic.ID, PaidOn: bday("2024-06-30"), AmountFen: 88_000})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.LoadPatent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	l := p.License(lic.ID)
	if l == nil || l.RecordNo != "2024440000123" || l.RoyaltiesFen != 88_000 || l.EndsOn != bday("2027-01-01") {
		t.Fatalf("licence state %+v", l)
	}
	events, err := st.ReadStream(ctx, domain.PatentStream(n), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Type != domain.TypeRoyaltyPaid || last.Position != late.Position || last.Meta.Actor != w.uni ||
		!last.Meta.RecordedAt.Equal(fixedNow) || last.Meta.SchemaVersion != 1 {
		t.Fatalf("last event %+v meta %+v", last, last.Meta)
	}
}

func TestServiceRecordalWarnsWhenLate(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t))
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")
	lic, err := svc.GrantLicense(ctx, as(w.sme), n, openLicense(w.sme, declID))
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.RecordLicense(ctx, as(w.sme), domain.RecordLicense{LicenseID: lic.ID, RecordNo: "X1", RecordedOn: bday("2024-06-02")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 {
		t.Fatalf("want a late-recordal warning, got %v", res.Warnings)
	}
}

func TestServiceIdempotency(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")
	req := as(w.sme)
	req.IdempotencyKey = "order-7731"

	first, err := svc.GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil {
		t.Fatal(err)
	}
	before := head(t, st)
	again, err := svc.GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil {
		t.Fatalf("a repeat must succeed, got %v", err)
	}
	if !again.Repeat || again.ID != first.ID || again.Position != first.Position || head(t, st) != before {
		t.Fatalf("repeat %+v, first %+v, head %d→%d", again, first, before, head(t, st))
	}
	other := openLicense(w.sme, declID)
	other.EffectiveOn = bday("2024-03-02")
	_, err = svc.GrantLicense(ctx, req, n, other)
	if !errors.Is(err, domain.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other body: want idempotency_mismatch, got %v", err)
	}
	// A fresh service (another process) answers the repeat from the store.
	fresh := newService(t, st)
	again2, err := fresh.GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil || again2.ID != first.ID || again2.Position != first.Position {
		t.Fatalf("repeat on a fresh service: %+v, %v", again2, err)
	}
	// The same key for a licence of another patent is a different request:
	// refused, and nothing is written.
	n2, declID2 := w.declared("202010123457")
	before = head(t, st)
	for _, s := range []*domain.Service{svc, newService(t, st)} {
		_, err = s.GrantLicense(ctx, req, n2, openLicense(w.sme, declID2))
		if !errors.Is(err, domain.ErrIdempotencyMismatch) || !strings.Contains(err.Error(), "Idempotency-Key was used for a different request") {
			t.Fatalf("same key, another patent: want idempotency_mismatch, got %v", err)
		}
	}
	if head(t, st) != before {
		t.Fatalf("same key, another patent: the head moved from %d to %d", before, head(t, st))
	}
	// Another actor's identical key is a different command.
	req2 := as(w.sme2)
	req2.IdempotencyKey = "order-7731"
	second, err := svc.GrantLicense(ctx, req2, n, openLicense(w.sme2, declID))
	if err != nil || second.ID == first.ID {
		t.Fatalf("another actor with the same key: %+v, %v", second, err)
	}
}

// TestServiceIdempotencyNamesTheRecord: a write whose path names a
// licence, declaration or pledge, sent under a key already used for the
// same write on another record of the same patent, is another request:
// refused as idempotency_mismatch, writing nothing (it was answered as the
// first write's repeat, and the payment or recordal was lost). On the first
// record it still repeats.
func TestServiceIdempotencyNamesTheRecord(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")
	var licences [2]string
	for i, sme := range []string{w.sme, w.sme2} {
		res, err := svc.GrantLicense(ctx, as(sme), n, openLicense(sme, declID))
		if err != nil {
			t.Fatal(err)
		}
		licences[i] = res.ID
	}
	keyed := func(actor, key string) domain.Request { r := as(actor); r.IdempotencyKey = key; return r }
	// day is the i-th record's date: the second's comes after the first's.
	day := func(i int, date string) domain.Date { return bday(date).AddDays(90 * i) }
	withdrawn, consented, released := w.patent("202010654321"), w.patent("202010000001"), w.patent("202010000002")
	pledge := func(n domain.PatentNumber, i int) (domain.Result, error) {
		if i == 1 && n == consented {
			if _, err := svc.ReleasePledge(ctx, as(w.bank), domain.ReleasePledge{PledgeID: pledgeOn(t, svc, n), ReleasedOn: day(0, "2024-03-01"), Reason: domain.ReleaseRepaid}); err != nil {
				return domain.Result{}, err
			}
		}
		return svc.RegisterPledge(ctx, as(w.bank), domain.RegisterPledge{PledgorID: w.uni, PledgeeID: w.bank, Patents: []string{string(n)},
			SecuredAmountFen: 500_000_000, RegisteredOn: day(i, "2024-02-01"), DebtDueOn: bday("2027-04-01")})
	}
	for _, tc := range []struct {
		name string
		// record makes the i-th record the write acts on, and returns its ID.
		record func(i int) (domain.Result, error)
		write  func(id string) (domain.Result, error)
	}{
		{"royalty", func(i int) (domain.Result, error) { return domain.Result{ID: licences[i]}, nil }, func(id string) (domain.Result, error) {
			return svc.PayRoyalty(ctx, keyed(w.sme, "royalty-2024Q2"), domain.PayRoyalty{LicenseID: id, PaidOn: bday("2024-06-30"), AmountFen: 12_345})
		}},
		{"recordal", func(i int) (domain.Result, error) { return domain.Result{ID: licences[i]}, nil }, func(id string) (domain.Result, error) {
			return svc.RecordLicense(ctx, keyed(w.uni, "recordal-1"), domain.RecordLicense{LicenseID: id, RecordNo: "2024440000123", RecordedOn: bday("2024-05-15")})
		}},
		{"withdrawal", func(i int) (domain.Result, error) {
			return svc.FileDeclaration(ctx, as(w.uni), withdrawn, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: day(i, "2024-01-01")})
		}, func(id string) (domain.Result, error) {
			return svc.WithdrawDeclaration(ctx, keyed(w.uni, "withdraw-1"), withdrawn, domain.WithdrawDeclaration{DeclarationID: id, EffectiveOn: bday("2024-02-01"), Reason: "新的条件"})
		}},
		{"pledge consent", func(i int) (domain.Result, error) { return pledge(consented, i) }, func(id string) (domain.Result, error) {
			return svc.ConsentPledge(ctx, keyed(w.bank, "consent-1"), domain.ConsentPledge{PledgeID: id, ConsentedOn: bday("2024-02-15")})
		}},
		{"pledge release", func(i int) (domain.Result, error) { return pledge(released, i) }, func(id string) (domain.Result, error) {
			return svc.ReleasePledge(ctx, keyed(w.bank, "release-1"), domain.ReleasePledge{PledgeID: id, ReleasedOn: bday("2024-03-01"), Reason: domain.ReleaseRepaid})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids [2]string
			for i := range ids {
				rec, err := tc.record(i)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				ids[i] = rec.ID
				if i > 0 {
					break
				}
				first, err := tc.write(ids[0])
				if err != nil {
					t.Fatal(err)
				}
				if again, err := tc.write(ids[0]); err != nil || !again.Repeat || again.Position != first.Position {
					t.Fatalf("the repeat on the first record: %+v, %v; want the first result %+v", again, err, first)
				}
			}
			before := head(t, st)
			if _, err := tc.write(ids[1]); !errors.Is(err, domain.ErrIdempotencyMismatch) {
				t.Fatalf("the same key and body on another record: %v, want idempotency_mismatch", err)
			}
			if head(t, st) != before {
				t.Fatalf("the refused write moved the head from %d to %d", before, head(t, st))
			}
		})
	}
}

// pledgeOn returns the ID of the pledge in force on patent n.
func pledgeOn(t *testing.T, svc *domain.Service, n domain.PatentNumber) string {
	t.Helper()
	p, err := svc.LoadPatent(context.Background(), n)
	if err != nil || len(p.Pledges) == 0 {
		t.Fatalf("patent %s: %v, no pledge", n, err)
	}
	return p.Pledges[len(p.Pledges)-1].PledgeID
}

// TestServiceOneOrganisationPerCreditCode: a unified social credit code
// names one organisation: a second registration under it, written in
// lower case too, is refused as org_already_registered and writes
// nothing, while the first registration's repeat under its key still
// answers it; an organisation registered before the rule, which holds no
// claim, is found in the log; of registrations racing on two nodes, one
// wins.
func TestServiceOneOrganisationPerCreditCode(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	code := creditCode(t, "91440101MA5CYYYY3")
	firm := domain.RegisterOrg{Name: "广州星能电池科技有限公司", Kind: domain.OrgEnterprise, RegionCode: "440113", CreditCode: code, SME: true}
	keyed := domain.Request{Actor: domain.AdminActor, IdempotencyKey: "org-1"}
	first, err := svc.RegisterOrg(ctx, keyed, firm)
	if err != nil {
		t.Fatal(err)
	}
	before := head(t, st)
	for _, again := range []domain.CreditCode{code, domain.CreditCode(strings.ToLower(string(code)))} {
		other := firm
		other.Name, other.CreditCode = "广州星能新能源有限公司", again
		_, err := svc.RegisterOrg(ctx, admin, other)
		if domain.RuleOf(err) != domain.RuleOrgAlreadyRegistered || !strings.Contains(err.Error(), first.ID) {
			t.Errorf("a second organisation under %s: %v, want org_already_registered naming %s", again, err, first.ID)
		}
	}
	if repeat, err := svc.RegisterOrg(ctx, keyed, firm); err != nil || !repeat.Repeat || repeat.ID != first.ID {
		t.Errorf("the first registration's repeat: %+v, %v", repeat, err)
	}
	if head(t, st) != before {
		t.Fatalf("refused registrations moved the head from %d to %d", before, head(t, st))
	}

	// An organisation registered before the rule holds no claim on its
	// code's stream: the log still names it, to every node.
	earlier := domain.OrgRegistered{OrgID: "01a00000-0000-7000-8000-000000000001", Name: "广州旧登记有限公司", Kind: domain.OrgEnterprise,
		RegionCode: "440106", CreditCode: creditCode(t, "91440101MA5CYYYY5")}
	typ, data, err := domain.DefaultCodec.Encode(earlier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, domain.StreamAppend{Stream: domain.OrgStream(earlier.OrgID), Expected: domain.ExpectAny,
		Events: []domain.EventData{{ID: uuid.NewString(), Type: typ, Data: data, Meta: domain.Metadata{RecordedAt: fixedNow, Actor: "admin", SchemaVersion: 1}}}}); err != nil {
		t.Fatal(err)
	}
	again := firm
	again.CreditCode = earlier.CreditCode
	for _, node := range []*domain.Service{svc, newService(t, st)} {
		if _, err := node.RegisterOrg(ctx, admin, again); domain.RuleOf(err) != domain.RuleOrgAlreadyRegistered || !strings.Contains(err.Error(), earlier.OrgID) {
			t.Errorf("a second organisation under the code of one registered before the rule: %v", err)
		}
	}

	nodes := []*domain.Service{newService(t, st), newService(t, st)}
	racing := firm
	racing.CreditCode = creditCode(t, "91440101MA5CYYYY4")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = nodes[i%2].RegisterOrg(ctx, admin, racing)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case domain.RuleOf(err) != domain.RuleOrgAlreadyRegistered:
			t.Errorf("a racing registration: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing registrations under one credit code won, want 1", won, len(errs))
	}
}

func TestServiceConcurrentIdenticalRequests(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// Two services on one store behave like two nodes: neither's cache
	// sees the other's writes until it reads them.
	svcs := []*domain.Service{newService(t, st), newService(t, st)}
	w := newWorld(t, svcs[0])
	n, declID := w.declared("202010123456")
	req := as(w.sme)
	req.IdempotencyKey = "checkout-42"

	var wg sync.WaitGroup
	results := make([]domain.Result, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = svcs[i%2].GrantLicense(ctx, req, n, openLicense(w.sme, declID))
		}()
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if results[i].ID != results[0].ID || results[i].Position != results[0].Position {
			t.Fatalf("request %d answered %+v, request 0 %+v", i, results[i], results[0])
		}
	}
	p, err := svcs[0].LoadPatent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Licenses) != 1 {
		t.Fatalf("want exactly one licence, got %d", len(p.Licenses))
	}
}

func TestServiceRetriesConflictsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svcs := []*domain.Service{newService(t, st), newService(t, st)}
	w := newWorld(t, svcs[0])
	n, declID := w.declared("202010123456")
	const licensees = 12
	ids := make([]string, licensees)
	for i := range ids {
		ids[i] = w.org(fmt.Sprintf("企业%02d", i), domain.OrgEnterprise, "440106", fmt.Sprintf("91440101MA5D%05d", i), true)
	}
	var wg sync.WaitGroup
	errs := make(chan error, licensees)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svcs[i%2].GrantLicense(ctx, as(id), n, openLicense(id, declID))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := svcs[1].LoadPatent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Licenses) != licensees {
		t.Fatalf("want %d licences, got %d", licensees, len(p.Licenses))
	}
	// Both nodes' caches catch up: a duplicate is refused on either.
	for _, svc := range svcs {
		_, err := svc.GrantLicense(ctx, as(ids[0]), n, openLicense(ids[0], declID))
		if domain.RuleOf(err) != domain.RuleDuplicateLicense {
			t.Fatalf("want duplicate_license, got %v", err)
		}
	}
}

func TestServicePledgeIsAtomicAcrossPatents(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	a, b, c := w.patent("202010123456"), w.patent("202010654321"), w.patent("202010000001")
	pledge := func(numbers ...domain.PatentNumber) domain.RegisterPledge {
		list := make([]string, len(numbers))
		for i, n := range numbers {
			list[i] = string(n)
		}
		return domain.RegisterPledge{PledgorID: w.uni, PledgeeID: w.bank, Patents: list, SecuredAmountFen: 500_000_000,
			RegisteredOn: bday("2024-04-01"), DebtDueOn: bday("2027-04-01")}
	}
	if _, err := svc.RegisterPledge(ctx, as(w.bank), pledge(c)); err != nil {
		t.Fatal(err)
	}
	before := head(t, st)
	_, err := svc.RegisterPledge(ctx, as(w.bank), pledge(a, b, c))
	if domain.RuleOf(err) != domain.RuleAlreadyPledged {
		t.Fatalf("want already_pledged, got %v", err)
	}
	if head(t, st) != before {
		t.Fatal("a refused pledge wrote events")
	}
	res, err := svc.RegisterPledge(ctx, as(w.bank), pledge(a, b))
	if err != nil {
		t.Fatal(err)
	}
	if res.Position != before+2 || len(res.Events) != 2 {
		t.Fatalf("pledge over two patents: %+v (head before %d)", res, before)
	}
	if _, err := svc.ConsentPledge(ctx, as(w.bank), domain.ConsentPledge{PledgeID: res.ID, ConsentedOn: bday("2024-05-01")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReleasePledge(ctx, as(w.uni), domain.ReleasePledge{PledgeID: res.ID, ReleasedOn: bday("2024-06-01"), Reason: domain.ReleaseRepaid}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("the pledgor must not release: %v", err)
	}
	if _, err := svc.ReleasePledge(ctx, as(w.bank), domain.ReleasePledge{PledgeID: res.ID, ReleasedOn: bday("2024-06-01"), Reason: domain.ReleaseRepaid}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []domain.PatentNumber{a, b} {
		p, err := svc.LoadPatent(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		pl := p.Pledge(res.ID)
		if pl == nil || pl.ConsentedOn != bday("2024-05-01") || pl.ReleasedOn != bday("2024-06-01") {
			t.Fatalf("pledge on %s: %+v", n, pl)
		}
	}
	if _, err := svc.ReleasePledge(ctx, as(w.bank), domain.ReleasePledge{PledgeID: "P2020101234562-ffffffffffffffff", ReleasedOn: bday("2024-06-01"), Reason: domain.ReleaseRepaid}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown pledge: %v", err)
	}
}

func TestServiceRefusals(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := newService(t, st)
	w := newWorld(t, svc)
	n, declID := w.declared("202010123456")
	before := head(t, st)
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"regulator writes", func() error {
			_, err := svc.GrantLicense(ctx, as(w.reg), n, openLicense(w.reg, declID))
			return err
		}, domain.ErrForbidden},
		{"regulator as licensee", func() error {
			_, err := svc.GrantLicense(ctx, admin, n, openLicense(w.reg, declID))
			return err
		}, domain.ErrInvalidArgument},
		{"regulator as actor", func() error {
			_, err := svc.RecordReview(ctx, as(w.reg), n, domain.RecordReview{Campaign: "2024", ReviewedOn: bday("2024-06-01"), Grade: domain.GradeLow, Disposition: domain.DispositionMaintain})
			return err
		}, domain.ErrForbidden},
		{"unknown licensee", func() error {
			_, err := svc.GrantLicense(ctx, admin, n, openLicense("no-such-org", declID))
			return err
		}, domain.ErrNotFound},
		{"unknown patent", func() error {
			_, err := svc.FileDeclaration(ctx, as(w.uni), validNumber(t, "202310000009"), domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: bday("2024-01-02")})
			return err
		}, domain.ErrNotFound},
		{"unknown licence id", func() error {
			_, err := svc.RecordLicense(ctx, as(w.sme), domain.RecordLicense{LicenseID: "not-a-licence", RecordNo: "1", RecordedOn: bday("2024-06-01")})
			return err
		}, domain.ErrNotFound},
		{"pledgee not a bank", func() error {
			_, err := svc.RegisterPledge(ctx, as(w.sme), domain.RegisterPledge{PledgorID: w.uni, PledgeeID: w.sme, Patents: []string{string(n)}, SecuredAmountFen: 1, RegisteredOn: bday("2024-04-01"), DebtDueOn: bday("2025-04-01")})
			return err
		}, domain.ErrInvalidArgument},
		{"non-admin registers an org", func() error {
			_, err := svc.RegisterOrg(ctx, as(w.uni), domain.RegisterOrg{Name: "x", Kind: domain.OrgEnterprise, RegionCode: "440106", CreditCode: creditCode(t, "91440101MA5CWWWW3")})
			return err
		}, domain.ErrForbidden},
		{"patent registered twice", func() error {
			_, err := svc.RegisterPatent(ctx, as(w.uni), domain.RegisterPatent{Number: string(n), Title: "t", PatenteeIDs: []string{w.uni}, IPC: []string{"H01M 10/0562"}, FiledOn: bday("2020-03-15"), GrantedOn: bday("2022-01-10")})
			return err
		}, domain.Violation(domain.RulePatentAlreadyRegistered, "")},
	}
	for _, c := range cases {
		if err := c.run(); !errors.Is(err, c.want) {
			t.Errorf("%s: want %v, got %v", c.name, c.want, err)
		}
	}
	if head(t, st) != before {
		t.Fatalf("refused commands moved the head from %d to %d", before, head(t, st))
	}
}

// TestServiceRefusalsNameWhatWasSent: a pledgee of the wrong kind is named
// with its kind and the kind wanted, not a Go list, and a licence ID whose patent is not
// registered is not found as the licence ID the request gave, not as a
// patent number it never sent.
func TestServiceRefusalsNameWhatWasSent(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t))
	w := newWorld(t, svc)
	n := w.patent("202010123456")
	_, err := svc.RegisterPledge(ctx, as(w.sme), domain.RegisterPledge{PledgorID: w.uni, PledgeeID: w.sme, Patents: []string{string(n)},
		SecuredAmountFen: 1, RegisteredOn: bday("2024-04-01"), DebtDueOn: bday("2025-04-01")})
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "pledgee_id" || de.Fields[0].Message != w.sme+" is of kind enterprise; want bank" {
		t.Errorf("an enterprise as pledgee: %v", err)
	}
	unregistered := validNumber(t, "201110900099")
	id := "L" + string(unregistered[2:14]) + string(unregistered[15:]) + "-0123456789abcdef"
	for name, write := range map[string]func() error{
		"recordal": func() error {
			_, err := svc.RecordLicense(ctx, as(w.sme), domain.RecordLicense{LicenseID: id, RecordNo: "1", RecordedOn: bday("2024-06-01")})
			return err
		},
		"royalty": func() error {
			_, err := svc.PayRoyalty(ctx, as(w.sme), domain.PayRoyalty{LicenseID: id, PaidOn: bday("2024-06-01"), AmountFen: 1})
			return err
		},
	} {
		err := write()
		if !errors.As(err, &de) || de.Code != domain.CodeNotFound || len(de.Fields) != 1 || de.Fields[0].Field != "license_id" ||
			!strings.Contains(de.Message, "no such license_id \""+id+"\"") {
			t.Errorf("%s on a licence of an unregistered patent: %v", name, err)
		}
	}
}

func TestServiceKeys(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t))
	w := newWorld(t, svc)
	res, err := svc.IssueKey(ctx, admin, w.sme, domain.HashKeySecret("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.Org(ctx, w.sme)
	if err != nil {
		t.Fatal(err)
	}
	if !org.KeyMatches(res.ID, "s3cret") || org.KeyMatches(res.ID, "s3creT") || org.KeyMatches("other", "s3cret") {
		t.Fatal("key matching is wrong")
	}
	for _, h := range org.KeyHashes {
		if h == "s3cret" {
			t.Fatal("the secret is stored in clear")
		}
	}
	if _, err := svc.IssueKey(ctx, admin, "no-such-org", "h"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("key for an unknown org: %v", err)
	}
}

// TestServiceKeyRevocation: the admin or the key's own organisation
// revokes a key, no other organisation; a revoked key no
// longer matches, the organisation's other keys still do, and a key cannot
// be revoked twice.
func TestServiceKeyRevocation(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t))
	w := newWorld(t, svc)
	first, err := svc.IssueKey(ctx, admin, w.sme, domain.HashKeySecret("first"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.IssueKey(ctx, admin, w.sme, domain.HashKeySecret("second"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeKey(ctx, as(w.uni), w.sme, first.ID); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("an organisation revoked another's key: %v", err)
	}
	if _, err := svc.RevokeKey(ctx, as(w.sme), w.sme, first.ID); err != nil {
		t.Fatalf("an organisation could not revoke its own key: %v", err)
	}
	org, err := svc.Org(ctx, w.sme)
	if err != nil {
		t.Fatal(err)
	}
	if org.KeyMatches(first.ID, "first") || !org.KeyMatches(second.ID, "second") {
		t.Fatal("after revoking the first key, the first must fail and the second match")
	}
	for name, run := range map[string]func() error{
		"twice":       func() error { _, err := svc.RevokeKey(ctx, admin, w.sme, first.ID); return err },
		"unknown key": func() error { _, err := svc.RevokeKey(ctx, admin, w.sme, "no-such-key"); return err },
		"unknown org": func() error { _, err := svc.RevokeKey(ctx, admin, "no-such-org", first.ID); return err },
	} {
		if err := run(); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("revoking %s: want not_found, got %v", name, err)
		}
	}
}

// TestServiceStaleCacheNeverRefusesWrongly: node A has the patent cached
// while a pledge without consent blocks licences; node B records the
// consent; node A must accept the licence rather than refuse it on its
// stale state.
func TestServiceStaleCacheNeverRefusesWrongly(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	nodeA, nodeB := newService(t, st), newService(t, st)
	w := newWorld(t, nodeA)
	n, declID := w.declared("202010123456")
	pledge, err := nodeA.RegisterPledge(ctx, as(w.bank), domain.RegisterPledge{PledgorID: w.uni, PledgeeID: w.bank,
		Patents: []string{string(n)}, SecuredAmountFen: 1_000_000, RegisteredOn: bday("2024-02-01"), DebtDueOn: bday("2026-02-01")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodeA.GrantLicense(ctx, as(w.sme), n, openLicense(w.sme, declID)); domain.RuleOf(err) != domain.RulePledgedWithoutConsent {
		t.Fatalf("want pledged_without_consent, got %v", err)
	}
	if _, err := nodeB.ConsentPledge(ctx, as(w.bank), domain.ConsentPledge{PledgeID: pledge.ID, ConsentedOn: bday("2024-02-15")}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeA.GrantLicense(ctx, as(w.sme), n, openLicense(w.sme, declID)); err != nil {
		t.Fatalf("node A refused on a stale state: %v", err)
	}
}

// TestServiceTodayIsTheShanghaiBusinessDate: a fact may be dated today in
// Asia/Shanghai, which begins at 16:00 UTC the day before; one second
// earlier the same date is still in the future.
func TestServiceTodayIsTheShanghaiBusinessDate(t *testing.T) {
	st := openStore(t)
	now := time.Date(2024, 6, 30, 15, 59, 59, 0, time.UTC)
	svc, err := domain.NewService(st, domain.ServiceOptions{Clock: func() time.Time { return now },
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, svc)
	n := w.patent("202010123456")
	review := domain.RecordReview{Campaign: "2024", ReviewedOn: bday("2024-07-01"), Grade: domain.GradeLow, Disposition: domain.DispositionMaintain}
	if _, err := svc.RecordReview(context.Background(), as(w.uni), n, review); domain.ErrorCode(err) != domain.CodeInvalidArgument {
		t.Fatalf("at %s a review dated 2024-07-01 is in the future; got %v", now, err)
	}
	now = now.Add(time.Second)
	if got := svc.Today(); got != bday("2024-07-01") {
		t.Fatalf("Today() at %s = %s", now, got)
	}
	if _, err := svc.RecordReview(context.Background(), as(w.uni), n, review); err != nil {
		t.Fatalf("at %s a review dated 2024-07-01 is today's: %v", now, err)
	}
}

// unavailableStore is a store whose appends fail as unavailable while down
// is set, counting them.
type unavailableStore struct {
	domain.EventStore
	mu      sync.Mutex
	down    bool
	appends int
}

func (s *unavailableStore) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	s.mu.Lock()
	down := s.down
	if down {
		s.appends++
	}
	s.mu.Unlock()
	if down {
		return domain.AppendResult{}, fmt.Errorf("append: %w", domain.Unavailable("the store did not answer within 30s"))
	}
	return s.EventStore.Append(ctx, appends...)
}

// TestServiceDoesNotRetryAnUnavailableStore: a command on cached states
// whose append fails as unavailable answers at once, after one append: a
// second try would make the client wait the store's timeout twice, and
// the outcome of the first is unknown. Once the store is back, the same
// command is recorded.
func TestServiceDoesNotRetryAnUnavailableStore(t *testing.T) {
	st := &unavailableStore{EventStore: openStore(t)}
	svc := newService(t, st)
	w := newWorld(t, svc)
	n := w.patent("202010123456")
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	_, err := svc.FileDeclaration(context.Background(), as(w.uni), n, domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: bday("2024-01-02")})
	if !errors.Is(err, domain.ErrUnavailable) || st.appends != 1 {
		t.Fatalf("a declaration on an unavailable store: %v after %d appends; want unavailable after 1", err, st.appends)
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	if _, err := svc.FileDeclaration(context.Background(), as(w.uni), n, domain.FileDeclaration{
		Fee: domain.FeeTerms{Mode: domain.FeeFree}, TermMonths: 12, DeclaredOn: bday("2024-01-02")}); err != nil {
		t.Fatalf("the same declaration once the store is back: %v", err)
	}
}
