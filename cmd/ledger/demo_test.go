package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// demoPatents is how many patents the demo registers (the organisations'
// weights in demo_data.go add up to it).
const demoPatents = 300

func TestDemoPlanIsDeterministic(t *testing.T) {
	a, err := newDemoPlan(demoSeed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newDemoPlan(demoSeed)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.patents) != demoPatents || len(b.patents) != demoPatents {
		t.Fatalf("plans have %d and %d patents, want %d", len(a.patents), len(b.patents), demoPatents)
	}
	for i := range a.patents {
		pa, pb := a.patents[i], b.patents[i]
		if pa.number != pb.number || pa.title != pb.title || pa.filed != pb.filed || pa.actions != pb.actions {
			t.Fatalf("patent %d differs between two plans: %s %s / %s %s", i, pa.number, pa.title, pb.number, pb.title)
		}
	}
	if a.seq != b.seq || a.stats.commands != b.stats.commands {
		t.Fatalf("plans have %d and %d commands", a.stats.commands, b.stats.commands)
	}
	for i := range a.orgs {
		if a.orgs[i].credit != b.orgs[i].credit {
			t.Fatalf("credit code of %s differs", a.orgs[i].name)
		}
	}
}

// demoFacts are the events of a loaded demo, sorted by type.
type demoFacts struct {
	orgs        []domain.OrgRegistered
	patents     []domain.PatentRegistered
	status      []domain.PatentStatusChanged
	suspensions []domain.PatentSuspensionChanged
	fees        []domain.AnnualFeeStatusChanged
	decls       []domain.DeclarationFiled
	withdrawals []domain.DeclarationWithdrawn
	licences    []domain.LicenseGranted
	recordals   []domain.LicenseRecorded
	royalties   []domain.RoyaltyPaid
	transfers   []domain.PatentTransferred
	pledges     map[string]domain.PledgeRegistered
	consents    map[string]bool
	releases    map[string]bool
	reviews     []domain.ReviewRecorded
	corrections []domain.ReviewCorrected
}

func readDemoFacts(t *testing.T, st domain.EventStore) demoFacts {
	t.Helper()
	f := demoFacts{pledges: map[string]domain.PledgeRegistered{}, consents: map[string]bool{}, releases: map[string]bool{}}
	var after int64
	for {
		batch, err := st.ReadAll(context.Background(), after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return f
		}
		for _, re := range batch {
			after = re.Position
			e, err := domain.DefaultCodec.Decode(re.Type, re.Data)
			if err != nil {
				t.Fatalf("position %d: %v", re.Position, err)
			}
			switch v := e.(type) {
			case domain.OrgRegistered:
				f.orgs = append(f.orgs, v)
			case domain.PatentRegistered:
				f.patents = append(f.patents, v)
			case domain.PatentStatusChanged:
				f.status = append(f.status, v)
			case domain.PatentSuspensionChanged:
				f.suspensions = append(f.suspensions, v)
			case domain.AnnualFeeStatusChanged:
				f.fees = append(f.fees, v)
			case domain.DeclarationFiled:
				f.decls = append(f.decls, v)
			case domain.DeclarationWithdrawn:
				f.withdrawals = append(f.withdrawals, v)
			case domain.LicenseGranted:
				f.licences = append(f.licences, v)
			case domain.LicenseRecorded:
				f.recordals = append(f.recordals, v)
			case domain.RoyaltyPaid:
				f.royalties = append(f.royalties, v)
			case domain.PatentTransferred:
				f.transfers = append(f.transfers, v)
			case domain.PledgeRegistered:
				f.pledges[v.PledgeID] = v
			case domain.PledgeConsented:
				f.consents[v.PledgeID] = true
			case domain.PledgeReleased:
				f.releases[v.PledgeID] = true
			case domain.ReviewRecorded:
				f.reviews = append(f.reviews, v)
			case domain.ReviewCorrected:
				f.corrections = append(f.corrections, v)
			}
		}
	}
}

