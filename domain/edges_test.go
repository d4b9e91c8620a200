package domain

import (
	"errors"
	"strings"
	"testing"
)

// TestRuleEdges pins rules that no other test would notice breaking: sole
// licences beside exclusive ones, designs, overpayment, every inactive
// status, and who reviews.
func TestRuleEdges(t *testing.T) {
	reg := registered(t)
	design := registeredKind(t, "202030123456")
	decl := declared(t, "D1", "2024-01-01")
	sole := GrantLicense{Type: LicenseSole, LicenseeID: sme, EffectiveOn: day("2024-03-01"), EndsOn: day("2025-02-28")}
	ordinary := func(from, to string) GrantLicense {
		return GrantLicense{Type: LicenseOrdinary, LicenseeID: sme2, EffectiveOn: day(from), EndsOn: day(to)}
	}
	promo := declareOn("2024-03-01")
	promo.OtherTerms = "客户满意度100%"
	toFirm := func(on string) TransferPatent { return TransferPatent{ToIDs: []string{firm}, EffectiveOn: day(on)} }
	transferIn2041 := func(c TransferPatent) func(decision, *Patent) ([]Event, error) { // once the patent has expired
		return func(d decision, p *Patent) ([]Event, error) {
			d.today = day("2041-01-01")
			return p.Transfer(d, c)
		}
	}
	review := func(reviewer string) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			return p.RecordReview(d, RecordReview{Campaign: "2024", ReviewedOn: day("2024-06-30"), Grade: GradeLow,
				Disposition: DispositionMaintain, ReviewerID: reviewer})
		}
	}
	reviewedBy := func(reviewer string) []Event {
		return []Event{ReviewRecorded{Number: reg.Number, Campaign: "2024", ReviewerID: reviewer, ReviewedOn: day("2024-06-30"),
			Grade: GradeLow, Disposition: DispositionMaintain}}
	}
	reviewOn := func(on string) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			d.today = day("2041-01-01") // once the patent has expired
			return p.RecordReview(d, RecordReview{Campaign: "2024", ReviewedOn: day(on), Grade: GradeLow, Disposition: DispositionMaintain})
		}
	}
	co := registered(t, uni, firm)
	runCases(t, []ruleCase{
		{name: "patent_not_active: a review after the expiry", given: []Event{reg}, when: reviewOn("2040-03-15"), rule: RulePatentNotActive},
		{name: "a review on the expiry day passes", given: []Event{reg}, when: reviewOn("2040-03-14")},
		{name: "patent_not_active: a review before the grant", given: []Event{reg}, when: reviewOn("2022-01-09"), rule: RulePatentNotActive},
		{name: "patent_not_active: a review of a lapsed patent", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, when: reviewOn("2024-06-30"), rule: RulePatentNotActive},
		{name: "open_license_active for a sole licence", given: []Event{reg, decl}, when: grant(sole), rule: RuleOpenLicenseActive},
		{name: "exclusive_license_in_force under a sole licence", given: []Event{reg, licensed(t, "L1", LicenseSole, sme, "2024-01-01", "2024-12-31")}, when: grant(ordinary("2024-12-31", "2025-12-31")), rule: RuleExclusiveLicenseInForce},
		{name: "after the sole licence ends passes", given: []Event{reg, licensed(t, "L1", LicenseSole, sme, "2024-01-01", "2024-12-31")}, when: grant(ordinary("2025-01-01", "2025-12-31"))},
		{name: "a declaration refused under a sole licence", given: []Event{reg, licensed(t, "L1", LicenseSole, sme, "2025-01-01", "2025-12-31")}, when: declare(declareOn("2024-03-01")), rule: RuleExclusiveLicenseInForce},
		{name: "evaluation_report_required for a design", given: []Event{design}, when: declare(declareOn("2024-03-01")), rule: RuleEvaluationReportRequired},
		{name: "promotional_language 100%", given: []Event{reg}, when: declare(promo), rule: RulePromotionalLanguage},
		{name: "fee_mismatch on overpayment", given: []Event{reg, decl}, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 5_000_001)), rule: RuleFeeMismatch},
		{name: "patent_not_active: transfer of a lapsed patent", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, when: transfer(toFirm("2024-03-01")), rule: RulePatentNotActive},
		{name: "patent_not_active: transfer of an expired patent", given: []Event{reg}, when: transferIn2041(toFirm("2040-03-15")), rule: RulePatentNotActive},
		{name: "transfer on the expiry date passes", given: []Event{reg}, when: transferIn2041(toFirm("2040-03-14"))},
		{name: "patent_not_active: licence of a lapsed patent", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, when: grant(ordinary("2024-03-01", "2024-12-31")), rule: RulePatentNotActive},
		{name: "patent_not_active: licence of an expired patent", given: []Event{reg}, when: grant(ordinary("2040-03-15", "2040-12-31")), rule: RulePatentNotActive},
		{name: "patent_not_active: licence before the grant", given: []Event{reg}, when: grant(ordinary("2022-01-09", "2022-12-31")), rule: RulePatentNotActive},
		{name: "licence on the grant day passes", given: []Event{reg}, when: grant(ordinary("2022-01-10", "2022-12-31"))},
		{name: "exclusive_license_in_force: an exclusive licence over an ordinary one in force", given: []Event{reg, licensed(t, "L1", LicenseOrdinary, sme2, "2024-01-01", "2024-12-31")},
			when: grant(GrantLicense{Type: LicenseExclusive, LicenseeID: sme, EffectiveOn: day("2024-12-31"), EndsOn: day("2025-12-31")}), rule: RuleExclusiveLicenseInForce},
		{name: "exclusive_license_in_force: a sole licence over an ordinary one to come", given: []Event{reg, licensed(t, "L1", LicenseOrdinary, sme2, "2025-01-01", "2025-12-31")},
			when: grant(sole), rule: RuleExclusiveLicenseInForce},
		{name: "an exclusive licence after the ordinary one ends passes", given: []Event{reg, licensed(t, "L1", LicenseOrdinary, sme2, "2024-01-01", "2024-12-31")},
			when: grant(GrantLicense{Type: LicenseExclusive, LicenseeID: sme, EffectiveOn: day("2025-01-01"), EndsOn: day("2025-12-31")})},
		{name: "term_exceeds_patent: a licence past the expiry", given: []Event{reg}, when: grant(ordinary("2040-01-01", "2040-03-15")), rule: RuleTermExceedsPatent},
		{name: "a licence to the expiry day passes", given: []Event{reg}, when: grant(ordinary("2040-01-01", "2040-03-14"))},
		{name: "an open licence dated tomorrow is refused", given: []Event{reg, decl}, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-07-02", 5_000_000)), code: CodeInvalidArgument},
		{name: "an open licence dated today passes", given: []Event{reg, decl}, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-07-01", 5_000_000))},
		{name: "the admin reviews as the named reviewer", given: []Event{co}, actor: AdminActor, when: review(firm), then: reviewedBy(firm)},
		{name: "the admin reviews as the first patentee by default", given: []Event{co}, actor: AdminActor, when: review(""), then: reviewedBy(uni)},
		{name: "not_patentee: the admin names a stranger", given: []Event{co}, actor: AdminActor, when: review(sme), rule: RuleNotPatentee},
		{name: "an organisation reviews as itself, whatever it names", given: []Event{co}, actor: OrgActor(firm), when: review(uni), then: reviewedBy(firm)},
	})
}

