package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// listingWorld is a small ledger: two universities in different cities,
// an SME, and five declared patents with different terms and fees.
type listingWorld struct {
	svc                *domain.Service
	st                 domain.EventStore
	p                  *Pipeline
	guangzhou, shenzen string
	sme                string
	n                  []domain.PatentNumber
	decl               []string
}

func newListingWorld(t *testing.T) *listingWorld {
	dir := t.TempDir()
	w := &listingWorld{st: openStore(t, dir)}
	w.svc = newService(t, w.st)
	w.p = startPipeline(t, w.st, dir)
	w.guangzhou = registerOrg(t, w.svc, 1, orgSpec{"华南理工大学", domain.OrgUniversity, "440106", false})
	w.shenzen = registerOrg(t, w.svc, 2, orgSpec{"深圳大学", domain.OrgUniversity, "440305", false})
	w.sme = registerOrg(t, w.svc, 3, orgSpec{"广州星能电池科技有限公司", domain.OrgEnterprise, "440113", true})
	titles := []string{"一种固态锂电池电解质及其制备方法", "锂离子电池正极材料", "一种芯片散热装置", "基于深度学习的图像识别方法", "LED芯片封装结构"}
	ipcs := [][]string{{"H01M 10/0562"}, {"H01M 4/13"}, {"H01L 23/367"}, {"G06K 9/62"}, {"H01L 33/48", "H01L 23/367"}}
	owners := []string{w.guangzhou, w.guangzhou, w.shenzen, w.shenzen, w.guangzhou}
	fees := []domain.FeeTerms{lumpSum(5_000_000), lumpSum(100_000), {Mode: domain.FeeFree},
		{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales},
		{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 2_000_000, RoyaltyBP: 100, RoyaltyBase: domain.BaseProfit}}
	declared := []string{"2024-01-02", "2024-03-01", "2023-05-10", "2024-06-30", "2022-07-01"}
	months := []int{36, 12, 12, 24, 24} // the third ended 2024-05-09; the fifth ends 2024-06-30
	for i := range titles {
		n := patentNumber(t, 2020, 1, 100+i)
		registerPatent(t, w.svc, n, titles[i], ipcs[i], date("2020-03-15"), owners[i])
		res := declare(t, w.svc, n, date(declared[i]), months[i], fees[i])
		w.n, w.decl = append(w.n, n), append(w.decl, res.ID)
	}
	waitHead(t, w.p, w.st)
	// The pipeline loads its search index in the background once it has
	// caught up; the tests that compare it with SQL need it loaded, also
	// on a machine so busy that the load has not ended yet.
	if err := w.p.db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// numbers runs a listing query and returns the numbers it lists, in order.
func (w *listingWorld) numbers(t *testing.T, q ListingQuery) []string {
	t.Helper()
	if q.Today.IsZero() {
		q.Today = date("2024-07-01")
	}
	page, err := w.p.Listings(context.Background(), q)
	if err != nil {
		t.Fatalf("listings %+v: %v", q, err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.Number)
	}
	if int(page.Total) < len(out) {
		t.Fatalf("total %d < %d items", page.Total, len(out))
	}
	return out
}

func (w *listingWorld) want(idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, string(w.n[i]))
	}
	return out
}