func TestDemoLoad(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: newID})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	start := time.Now()
	keys, err := loadDemo(ctx, svc, "http://127.0.0.1:8080", &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())

	f := readDemoFacts(t, st)
	checkDemoOrgs(t, f)
	checkDemoPatents(t, f)
	checkDemoDeclarations(t, f)
	checkDemoLicences(t, f)
	checkDemoOtherFacts(t, f)
	checkDemoKeys(t, svc, keys, out.String())
	checkDemoExamples(t, svc, keys)

	res, err := domain.VerifyChain(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Intact() || res.Events != head.Position {
		t.Fatalf("chain: intact %v, %d events, head %d: %s", res.Intact(), res.Events, head.Position, res.Reason)
	}

	out.Reset()
	if _, err := loadDemo(ctx, svc, "", &out); !errors.Is(err, errDemoNotEmpty) {
		t.Fatalf("second load: err = %v, want errDemoNotEmpty", err)
	}
	if again, _ := st.Head(ctx); again.Position != head.Position {
		t.Fatalf("the refused second load moved the head from %d to %d", head.Position, again.Position)
	}
}

func checkDemoOrgs(t *testing.T, f demoFacts) {
	t.Helper()
	kinds := map[domain.OrgKind]int{}
	uniRegions := map[domain.RegionCode]bool{}
	smes := 0
	for _, o := range f.orgs {
		kinds[o.Kind]++
		switch o.Kind {
		case domain.OrgUniversity, domain.OrgResearchInstitute:
			uniRegions[o.RegionCode] = true
			if !strings.HasPrefix(string(o.CreditCode), "12") {
				t.Errorf("%s: credit code %s does not start with 12", o.Name, o.CreditCode)
			}
		case domain.OrgEnterprise:
			if o.SME {
				smes++
			}
			if !strings.HasPrefix(string(o.CreditCode), "91") {
				t.Errorf("%s: credit code %s does not start with 91", o.Name, o.CreditCode)
			}
		case domain.OrgRegulator:
			if o.RegionCode != "440100" {
				t.Errorf("regulator %s in region %s, want 440100", o.Name, o.RegionCode)
			}
		}
		if _, err := domain.ParseCreditCode(string(o.CreditCode)); err != nil {
			t.Errorf("%s: %v", o.Name, err)
		}
	}
	if kinds[domain.OrgUniversity] < 5 || kinds[domain.OrgResearchInstitute] < 1 || smes < 12 ||
		kinds[domain.OrgEnterprise]-smes != 2 || kinds[domain.OrgBank] != 2 || kinds[domain.OrgRegulator] != 1 {
		t.Errorf("organisations by kind %v, SMEs %d", kinds, smes)
	}
	for _, r := range []domain.RegionCode{"440106", "440105", "440113"} {
		if !uniRegions[r] {
			t.Errorf("no university in %s", r)
		}
	}
}

func checkDemoPatents(t *testing.T, f demoFacts) {
	t.Helper()
	if len(f.patents) != demoPatents {
		t.Fatalf("%d patents, want %d", len(f.patents), demoPatents)
	}
	kinds := map[domain.PatentKind]int{}
	titles := map[string]bool{}
	coOwned := 0
	for _, p := range f.patents {
		kinds[p.Kind]++
		titles[p.Title] = true
		if len(p.PatenteeIDs) > 1 {
			coOwned++
		}
		for _, c := range p.IPC {
			if !domain.KnownIPC(c) {
				t.Errorf("%s: IPC %s not in the reference list", p.Number, c)
			}
		}
		if p.Kind == domain.KindDesign && p.Locarno == "" {
			t.Errorf("design %s without Locarno class", p.Number)
		}
		y := p.FiledOn.Year()
		if y < 2014 || y > 2022 || p.GrantedOn.DaysSince(p.FiledOn) < 150 || p.GrantedOn.DaysSince(p.FiledOn) > 3*366 {
			t.Errorf("%s filed %s, granted %s", p.Number, p.FiledOn, p.GrantedOn)
		}
	}
	if len(titles) != demoPatents {
		t.Errorf("%d distinct titles for %d patents", len(titles), demoPatents)
	}
	if kinds[domain.KindInvention] < demoPatents/2 || kinds[domain.KindUtilityModel] == 0 || kinds[domain.KindDesign] == 0 || coOwned == 0 {
		t.Errorf("patents by kind %v, %d co-owned", kinds, coOwned)
	}
}