// TestExclusiveLicenseOnCountsSole: a sole licence is found like an
// exclusive one, an ordinary one is not.
func TestExclusiveLicenseOnCountsSole(t *testing.T) {
	p := &Patent{}
	for _, e := range []Event{registered(t), licensed(t, "L1", LicenseOrdinary, sme, "2024-01-01", "2024-12-31"),
		licensed(t, "L2", LicenseSole, sme2, "2024-06-01", "2024-12-31")} {
		p.Apply(e)
	}
	if l := p.ExclusiveLicenseOn(day("2024-06-01")); l == nil || l.LicenseID != "L2" {
		t.Errorf("ExclusiveLicenseOn(2024-06-01) = %v, want the sole licence L2", l)
	}
	if l := p.ExclusiveLicenseOn(day("2024-05-31")); l != nil {
		t.Errorf("ExclusiveLicenseOn(2024-05-31) = %v, want none", l)
	}
}

// TestLicensorsArePatenteesOnTheEffectiveDate: an open licence effective
// before a transfer, taken after it, was concluded with the patentees of
// its effective date; one effective on or after the transfer with the
// assignees.
func TestLicensorsArePatenteesOnTheEffectiveDate(t *testing.T) {
	reg := registered(t)
	moved := PatentTransferred{Number: reg.Number, TransferID: "T1", FromIDs: []string{uni}, ToIDs: []string{firm},
		EffectiveOn: day("2024-06-01")}
	for on, want := range map[string]string{"2024-05-31": uni, "2024-06-01": firm, "2024-09-01": firm} {
		p := &Patent{}
		for _, e := range []Event{reg, declared(t, "D1", "2024-01-01"), moved} {
			p.Apply(e)
		}
		events, err := p.GrantLicense(decision{actor: OrgActor(sme), today: day("2024-12-31"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}, openLicense(sme, on, 5_000_000))
		if err != nil {
			t.Fatalf("open licence on %s: %v", on, err)
		}
		if got := events[0].(LicenseGranted).LicensorIDs; len(got) != 1 || got[0] != want {
			t.Errorf("licensors of the licence effective on %s = %v, want [%s]", on, got, want)
		}
	}
}

// TestTermsEndOnTheMonthsLastDay: a term of months, a licence term or a
// patent term, ends the day before the same day of its last month or, when
// that month has no such day, on its last day: it never loses a day to a
// short month or a leap day.
func TestTermsEndOnTheMonthsLastDay(t *testing.T) {
	for _, c := range []struct {
		start  string
		months int
		ends   string
	}{
		{"2024-03-01", 1, "2024-03-31"}, {"2024-03-31", 1, "2024-04-30"}, {"2024-01-31", 1, "2024-02-29"},
		{"2024-01-30", 1, "2024-02-29"}, {"2024-01-29", 1, "2024-02-28"}, {"2023-01-31", 1, "2023-02-28"},
		{"2024-02-29", 12, "2025-02-28"}, {"2024-02-29", 48, "2028-02-28"}, {"2024-03-01", 36, "2027-02-28"},
		{"2024-08-31", 6, "2025-02-28"}, {"2024-12-31", 2, "2025-02-28"}, {"2024-01-15", 240, "2044-01-14"},
	} {
		if got := TermEndsOn(day(c.start), c.months); got != day(c.ends) {
			t.Errorf("TermEndsOn(%s, %d) = %s, want %s", c.start, c.months, got, c.ends)
		}
	}
	for _, c := range []struct {
		kind           PatentKind
		filed, expires string
	}{
		{KindUtilityModel, "2020-02-29", "2030-02-28"}, {KindDesign, "2024-02-29", "2039-02-28"},
		{KindInvention, "2080-02-29", "2100-02-28"}, {KindInvention, "2020-02-29", "2040-02-28"},
		{KindUtilityModel, "2021-03-01", "2031-02-28"},
	} {
		if got := ExpiryDate(c.kind, day(c.filed)); got != day(c.expires) {
			t.Errorf("ExpiryDate(%s, %s) = %s, want %s", c.kind, c.filed, got, c.expires)
		}
	}
}

// TestRulesCountTheTermsLastDay: the declaration's and the patent's last
// days, on a month end and a leap day, are days of the term.
func TestRulesCountTheTermsLastDay(t *testing.T) {
	reg := registered(t)
	monthEnd := declared(t, "D1", "2024-03-31")
	monthEnd.TermMonths, monthEnd.TermEndsOn = 1, TermEndsOn(day("2024-03-31"), 1)
	utility := registeredKind(t, "202020123456")
	utility.FiledOn, utility.GrantedOn = day("2020-02-29"), day("2020-10-09")
	utility.ExpiresOn = ExpiryDate(KindUtilityModel, utility.FiledOn)
	lastYear := FileDeclaration{Fee: lumpSum(100), TermMonths: 12, DeclaredOn: day("2029-03-01"), EvaluationReportRef: "PJ1"}
	oneDayMore := lastYear
	oneDayMore.DeclaredOn = day("2029-03-02")
	runCases(t, []ruleCase{
		{name: "open licence on the term's last day, a month end", given: []Event{reg, monthEnd}, actor: OrgActor(sme),
			when: grant(openLicense(sme, "2024-04-30", 5_000_000))},
		{name: "declaration_not_in_effect the day after", given: []Event{reg, monthEnd}, actor: OrgActor(sme),
			when: grant(openLicense(sme, "2024-05-01", 5_000_000)), rule: RuleDeclarationNotInEffect},
		{name: "a term ending on a leap-day patent's last day passes", given: []Event{utility}, when: declare(lastYear)},
		{name: "term_exceeds_patent one day later", given: []Event{utility}, when: declare(oneDayMore), rule: RuleTermExceedsPatent},
	})
}

// TestSelfLicenseCountsThePatenteesOfTheEffectiveDate: a former patentee
// cannot take or be granted a licence dated when it held the patent, when
// it would be its own licensor; dated after the transfer it may.
func TestSelfLicenseCountsThePatenteesOfTheEffectiveDate(t *testing.T) {
	reg := registered(t)
	toFirm := transferredTo(reg, "T1", "2024-06-01", firm)
	decl := declared(t, "D1", "2024-01-01")
	ordinary := func(on string) GrantLicense {
		return GrantLicense{Type: LicenseOrdinary, LicenseeID: uni, EffectiveOn: day(on), EndsOn: day("2025-12-31")}
	}
	runCases(t, []ruleCase{
		{name: "open licence dated before the transfer", given: []Event{reg, decl, toFirm}, actor: OrgActor(uni),
			when: grant(openLicense(uni, "2024-05-31", 5_000_000)), rule: RuleSelfLicense},
		{name: "ordinary licence dated before the transfer", given: []Event{reg, toFirm}, actor: AdminActor,
			when: grant(ordinary("2024-05-31")), rule: RuleSelfLicense},
		{name: "open licence dated on the transfer's day passes", given: []Event{reg, decl, toFirm}, actor: OrgActor(uni),
			when: grant(openLicense(uni, "2024-06-01", 5_000_000))},
		{name: "ordinary licence from the new patentee passes", given: []Event{reg, toFirm}, actor: OrgActor(firm),
			when: grant(ordinary("2024-06-01"))},
	})
}

// TestPledgorIsAPatenteeOnTheRegistrationDate: a pledgor that became a
// patentee by a transfer cannot have pledged the patent before it, and a
// former patentee can have pledged it while it held it: a pledge recorded
// after the transfer is decided as it was before it (the transfer needs
// the pledgee's consent, as when the pledge is recorded first), not
// refused because the pledgor holds the patent no more.
func TestPledgorIsAPatenteeOnTheRegistrationDate(t *testing.T) {
	reg := registered(t)
	toFirm := transferredTo(reg, "T1", "2024-06-01", firm)
	by := func(pledgor, on string, consent bool) RegisterPledge {
		return RegisterPledge{PledgorID: pledgor, PledgeeID: bank, Patents: []string{string(reg.Number)},
			SecuredAmountFen: 1, RegisteredOn: day(on), DebtDueOn: day("2030-01-01"), OpenLicenseConsent: consent}
	}
	runCases(t, []ruleCase{
		{name: "registered the day before the transfer", given: []Event{reg, toFirm}, actor: OrgActor(bank), when: pledge(by(firm, "2024-05-31", false)),
			rule: RuleNotPatentee},
		{name: "registered on the transfer's day passes", given: []Event{reg, toFirm}, actor: OrgActor(bank), when: pledge(by(firm, "2024-06-01", false))},
		{name: "the former patentee's, before the transfer, with consent", given: []Event{reg, toFirm}, actor: OrgActor(bank),
			when: pledge(by(uni, "2024-05-31", true))},
		{name: "the former patentee's, before the transfer, by the admin", given: []Event{reg, toFirm}, actor: AdminActor,
			when: pledge(by(uni, "2024-05-31", true))},
		{name: "the former patentee's, before the transfer, without consent", given: []Event{reg, toFirm}, actor: OrgActor(bank),
			when: pledge(by(uni, "2024-05-31", false)), rule: RulePledgedWithoutConsent},
		{name: "the former patentee's, on the transfer's day", given: []Event{reg, toFirm}, actor: OrgActor(bank),
			when: pledge(by(uni, "2024-06-01", true)), rule: RuleNotPatentee},
	})
}

// TestOpenLicencesSurvivingAWithdrawalKeepOutSoleAndExclusive: open
// licences taken before a withdrawal stay valid to the declaration's term
// (PL 50(2)); no sole or exclusive licence may overlap them.
func TestOpenLicencesSurvivingAWithdrawalKeepOutSoleAndExclusive(t *testing.T) {
	reg := registered(t)
	given := []Event{reg, declared(t, "D1", "2024-01-01"), licensed(t, "L1", LicenseOpen, sme, "2024-03-01", "2026-12-31"),
		withdrawn(t, "D1", "2024-06-01")}
	negotiated := func(typ LicenseType, from, to string) GrantLicense {
		return GrantLicense{Type: typ, LicenseeID: sme2, EffectiveOn: day(from), EndsOn: day(to)}
	}
	runCases(t, []ruleCase{
		{name: "exclusive from the withdrawal", given: given, when: grant(negotiated(LicenseExclusive, "2024-06-01", "2025-05-31")), rule: RuleOpenLicenseActive},
		{name: "sole on the open licence's last day", given: given, when: grant(negotiated(LicenseSole, "2026-12-31", "2027-12-31")), rule: RuleOpenLicenseActive},
		{name: "exclusive after the open licence ends passes", given: given, when: grant(negotiated(LicenseExclusive, "2027-01-01", "2027-12-31"))},
		{name: "ordinary beside it passes", given: given, when: grant(negotiated(LicenseOrdinary, "2024-06-01", "2025-05-31"))},
	})
}

// TestInactiveAndPledgedPatentsOnTheDay: every inactive status refuses a
// declaration from its effective day; a pledgee's later consent allows a
// licence or a transfer from its day, not the day before.
func TestInactiveAndPledgedPatentsOnTheDay(t *testing.T) {
	reg := registered(t)
	pl := pledged(t, "P1", "2024-01-01", false)
	consented := PledgeConsented{Number: reg.Number, PledgeID: "P1", ConsentedOn: day("2024-03-01")}
	ordinary := func(on string) GrantLicense {
		return GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day(on), EndsOn: day("2024-12-31")}
	}
	toFirm := func(on string) TransferPatent { return TransferPatent{ToIDs: []string{firm}, EffectiveOn: day(on)} }
	afterExpiry := declareOn("2040-03-15")
	afterExpiry.TermMonths = 1
	cases := []ruleCase{
		{name: "patent_not_active: declared the day after expiry", given: []Event{reg}, when: declare(afterExpiry), rule: RulePatentNotActive},
		{name: "licence the day before the consent", given: []Event{reg, pl, consented}, when: grant(ordinary("2024-02-29")), rule: RulePledgedWithoutConsent},
		{name: "licence on the consent's day passes", given: []Event{reg, pl, consented}, when: grant(ordinary("2024-03-01"))},
		{name: "transfer the day before the consent", given: []Event{reg, pl, consented}, when: transfer(toFirm("2024-02-29")), rule: RulePledgedWithoutConsent},
		{name: "transfer on the consent's day passes", given: []Event{reg, pl, consented}, when: transfer(toFirm("2024-03-01"))},
	}
	for _, s := range []PatentStatus{StatusLapsed, StatusInvalidated, StatusAbandoned} {
		cases = append(cases,
			ruleCase{name: "patent_not_active: declared on the day it became " + string(s), given: []Event{reg, statusOn(t, s, "2024-03-01")},
				when: declare(declareOn("2024-03-01")), rule: RulePatentNotActive},
			ruleCase{name: "declared the day before it became " + string(s) + " passes", given: []Event{reg, statusOn(t, s, "2024-03-01")},
				when: declare(declareOn("2024-02-29"))})
	}
	runCases(t, cases)
}