func TestListingsInEffectFollowsTheDate(t *testing.T) {
	w := newListingWorld(t)
	fen := domain.Fen(100_000)
	cases := []struct {
		name string
		q    ListingQuery
		want []int
	}{
		{"newest first, ended terms left out", ListingQuery{}, []int{3, 1, 0}},
		{"the day a term ends is still in effect", ListingQuery{Today: date("2024-06-30")}, []int{3, 1, 0, 4}},
		{"before a declaration it is not listed", ListingQuery{Today: date("2023-06-01")}, []int{2, 4}},
		{"ipc prefix", ListingQuery{IPCPrefix: "H01M", Today: date("2024-06-30")}, []int{1, 0}},
		{"ipc group", ListingQuery{IPCPrefix: "H01L 23/", Today: date("2024-06-30")}, []int{4}},
		{"ipc class", ListingQuery{IPCPrefix: "H01", Today: date("2024-06-30")}, []int{1, 0, 4}},
		{"ipc section", ListingQuery{IPCPrefix: "G", Today: date("2024-06-30")}, []int{3}},
		{"ipc subgroup prefix", ListingQuery{IPCPrefix: "H01M 10/05", Today: date("2024-06-30")}, []int{0}},
		{"ipc subgroup in q, with those under it", ListingQuery{Text: "H01M 10/05", Today: date("2024-06-30")}, []int{0}},
		{"the start of an ipc subgroup in q", ListingQuery{Text: "H01M 10/0", Today: date("2024-06-30")}, []int{0}},
		{"ipc main group in q", ListingQuery{Text: "h01m 10", Today: date("2024-06-30")}, []int{0}},
		{"patentee", ListingQuery{PatenteeID: w.shenzen, Today: date("2024-06-30")}, []int{3}},
		{"region prefix", ListingQuery{Region: "4403", Today: date("2024-06-30")}, []int{3}},
		{"fee mode", ListingQuery{FeeMode: domain.FeeLumpSum}, []int{1, 0}},
		{"max fee", ListingQuery{MaxFeeFen: &fen, Today: date("2024-06-30")}, []int{3, 1}},
		{"sort by fee", ListingQuery{Sort: SortFee, Today: date("2024-06-30")}, []int{3, 1, 4, 0}},
		{"search", ListingQuery{Text: "电池", Today: date("2024-06-30")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := w.numbers(t, c.q)
			if c.want == nil {
				if len(got) != 2 || !slices.Contains(got, string(w.n[0])) || !slices.Contains(got, string(w.n[1])) {
					t.Fatalf("got %v", got)
				}
				return
			}
			if want := w.want(c.want...); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestListingsWithdrawalAndTransferAndLicences(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	_, err := w.svc.WithdrawDeclaration(ctx, admin, w.n[1], domain.WithdrawDeclaration{DeclarationID: w.decl[1],
		EffectiveOn: date("2024-08-01"), Reason: "转让"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.GrantLicense(ctx, admin, w.n[0], domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: w.sme,
		EffectiveOn: date("2024-04-01"), FeePaidFen: 5_000_000, DeclarationID: w.decl[0]})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.svc.TransferPatent(ctx, admin, w.n[0], domain.TransferPatent{ToIDs: []string{w.shenzen},
		EffectiveOn: date("2024-05-01"), PriceFen: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.p.WaitFor(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	if got, want := w.numbers(t, ListingQuery{Today: date("2024-07-31")}), w.want(3, 1, 0); !slices.Equal(got, want) {
		t.Fatalf("before the withdrawal takes effect: %v, want %v", got, want)
	}
	if got, want := w.numbers(t, ListingQuery{Today: date("2024-08-01")}), w.want(3, 0); !slices.Equal(got, want) {
		t.Fatalf("on the withdrawal's date: %v, want %v", got, want)
	}
	page, err := w.p.Listings(ctx, ListingQuery{Today: date("2024-08-01"), PatenteeID: w.shenzen, IPCPrefix: "H01M"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("transferred patent by its new patentee: %+v, %v", page, err)
	}
	it := page.Items[0]
	var owners []string
	if err := json.Unmarshal(it.PatenteeIDs, &owners); err != nil || !slices.Equal(owners, []string{w.shenzen}) || it.Licenses != 1 {
		t.Fatalf("item %+v", it)
	}
	var fee domain.FeeTerms
	if err := json.Unmarshal(it.Fee, &fee); err != nil || fee != lumpSum(5_000_000) {
		t.Fatalf("fee %s", it.Fee)
	}
}

// TestListingsLeaveOutAPatentThatIsNotActive: no one can take a licence
// of a patent that is not active, so it is not listed on the days it is
// not, whether the answer comes from the search index or from SQL.
func TestListingsLeaveOutAPatentThatIsNotActive(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	changes := []struct {
		patent int
		status domain.PatentStatus
		on     string
	}{{0, domain.StatusLapsed, "2024-07-15"}, {0, domain.StatusActive, "2024-09-01"}, {3, domain.StatusInvalidated, "2024-08-01"}}
	var last int64
	for _, c := range changes {
		status := c.status
		res, err := w.svc.ChangeStatus(ctx, admin, w.n[c.patent], domain.ChangeStatus{Status: &status, EffectiveOn: date(c.on),
			Reason: "登记"})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	if err := w.p.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		today string
		want  []int
	}{{"2024-07-14", []int{3, 1, 0}}, {"2024-07-15", []int{3, 1}}, {"2024-08-01", []int{1}}, {"2024-08-31", []int{1}},
		{"2024-09-01", []int{1, 0}}, {"2025-01-01", []int{1, 0}}} {
		q := ListingQuery{Today: date(c.today)}
		if got, want := w.numbers(t, q), w.want(c.want...); !slices.Equal(got, want) {
			t.Errorf("on %s: %v, want %v", c.today, got, want)
		}
		compareListingPaths(t, w.p.db, ListingQuery{Today: q.Today, Limit: 2})
		compareListingPaths(t, w.p.db, ListingQuery{Today: q.Today, Limit: 2, Text: "电池"})
	}
}

func TestListingsPagesCoverEveryItemOnce(t *testing.T) {
	w := newListingWorld(t)
	for _, sortName := range []string{SortNewest, SortFee, SortRelevance} {
		q := ListingQuery{Today: date("2024-06-30"), Sort: sortName, Limit: 1}
		if sortName == SortRelevance {
			q.Text = "芯片"
		}
		all := w.numbers(t, ListingQuery{Today: q.Today, Sort: sortName, Text: q.Text, Limit: 100})
		var paged []string
		for i := 0; i < 10; i++ {
			page, err := w.p.Listings(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				paged = append(paged, it.Number)
			}
			if page.NextCursor == nil {
				break
			}
			q.Cursor = *page.NextCursor
		}
		if !slices.Equal(paged, all) || len(all) == 0 {
			t.Fatalf("%s: paged %v, all %v", sortName, paged, all)
		}
	}
}

func TestListingsRefusesBadQueries(t *testing.T) {
	w := newListingWorld(t)
	for _, c := range []struct {
		q     ListingQuery
		field string
	}{
		{ListingQuery{Text: "，。！"}, "q"},
		{ListingQuery{Text: manyWords(MaxSearchTerms + 1)}, "q"},
		{ListingQuery{Sort: SortRelevance}, "sort"},
		{ListingQuery{Sort: "cheapest"}, "sort"},
		{ListingQuery{Cursor: "garbage"}, "cursor"},
		{ListingQuery{Sort: SortFee, Cursor: encodeCursor(SortNewest, ListingQuery{}.filterDigest(), "s2024-01-01", "ZL")}, "cursor"},
		// Cursors altered by hand: a key that is no date, no date of the
		// calendar, of another order's kind; a number that is none.
		{ListingQuery{Cursor: encodeCursor(SortNewest, ListingQuery{}.filterDigest(), "sabc", string(w.n[0]))}, "cursor"},
		{ListingQuery{Cursor: encodeCursor(SortNewest, ListingQuery{}.filterDigest(), "s2025-02-30", string(w.n[0]))}, "cursor"},
		{ListingQuery{Sort: SortFee, Cursor: encodeCursor(SortFee, ListingQuery{}.filterDigest(), "s2025", string(w.n[0]))}, "cursor"},
		{ListingQuery{Sort: SortFee, Cursor: encodeCursor(SortFee, ListingQuery{}.filterDigest(), "f1.5", string(w.n[0]))}, "cursor"},
		{ListingQuery{Cursor: encodeCursor(SortNewest, ListingQuery{}.filterDigest(), "s2024-01-01", "ZL")}, "cursor"},
	} {
		_, err := w.p.Listings(context.Background(), c.q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || de.Fields[0].Field != c.field {
			t.Errorf("%+v: got %v, want invalid %s", c.q, err, c.field)
		}
	}
}

// manyWords returns a search text of n different words.
func manyWords(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	return strings.Join(words, " ")
}

// TestListingsTakeUpToMaxSearchTerms: a search of MaxSearchTerms different
// words is answered (one more is refused, TestListingsRefusesBadQueries),
// and a word given again does not count twice.
func TestListingsTakeUpToMaxSearchTerms(t *testing.T) {
	w := newListingWorld(t)
	for _, text := range []string{manyWords(MaxSearchTerms), manyWords(MaxSearchTerms) + " " + manyWords(MaxSearchTerms)} {
		if _, err := w.p.Listings(context.Background(), ListingQuery{Text: text}); err != nil {
			t.Errorf("%d words: %v", len(strings.Fields(text)), err)
		}
	}
}

// TestListingsRefuseACursorOfAnotherListing: a cursor continues only the
// listing that returned it. With another q or filter it would continue
// after a listing of another result, skipping or repeating listings, so it
// is refused naming the cursor; the same search written otherwise ("LED"
// for "led ") and another page size keep it.
func TestListingsRefuseACursorOfAnotherListing(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	fen := domain.Fen(100_000)
	first := ListingQuery{Today: date("2024-06-30"), Text: "电池", Sort: SortNewest, Limit: 1}
	page, err := w.p.Listings(ctx, first)
	if err != nil || page.NextCursor == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	for _, q := range []ListingQuery{
		{Text: "芯片"}, {}, {Text: "电池", IPCPrefix: "H01M"}, {Text: "电池", Kind: domain.KindUtilityModel},
		{Text: "电池", PatenteeID: w.shenzen}, {Text: "电池", Region: "4401"}, {Text: "电池", FeeMode: domain.FeeFree},
		{Text: "电池", MaxFeeFen: &fen},
	} {
		q.Today, q.Sort, q.Limit, q.Cursor = first.Today, first.Sort, 1, *page.NextCursor
		_, err := w.p.Listings(ctx, q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || de.Fields[0].Field != "cursor" {
			t.Errorf("cursor of %+v used with %+v: got %v, want invalid cursor", first, q, err)
		}
	}
	same := ListingQuery{Today: first.Today, Text: " 电池， ", Sort: SortNewest, Limit: 5, Cursor: *page.NextCursor}
	if _, err := w.p.Listings(ctx, same); err != nil {
		t.Fatalf("the same search written otherwise: %v", err)
	}
}

// TestForgedRelevanceCursorsAreRefused: a relevance cursor whose score is
// none a listing has or keyString writes (NaN, Inf, a hex float, 1_0) was
// taken and started the listing again from its first page, so a client
// following it repeated that page; it is refused naming the cursor.
func TestForgedRelevanceCursorsAreRefused(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	q := ListingQuery{Today: date("2024-06-30"), Text: "电池", Sort: SortRelevance, Limit: 1}
	page, err := w.p.Listings(ctx, q)
	if err != nil || page.NextCursor == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	_, number, err := decodeCursor(*page.NextCursor, SortRelevance, q.filterDigest())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"fNaN", "fInf", "f-Inf", "f+Inf", "f0x1p-3", "f1_0", "f1e309", "f-0.50", "f"} {
		q.Cursor = encodeCursor(SortRelevance, q.filterDigest(), key, number)
		_, err := w.p.Listings(ctx, q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || de.Fields[0].Field != "cursor" {
			t.Errorf("key %s: %v, want an invalid cursor", key, err)
		}
	}
	q.Cursor = encodeCursor(SortRelevance, q.filterDigest(), "f-1.5", number)
	if _, err := w.p.Listings(ctx, q); err != nil {
		t.Errorf("a score as keyString writes it: %v", err)
	}
}

// TestListingPagesStayStableWhileTheLedgerGrows pages through a search in
// every order, one listing a page, while patents holding the searched word
// are declared between pages, in memory and in SQL: every listing of the
// first page's ledger comes exactly once and none comes twice. New patents
// move every BM25 score (the index's statistics change), so a relevance
// cursor continues after the current score of the listing it ended on,
// not after the score that listing had.
func TestListingPagesStayStableWhileTheLedgerGrows(t *testing.T) {
	for _, memory := range []bool{true, false} {
		for _, sortName := range []string{SortRelevance, SortNewest, SortFee} {
			t.Run(fmt.Sprintf("%s memory=%v", sortName, memory), func(t *testing.T) {
				pageThroughAGrowingLedger(t, sortName, memory)
			})
		}
	}
}

func pageThroughAGrowingLedger(t *testing.T, sortName string, memory bool) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	svc := newService(t, st)
	p, err := Start(ctx, st, filepath.Join(dir, FileName), Options{Logger: quietLogger(), Runner: fastRetries(), SQLOnly: !memory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	uni := registerOrg(t, svc, 1, orgSpec{"华南理工大学", domain.OrgUniversity, "440106", false})
	serial := 0
	add := func(title string, fee domain.Fen) {
		serial++
		n := patentNumber(t, 2020, 1, serial)
		registerPatent(t, svc, n, title, []string{"H01M 10/0562"}, date("2020-03-15"), uni)
		declare(t, svc, n, date("2024-01-01").AddDays(serial%3), 12, lumpSum(fee))
	}
	for i := range 8 {
		add("一种"+strings.Repeat("固态", i)+"电池", domain.Fen(100*(1+i%2)))
	}
	waitHead(t, p, st)
	if memory {
		if err := p.db.WarmUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	q := ListingQuery{Today: date("2024-06-30"), Text: "电池", Sort: sortName, Limit: 1}
	before, err := p.Listings(ctx, ListingQuery{Today: q.Today, Text: q.Text, Sort: sortName, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for pages := 1; ; pages++ {
		page, err := p.Listings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			seen[it.Number]++
		}
		if page.NextCursor == nil || pages == 100 {
			break
		}
		q.Cursor = *page.NextCursor
		if pages <= 5 {
			add("电池", 50)
			add("一种电池散热装置", 300)
			add("一种芯片", 100)
			waitHead(t, p, st)
		}
	}
	for n, times := range seen {
		if times != 1 {
			t.Errorf("%s listed %d times", n, times)
		}
	}
	for _, it := range before.Items {
		if seen[it.Number] != 1 {
			t.Errorf("%s, listed before the ledger grew, was missed", it.Number)
		}
	}
	if loaded := p.db.search.isLoaded(); loaded != memory {
		t.Fatalf("search index loaded: %v, want %v", loaded, memory)
	}
}

// TestListingsFollowAnAmendedDeclaration: terms never change, so new
// terms are a withdrawal and a new declaration from the day it takes
// effect. The listing offers the old terms up to the day before and the
// new ones from that day, by every filter they touch, in memory and in SQL.
func TestListingsFollowAnAmendedDeclaration(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	_, err := w.svc.WithdrawDeclaration(ctx, admin, w.n[1], domain.WithdrawDeclaration{DeclarationID: w.decl[1],
		EffectiveOn: date("2024-08-01"), Reason: "调整许可费"})
	if err != nil {
		t.Fatal(err)
	}
	amended := declare(t, w.svc, w.n[1], date("2024-08-01"), 12, domain.FeeTerms{Mode: domain.FeeFree})
	if err := w.p.WaitFor(ctx, amended.Position); err != nil {
		t.Fatal(err)
	}
	if err := w.p.db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		today, declaration string
		mode               domain.FeeMode
	}{{"2024-07-31", w.decl[1], domain.FeeLumpSum}, {"2024-08-01", amended.ID, domain.FeeFree}} {
		page, err := w.p.Listings(ctx, ListingQuery{Today: date(c.today), Text: "锂离子", FeeMode: c.mode})
		if err != nil || len(page.Items) != 1 || page.Items[0].DeclarationID != c.declaration {
			t.Errorf("on %s by %s: %+v, %v; want declaration %s", c.today, c.mode, page, err, c.declaration)
		}
		for _, other := range []domain.FeeMode{domain.FeeLumpSum, domain.FeeFree} {
			q := ListingQuery{Today: date(c.today), FeeMode: other, Limit: 1}
			compareListingPaths(t, w.p.db, q)
			q.Limit = MaxListingLimit
			if listed := slices.Contains(w.numbers(t, q), string(w.n[1])); listed != (other == c.mode) {
				t.Errorf("on %s, listed under %s: %v", c.today, other, listed)
			}
		}
	}
}

// TestListingsSayWhenAPledgeBlocksLicences: a listed patent pledged
// without the pledgee's consent stays listed (its declaration is in
// effect) but says so from the registration until the consent or the
// release, since no licence can be taken meanwhile; a pledge consented to
// at registration never does.
func TestListingsSayWhenAPledgeBlocksLicences(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	bank := registerOrg(t, w.svc, 4, orgSpec{"中国工商银行广州分行", domain.OrgBank, "440104", false})
	pledge := func(n domain.PatentNumber, owner, on string, consent bool) string {
		res, err := w.svc.RegisterPledge(ctx, admin, domain.RegisterPledge{PledgorID: owner, PledgeeID: bank,
			Patents: []string{string(n)}, SecuredAmountFen: 1_000_000, RegisteredOn: date(on),
			DebtDueOn: date(on).AddDays(365), OpenLicenseConsent: consent})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	consented := pledge(w.n[0], w.guangzhou, "2024-05-01", false)
	pledge(w.n[1], w.guangzhou, "2024-04-01", true)
	released := pledge(w.n[3], w.shenzen, "2024-07-01", false) // after its declaration: one before it would make the declaration break the rule
	if _, err := w.svc.ConsentPledge(ctx, admin, domain.ConsentPledge{PledgeID: consented, ConsentedOn: date("2024-08-01")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ReleasePledge(ctx, admin, domain.ReleasePledge{PledgeID: released, ReleasedOn: date("2024-09-01"),
		Reason: domain.ReleaseRepaid}); err != nil {
		t.Fatal(err)
	}
	waitHead(t, w.p, w.st)
	for _, c := range []struct {
		today   string
		blocked []domain.PatentNumber
	}{
		{"2024-04-30", nil},
		{"2024-05-01", []domain.PatentNumber{w.n[0]}},
		{"2024-07-31", []domain.PatentNumber{w.n[0], w.n[3]}},
		{"2024-08-01", []domain.PatentNumber{w.n[3]}},
		{"2024-09-01", nil},
	} {
		page, err := w.p.Listings(ctx, ListingQuery{Today: date(c.today), Limit: MaxListingLimit})
		if err != nil {
			t.Fatal(err)
		}
		var blocked []domain.PatentNumber
		for _, it := range page.Items {
			if it.PledgedWithoutConsent {
				blocked = append(blocked, domain.PatentNumber(it.Number))
			}
		}
		slices.Sort(blocked)
		if want := slices.Sorted(slices.Values(c.blocked)); !slices.Equal(blocked, want) {
			t.Errorf("on %s, pledged without consent: %v, want %v (of %d listed)", c.today, blocked, want, len(page.Items))
		}
	}
}

// TestDesignsAreFoundByTheirLocarnoClass: a design classified by Locarno
// only is listed with its class, and q finds it by the class (14-03, or
// LOC14-03) in memory and in SQL alike; another class, or an invention,
// is not found.
func TestDesignsAreFoundByTheirLocarnoClass(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	var designs []domain.PatentNumber
	for i, class := range []string{"14-03", "09-01"} {
		n := patentNumber(t, 2021, 3, 200+i)
		if _, err := w.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "包装盒", PatenteeIDs: []string{w.guangzhou},
			Locarno: class, FiledOn: date("2021-07-01"), GrantedOn: date("2022-01-10")}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: lumpSum(100_000), TermMonths: 12,
			DeclaredOn: date("2024-03-01"), EvaluationReportRef: "PJ-2022-001"}); err != nil {
			t.Fatal(err)
		}
		designs = append(designs, n)
	}
	waitHead(t, w.p, w.st)
	if err := w.p.db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	sqlOnly, err := Start(ctx, w.st, filepath.Join(t.TempDir(), FileName), Options{Logger: quietLogger(), Runner: fastRetries(), SQLOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlOnly.Close() })
	waitHead(t, sqlOnly, w.st)
	if !w.p.db.search.isLoaded() || sqlOnly.db.search.isLoaded() {
		t.Fatal("the search index is not loaded in memory, or is in the SQL-only pipeline")
	}
	for _, text := range []string{"14-03", "LOC14-03", "loc14-03 包装"} {
		for name, p := range map[string]*Pipeline{"in memory": w.p, "in SQL": sqlOnly} {
			page, err := p.Listings(ctx, ListingQuery{Today: date("2024-07-01"), Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 || page.Items[0].Number != string(designs[0]) || page.Items[0].Locarno != "14-03" {
				t.Errorf("%s, q=%s: %+v", name, text, page.Items)
			}
		}
	}
}

// TestAnOlderVersionsCursorSaysSo: a cursor of a version whose cursors
// carried no filter digest was refused as continuing "another q or other
// filters", sending the client looking for a change it had not made. It is
// refused saying that it comes from an earlier version; a cursor of this
// version under other filters is still refused as such.
func TestAnOlderVersionsCursorSaysSo(t *testing.T) {
	w := newListingWorld(t)
	for cur, want := range map[string]string{
		// A cursor as a build of 2026-11-27 handed it out: no "f".
		"eyJzIjoibmV3ZXN0IiwiayI6InMyMDI1LTAyLTI3IiwibiI6IlpMMjAxODEwMDUxNDk0LjQifQ":                          "was made by an earlier version of the server",
		encodeCursor(SortNewest, ListingQuery{Kind: "utility"}.filterDigest(), "s2024-01-01", string(w.n[0])): "continues a listing with another q or other filters",
	} {
		_, err := w.p.Listings(context.Background(), ListingQuery{Cursor: cur})
		var de *domain.Error
		if !errors.As(err, &de) || de.Fields[0].Field != "cursor" || !strings.Contains(err.Error(), want) {
			t.Errorf("cursor %s: %v, want invalid cursor saying %q", cur, err, want)
		}
	}
}

// TestPatenteeRegionsFollowTheLedger: the regions of the organisations
// holding patents, not of those holding none (the SME), each once, kept
// while the listings' checkpoint stands; after events, the kept answer
// stands for maxAge, then a patent of an organisation in another region is
// in the answer.
func TestPatenteeRegionsFollowTheLedger(t *testing.T) {
	w := newListingWorld(t)
	m := &w.p.db.regions
	ctx := context.Background()
	regions := func() []string {
		t.Helper()
		got, err := w.p.PatenteeRegions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := regions(); !slices.Equal(got, []string{"440106", "440305"}) {
		t.Fatalf("regions %v; want 440106 and 440305", got)
	}
	read := m.at
	m.maxAge = time.Nanosecond // aged, but the checkpoint stands
	if got := regions(); !slices.Equal(got, []string{"440106", "440305"}) || m.at != read {
		t.Fatalf("regions %v, read again at %v (first at %v) with the same checkpoint", got, m.at, read)
	}
	m.maxAge = time.Hour
	shanghai := registerOrg(t, w.svc, 4, orgSpec{"复旦大学", domain.OrgUniversity, "310104", false})
	registerPatent(t, w.svc, patentNumber(t, 2020, 1, 200), "一种电池隔膜", []string{"H01M 50/40"}, date("2020-03-15"), shanghai)
	waitHead(t, w.p, w.st)
	if got := regions(); !slices.Equal(got, []string{"440106", "440305"}) {
		t.Fatalf("regions within maxAge of the last read %v, want the kept answer", got)
	}
	m.maxAge = time.Nanosecond
	if got := regions(); !slices.Equal(got, []string{"310104", "440106", "440305"}) {
		t.Fatalf("regions after a Shanghai patent %v", got)
	}
}