func checkDemoDeclarations(t *testing.T, f demoFacts) {
	t.Helper()
	modes := map[domain.FeeMode]int{}
	bases := map[domain.RoyaltyBase]bool{}
	years := map[int]bool{}
	consent := 0
	for _, d := range f.decls {
		modes[d.Fee.Mode]++
		if d.Fee.RoyaltyBase != "" {
			bases[d.Fee.RoyaltyBase] = true
		}
		years[d.DeclaredOn.Year()] = true
		if len(d.CoOwnerConsent) > 0 {
			consent++
		}
		if n := d.TermMonths; n < 1 || n > 60 {
			t.Errorf("declaration %s: term %d months", d.DeclarationID, n)
		}
	}
	for _, m := range []domain.FeeMode{domain.FeeFree, domain.FeeLumpSum, domain.FeeInstalment, domain.FeeRoyalty, domain.FeeEntryPlusRoyalty} {
		if modes[m] == 0 {
			t.Errorf("no declaration in fee mode %s (%v)", m, modes)
		}
	}
	if !bases[domain.BaseNetSales] || !bases[domain.BaseProfit] {
		t.Errorf("royalty bases %v", bases)
	}
	if !years[2023] || !years[2024] || !years[2025] || consent == 0 {
		t.Errorf("declaration years %v, %d with co-owner consent", years, consent)
	}
	if len(f.withdrawals) == 0 {
		t.Error("no withdrawal")
	}
	withdrawn := map[string]domain.Date{}
	for _, w := range f.withdrawals {
		withdrawn[w.DeclarationID] = w.EffectiveOn
	}
	for _, l := range f.licences {
		if w, ok := withdrawn[l.DeclarationID]; ok && !l.EffectiveOn.Before(w) {
			t.Errorf("licence %s effective %s under a declaration withdrawn on %s", l.LicenseID, l.EffectiveOn, w)
		}
	}
}

func checkDemoLicences(t *testing.T, f demoFacts) {
	t.Helper()
	types := map[domain.LicenseType]int{}
	years := map[int]int{}
	licensees := map[domain.PatentNumber]map[string]bool{}
	for _, l := range f.licences {
		types[l.Type]++
		years[l.EffectiveOn.Year()]++
		if licensees[l.Number] == nil {
			licensees[l.Number] = map[string]bool{}
		}
		licensees[l.Number][l.LicenseeID] = true
	}
	for _, typ := range domain.LicenseTypes {
		if types[typ] == 0 {
			t.Errorf("no %s licence (%v)", typ, types)
		}
	}
	for _, y := range []int{2023, 2024, 2025} {
		if years[y] == 0 {
			t.Errorf("no licence effective in %d (%v)", y, years)
		}
	}
	multi := 0
	for _, ls := range licensees {
		if len(ls) >= 2 {
			multi++
		}
	}
	if share := float64(multi) / float64(len(licensees)); share < 0.30 {
		t.Errorf("%d of %d licensed patents (%.0f%%) have two or more licensees, want ≥ 30%%", multi, len(licensees), share*100)
	}
	late := 0
	for _, r := range f.recordals {
		if r.RecordedOn.After(r.DueBy) {
			late++
		}
	}
	if missing := len(f.licences) - len(f.recordals); len(f.recordals) < len(f.licences)/2 || late == 0 || missing == 0 {
		t.Errorf("%d licences, %d recorded (%d late), %d missing", len(f.licences), len(f.recordals), late, missing)
	}
	if len(f.royalties) == 0 {
		t.Error("no royalty payment")
	}
}

func checkDemoOtherFacts(t *testing.T, f demoFacts) {
	t.Helper()
	kinds := map[string]domain.OrgKind{}
	for _, o := range f.orgs {
		kinds[o.OrgID] = o.Kind
	}
	uniToEnterprise := 0
	for _, tr := range f.transfers {
		if kinds[tr.FromIDs[0]] == domain.OrgUniversity && kinds[tr.ToIDs[0]] == domain.OrgEnterprise {
			uniToEnterprise++
		}
	}
	if uniToEnterprise == 0 {
		t.Errorf("%d transfers, none from a university to an enterprise", len(f.transfers))
	}
	multi, withConsent := 0, 0
	for _, p := range f.pledges {
		if len(p.Patents) > 1 {
			multi++
		}
		if p.OpenLicenseConsent {
			withConsent++
		}
		if kinds[p.PledgeeID] != domain.OrgBank {
			t.Errorf("pledge %s to a %s", p.PledgeID, kinds[p.PledgeeID])
		}
	}
	if len(f.pledges) == 0 || multi == 0 || withConsent == 0 || len(f.consents) == 0 || len(f.releases) == 0 {
		t.Errorf("%d pledges (%d over several patents, %d with consent), %d consented later, %d released",
			len(f.pledges), multi, withConsent, len(f.consents), len(f.releases))
	}
	statuses := map[domain.PatentStatus]bool{}
	for _, s := range f.status {
		statuses[s.Status] = true
	}
	if !statuses[domain.StatusLapsed] || len(f.suspensions) == 0 || len(f.fees) == 0 {
		t.Errorf("statuses %v, %d suspension changes, %d annual-fee changes", statuses, len(f.suspensions), len(f.fees))
	}
	grades, disps := map[domain.Grade]bool{}, map[domain.Disposition]bool{}
	for _, r := range f.reviews {
		if r.Campaign != "2024" || r.ReviewedOn.Year() != 2024 || kinds[r.ReviewerID] != domain.OrgUniversity {
			t.Errorf("review of %s: campaign %s on %s by a %s", r.Number, r.Campaign, r.ReviewedOn, kinds[r.ReviewerID])
		}
		grades[r.Grade] = true
		disps[r.Disposition] = true
	}
	if len(f.reviews) == 0 || len(grades) < 3 || len(disps) < 4 || len(f.corrections) == 0 {
		t.Errorf("%d reviews, grades %v, dispositions %v, %d corrections", len(f.reviews), grades, disps, len(f.corrections))
	}
}