// TestOrgRegisteredOnce: an organisation's stream holds one registration;
// a second one is refused (org_already_registered) and writes nothing.
func TestOrgRegisteredOnce(t *testing.T) {
	check, err := CreditCheckChar("12440000455416125")
	if err != nil {
		t.Fatal(err)
	}
	c := RegisterOrg{Name: "华南理工大学", Kind: OrgUniversity, RegionCode: "440106",
		CreditCode: CreditCode("12440000455416125" + string(check))}
	o := &Org{}
	events, err := o.Register("org-1", c)
	if err != nil || len(events) != 1 {
		t.Fatalf("first registration: %v, %v", events, err)
	}
	o.Apply(events[0])
	if events, err := o.Register("org-1", c); RuleOf(err) != RuleOrgAlreadyRegistered || events != nil {
		t.Fatalf("second registration: %v, %v", events, err)
	}
}

// TestLicenceTypesTakeTheirArticle: a message names "an exclusive" licence,
// not "a exclusive" (PostgreSQL concurrency audit F5).
func TestLicenceTypesTakeTheirArticle(t *testing.T) {
	for typ, want := range map[LicenseType]string{LicenseExclusive: "an exclusive", LicenseSole: "a sole",
		LicenseOrdinary: "an ordinary", LicenseOpen: "an open", "": "a "} {
		if got := typ.withArticle(); got != want {
			t.Errorf("%q: %q, want %q", typ, got, want)
		}
	}
}