var demoKeyPattern = regexp.MustCompile(`^lk_([^_]+)_([^_]+)_([^_]+)$`)

func checkDemoKeys(t *testing.T, svc *domain.Service, keys demoKeys, out string) {
	t.Helper()
	want := map[string]domain.OrgKind{"university": domain.OrgUniversity, "sme": domain.OrgEnterprise,
		"bank": domain.OrgBank, "regulator": domain.OrgRegulator}
	for _, k := range keys.All() {
		m := demoKeyPattern.FindStringSubmatch(k.Key)
		if m == nil || m[1] != k.OrgID {
			t.Errorf("%s key %q is not lk_<org id>_<key id>_<secret>", k.Role, k.Key)
			continue
		}
		org, err := svc.Org(context.Background(), m[1])
		if err != nil {
			t.Fatal(err)
		}
		if !org.KeyMatches(m[2], m[3]) {
			t.Errorf("%s key does not authenticate", k.Role)
		}
		if org.KeyMatches(m[2], m[3]+"0") {
			t.Errorf("%s key authenticates with a wrong secret", k.Role)
		}
		if org.Kind != want[k.Role] || (k.Role == "sme" && !org.SME) {
			t.Errorf("%s key belongs to %s, a %s", k.Role, org.Name, org.Kind)
		}
		if !strings.Contains(out, k.Key) || !strings.Contains(out, k.Example) || !strings.Contains(k.Example, "Bearer "+k.Key) {
			t.Errorf("%s key or its example is not printed: %q", k.Role, k.Example)
		}
	}
}

// demoCurl extracts the patent, the route and the JSON body of a write
// example.
var demoCurl = regexp.MustCompile(`/v1/patents/(ZL[0-9X.]+)/(licenses|reviews) -d '(\{.*\})'$`)

// checkDemoExamples runs the write examples through the service, as the
// server would for the key's organisation.
func checkDemoExamples(t *testing.T, svc *domain.Service, keys demoKeys) {
	t.Helper()
	ctx := context.Background()
	m := demoCurl.FindStringSubmatch(keys.SME.Example)
	if m == nil || m[2] != "licenses" {
		t.Fatalf("SME example does not take a licence: %s", keys.SME.Example)
	}
	var lic domain.GrantLicense
	if err := json.Unmarshal([]byte(m[3]), &lic); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GrantLicense(ctx, domain.Request{Actor: domain.OrgActor(keys.SME.OrgID)}, domain.PatentNumber(m[1]), lic); err != nil {
		t.Errorf("SME example: %v", err)
	}
	m = demoCurl.FindStringSubmatch(keys.University.Example)
	if m == nil || m[2] != "reviews" {
		t.Fatalf("university example does not review: %s", keys.University.Example)
	}
	var rev domain.RecordReview
	if err := json.Unmarshal([]byte(m[3]), &rev); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordReview(ctx, domain.Request{Actor: domain.OrgActor(keys.University.OrgID)}, domain.PatentNumber(m[1]), rev); err != nil {
		t.Errorf("university example: %v", err)
	}
	if slices.ContainsFunc([]string{keys.Bank.Example, keys.Regulator.Example}, func(s string) bool { return !strings.HasPrefix(s, "curl ") }) {
		t.Errorf("bank and regulator examples: %q, %q", keys.Bank.Example, keys.Regulator.Example)
	}
}