// TestFormerPatenteeIsToldOfTheTransfer: a patentee whose request came
// after a transfer of the patent (a concurrent transfer that won) is
// refused naming the transfer, the new patentee and its day; one that
// never held the patent, as before.
func TestFormerPatenteeIsToldOfTheTransfer(t *testing.T) {
	reg := registered(t)
	p := &Patent{}
	for _, e := range []Event{reg, transferredTo(reg, "T1", "2024-02-01", firm)} {
		p.Apply(e)
	}
	err := requirePatentee(p, OrgActor(uni))
	if want := "only a patentee of " + string(reg.Number) + " may do this; transfer T1 made " + firm + " its patentee from 2024-02-01"; ErrorCode(err) != CodeForbidden || err.Error() != "forbidden: "+want {
		t.Errorf("the former patentee: %v, want forbidden: %s", err, want)
	}
	if err := requirePatentee(p, OrgActor(sme)); ErrorCode(err) != CodeForbidden || strings.Contains(err.Error(), "transfer") {
		t.Errorf("an organisation that never held it: %v", err)
	}
	if err := requirePatentee(p, OrgActor(firm)); err != nil {
		t.Errorf("the new patentee: %v", err)
	}
}

// TestPledgeRefusalsNameTheirField: a pledge's rule violations name, in
// their fields, the value that breaks the rule, as invalid fee terms do:
// the patent by its place in the list, the pledgor, the debt's due date,
// the missing consent, a release's or consent's date.
func TestPledgeRefusalsNameTheirField(t *testing.T) {
	free, held := registeredKind(t, "202010654321"), registered(t)
	apply := func(events ...Event) *Patent {
		p := &Patent{}
		for _, e := range events {
			p.Apply(e)
		}
		return p
	}
	d := decision{actor: OrgActor(bank), today: day("2024-07-01"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	command := func(change func(*RegisterPledge)) RegisterPledge {
		c := RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(free.Number), string(held.Number)},
			SecuredAmountFen: 1, RegisteredOn: day("2024-03-01"), DebtDueOn: day("2030-01-01"), OpenLicenseConsent: true}
		change(&c)
		return c
	}
	for name, tc := range map[string]struct {
		c     RegisterPledge
		field string
	}{
		"already pledged, second in the list": {command(func(*RegisterPledge) {}), "patents[1]"},
		"not the patentee":                    {command(func(c *RegisterPledge) { c.PledgorID = firm }), "pledgor_id"},
		"debt due after expiry":               {command(func(c *RegisterPledge) { c.DebtDueOn = day("2041-01-01") }), "debt_due_on"},
	} {
		_, err := RegisterPledgeOn(d, []*Patent{apply(free), apply(held, pledged(t, "P1", "2024-01-01", true))}, tc.c)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeRuleViolation || len(de.Fields) != 1 || de.Fields[0].Field != tc.field ||
			de.Fields[0].Message != de.Message {
			t.Errorf("%s: %#v, want a rule violation at %s", name, err, tc.field)
		}
	}
	withLicence := apply(held, licensed(t, "L1", LicenseOrdinary, sme, "2024-05-01", "2025-04-30"))
	_, err := RegisterPledgeOn(d, []*Patent{withLicence}, command(func(c *RegisterPledge) {
		c.Patents, c.OpenLicenseConsent = []string{string(held.Number)}, false
	}))
	if ErrorCode(err) != CodeRuleViolation || err.(*Error).Fields[0].Field != "open_license_consent" {
		t.Errorf("a licence after the registration, no consent: %v", err)
	}
	co := registered(t, uni, firm)
	_, err = RegisterPledgeOn(d, []*Patent{apply(co)}, command(func(c *RegisterPledge) { c.Patents = []string{string(co.Number)} }))
	if ErrorCode(err) != CodeRuleViolation || RuleOf(err) != RuleCoOwnerConsentMissing || err.(*Error).Fields[0].Field != "co_owner_consent" {
		t.Errorf("a co-owned patent without the co-owner's consent: %v", err)
	}
	_, err = ReleasePledgeOn(d, []*Patent{apply(held, pledged(t, "P1", "2024-01-01", true))},
		ReleasePledge{PledgeID: "P1", ReleasedOn: day("2023-12-01"), Reason: ReleaseRepaid})
	if ErrorCode(err) != CodeRuleViolation || err.(*Error).Fields[0].Field != "released_on" {
		t.Errorf("a release before the registration: %v", err)
	}
}

// TestMissingCoOwnerConsentNamesItsField: every act a co-owner's consent is
// missing from (a declaration, a withdrawal, a transfer, a pledge) is
// refused naming co_owner_consent in its fields, for a program to point at.
func TestMissingCoOwnerConsentNamesItsField(t *testing.T) {
	co := registered(t, uni, firm)
	decl := declared(t, "D1", "2024-01-01")
	decl.PatenteeIDs = co.PatenteeIDs
	p := &Patent{}
	for _, e := range []Event{co, decl} {
		p.Apply(e)
	}
	d := decision{actor: OrgActor(uni), today: day("2024-07-01"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	_, withdrawErr := p.Withdraw(d, WithdrawDeclaration{DeclarationID: "D1", EffectiveOn: day("2024-06-01"), Reason: "r"})
	_, transferErr := p.Transfer(d, TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-06-01")})
	for name, err := range map[string]error{"withdrawal": withdrawErr, "transfer": transferErr} {
		var de *Error
		if !errors.As(err, &de) || de.Rule != RuleCoOwnerConsentMissing || len(de.Fields) != 1 || de.Fields[0].Field != "co_owner_consent" {
			t.Errorf("%s without the co-owner's consent: %#v", name, err)
		}
	}
}
