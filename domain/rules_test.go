package domain

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Fixtures shared by the rule tests: one university patentee, a co-owning
// company, an SME licensee and a bank.
const (
	uni  = "org-uni"
	firm = "org-firm"
	sme  = "org-sme"
	sme2 = "org-sme2"
	bank = "org-bank"
)

func day(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// number returns a valid patent number for the 12 digits.
func number(t testing.TB, digits string) PatentNumber {
	t.Helper()
	c, err := PatentCheckChar(digits)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParsePatentNumber("ZL" + digits + "." + string(c))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// registered returns the registration of an invention filed 2020-03-15,
// granted 2022-01-10, expiring 2040-03-14, owned by owners.
func registered(t testing.TB, owners ...string) PatentRegistered {
	return registeredKind(t, "202010123456", owners...)
}

func registeredKind(t testing.TB, digits string, owners ...string) PatentRegistered {
	n := number(t, digits)
	if len(owners) == 0 {
		owners = []string{uni}
	}
	filed := day("2020-03-15")
	return PatentRegistered{Number: n, Kind: n.Kind(), Title: "一种锂电池", PatenteeIDs: owners,
		IPC: []IPCCode{"H01M 10/0525"}, FiledOn: filed, GrantedOn: day("2022-01-10"),
		ExpiresOn: ExpiryDate(n.Kind(), filed)}
}

func lumpSum(fen Fen) FeeTerms { return FeeTerms{Mode: FeeLumpSum, LumpSumFen: fen} }

func declared(t testing.TB, id, on string) DeclarationFiled {
	return DeclarationFiled{Number: registered(t).Number, DeclarationID: id, Fee: lumpSum(5_000_000),
		TermMonths: 36, DeclaredOn: day(on), TermEndsOn: TermEndsOn(day(on), 36), PatenteeIDs: []string{uni}}
}

func withdrawn(t testing.TB, id, on string) DeclarationWithdrawn {
	return DeclarationWithdrawn{Number: registered(t).Number, DeclarationID: id, EffectiveOn: day(on), Reason: "r"}
}

func licensed(t testing.TB, id string, typ LicenseType, licensee, from, to string) LicenseGranted {
	l := LicenseGranted{Number: registered(t).Number, LicenseID: id, Type: typ, LicensorIDs: []string{uni},
		LicenseeID: licensee, EffectiveOn: day(from), EndsOn: day(to)}
	if typ == LicenseOpen {
		l.DeclarationID = "D1"
	}
	return l
}

func pledged(t testing.TB, id, on string, consent bool) PledgeRegistered {
	n := registered(t).Number
	return PledgeRegistered{Number: n, PledgeID: id, PledgorID: uni, PledgeeID: bank, Patents: []PatentNumber{n},
		SecuredAmountFen: 100_000_000, RegisteredOn: day(on), DebtDueOn: day("2030-01-01"), OpenLicenseConsent: consent}
}

func statusOn(t testing.TB, s PatentStatus, on string) PatentStatusChanged {
	return PatentStatusChanged{Number: registered(t).Number, Status: s, EffectiveOn: day(on)}
}

func openLicense(licensee, on string, fee Fen) GrantLicense {
	return GrantLicense{Type: LicenseOpen, LicenseeID: licensee, EffectiveOn: day(on), FeePaidFen: fee, DeclarationID: "D1"}
}

func declareOn(on string) FileDeclaration {
	return FileDeclaration{Fee: lumpSum(5_000_000), TermMonths: 36, DeclaredOn: day(on)}
}

// ruleCase is one given-events / when-command / then-events-or-error case.
type ruleCase struct {
	name  string
	given []Event
	actor Actor
	when  func(d decision, p *Patent) ([]Event, error)
	// rule is the expected rule code; "" expects success.
	rule Rule
	// code is the expected error code when rule is empty and an error is
	// expected.
	code Code
	// then, when not nil, are the exact events expected.
	then []Event
}

func (c ruleCase) run(t *testing.T) {
	t.Helper()
	p := &Patent{}
	for _, e := range c.given {
		p.Apply(e)
	}
	actor := c.actor
	if actor == (Actor{}) {
		actor = OrgActor(uni)
	}
	n := 0
	d := decision{actor: actor, today: day("2024-07-01"), newID: func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}}
	events, err := c.when(d, p)
	switch {
	case c.rule != "":
		if RuleOf(err) != c.rule || ErrorCode(err) != CodeRuleViolation {
			t.Fatalf("want rule %s, got events %v, error %v", c.rule, events, err)
		}
	case c.code != "":
		if ErrorCode(err) != c.code {
			t.Fatalf("want code %s, got events %v, error %v", c.code, events, err)
		}
	case err != nil:
		t.Fatalf("want success, got %v", err)
	case len(events) == 0:
		t.Fatalf("want events, got none")
	case c.then != nil && !reflect.DeepEqual(events, c.then):
		t.Fatalf("events:\n got %#v\nwant %#v", events, c.then)
	}
	if err != nil && events != nil {
		t.Fatalf("an error came with events %v", events)
	}
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func declare(c FileDeclaration) func(decision, *Patent) ([]Event, error) {
	return func(d decision, p *Patent) ([]Event, error) { return p.Declare(d, c) }
}

func grant(c GrantLicense) func(decision, *Patent) ([]Event, error) {
	return func(d decision, p *Patent) ([]Event, error) { return p.GrantLicense(d, c) }
}

func TestDeclarationRules(t *testing.T) {
	reg := registered(t)
	co := registered(t, uni, firm)
	utility := registeredKind(t, "202020123456")
	withConsent := declareOn("2024-03-01")
	withConsent.CoOwnerConsent = []string{firm}
	withReport := declareOn("2024-03-01")
	withReport.EvaluationReportRef = "PJ2023-0001"
	promo := declareOn("2024-03-01")
	promo.OtherTerms = "国内最好的电池技术"
	promoFullWidth := declareOn("2024-03-01")
	promoFullWidth.OtherTerms = "效果１００％保证"
	plain := declareOn("2024-03-01")
	plain.OtherTerms = "被许可人应按季度报告实施情况"
	zeroFee := declareOn("2024-03-01")
	zeroFee.Fee = lumpSum(0)
	onExpiry := declareOn("2024-03-15")
	onExpiry.TermMonths = 192 // ends 2040-03-14, the expiry date
	pastExpiry := onExpiry
	pastExpiry.TermMonths = 193
	runCases(t, []ruleCase{
		{name: "accepted with exact event", given: []Event{reg}, when: declare(declareOn("2024-03-01")),
			then: []Event{DeclarationFiled{Number: reg.Number, DeclarationID: "D2020101234562-0000000000004000",
				Fee: lumpSum(5_000_000), TermMonths: 36, DeclaredOn: day("2024-03-01"), TermEndsOn: day("2027-02-28"),
				PatenteeIDs: []string{uni}}}},
		{name: "patent_not_active before grant", given: []Event{reg}, when: declare(declareOn("2022-01-09")), rule: RulePatentNotActive},
		{name: "granted on the day passes", given: []Event{reg}, when: declare(declareOn("2022-01-10"))},
		{name: "patent_not_active on lapse day", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, when: declare(declareOn("2024-03-01")), rule: RulePatentNotActive},
		{name: "day before lapse passes", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, when: declare(declareOn("2024-02-29"))},
		{name: "restored patent passes", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01"), statusOn(t, StatusActive, "2024-04-01")}, when: declare(declareOn("2024-04-01"))},
		{name: "annual_fee_unpaid", given: []Event{reg, AnnualFeeStatusChanged{Number: reg.Number, Overdue: true, EffectiveOn: day("2024-03-01")}}, when: declare(declareOn("2024-03-01")), rule: RuleAnnualFeeUnpaid},
		{name: "fee paid again passes", given: []Event{reg, AnnualFeeStatusChanged{Number: reg.Number, Overdue: true, EffectiveOn: day("2024-02-01")}, AnnualFeeStatusChanged{Number: reg.Number, Overdue: false, EffectiveOn: day("2024-03-01")}}, when: declare(declareOn("2024-03-01"))},
		{name: "patent_suspended", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-03-01")}}, when: declare(declareOn("2024-03-01")), rule: RulePatentSuspended},
		{name: "day before suspension passes", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-03-01")}}, when: declare(declareOn("2024-02-29"))},
		{name: "exclusive_license_in_force on its last day", given: []Event{reg, licensed(t, "L1", LicenseExclusive, sme, "2023-01-01", "2024-03-01")}, when: declare(declareOn("2024-03-01")), rule: RuleExclusiveLicenseInForce},
		{name: "day after exclusive ends passes", given: []Event{reg, licensed(t, "L1", LicenseExclusive, sme, "2023-01-01", "2024-02-29")}, when: declare(declareOn("2024-03-01"))},
		{name: "exclusive_license_in_force when it starts within the term", given: []Event{reg, licensed(t, "L1", LicenseExclusive, sme, "2025-01-01", "2026-12-31")}, when: declare(declareOn("2024-03-01")), rule: RuleExclusiveLicenseInForce},
		{name: "exclusive_license_in_force when it starts on the term's last day", given: []Event{reg, licensed(t, "L1", LicenseExclusive, sme, "2027-02-28", "2028-12-31")}, when: declare(declareOn("2024-03-01")), rule: RuleExclusiveLicenseInForce},
		{name: "exclusive starting after the term passes", given: []Event{reg, licensed(t, "L1", LicenseExclusive, sme, "2027-03-01", "2028-12-31")}, when: declare(declareOn("2024-03-01"))},
		{name: "pledged_without_consent", given: []Event{reg, pledged(t, "P1", "2024-03-01", false)}, when: declare(declareOn("2024-03-01")), rule: RulePledgedWithoutConsent},
		{name: "pledge with consent passes", given: []Event{reg, pledged(t, "P1", "2024-03-01", true)}, when: declare(declareOn("2024-03-01"))},
		{name: "later consent passes", given: []Event{reg, pledged(t, "P1", "2024-01-01", false), PledgeConsented{Number: reg.Number, PledgeID: "P1", ConsentedOn: day("2024-03-01")}}, when: declare(declareOn("2024-03-01"))},
		{name: "released pledge passes", given: []Event{reg, pledged(t, "P1", "2024-01-01", false), PledgeReleased{Number: reg.Number, PledgeID: "P1", ReleasedOn: day("2024-03-01"), Reason: ReleaseRepaid}}, when: declare(declareOn("2024-03-01"))},
		{name: "evaluation_report_required", given: []Event{utility}, when: declare(declareOn("2024-03-01")), rule: RuleEvaluationReportRequired},
		{name: "utility model with report passes", given: []Event{utility}, when: declare(withReport)},
		{name: "co_owner_consent_missing", given: []Event{co}, when: declare(declareOn("2024-03-01")), rule: RuleCoOwnerConsentMissing},
		{name: "co-owner consent passes", given: []Event{co}, when: declare(withConsent)},
		{name: "admin needs every co-owner", given: []Event{co}, actor: AdminActor, when: declare(withConsent), rule: RuleCoOwnerConsentMissing},
		{name: "consent from a stranger is invalid", given: []Event{reg}, when: declare(FileDeclaration{Fee: lumpSum(1), TermMonths: 1, DeclaredOn: day("2024-03-01"), CoOwnerConsent: []string{sme}}), code: CodeInvalidArgument},
		{name: "declaration_already_active", given: []Event{reg, declared(t, "D1", "2024-01-01"), withdrawn(t, "D1", "2024-06-01")}, when: declare(declareOn("2024-05-31")), rule: RuleDeclarationAlreadyActive},
		{name: "on the withdrawal's effective date passes", given: []Event{reg, declared(t, "D1", "2024-01-01"), withdrawn(t, "D1", "2024-06-01")}, when: declare(declareOn("2024-06-01"))},
		{name: "declaration_already_active when it would overlap a later one", given: []Event{reg, declared(t, "D1", "2024-06-01")}, when: declare(declareOn("2024-01-01")), rule: RuleDeclarationAlreadyActive},
		{name: "after the previous term ended passes", given: []Event{reg, declared(t, "D1", "2020-01-01")}, when: declare(declareOn("2023-01-01"))},
		{name: "term ending on the expiry date passes", given: []Event{reg}, when: declare(onExpiry)},
		{name: "term_exceeds_patent", given: []Event{reg}, when: declare(pastExpiry), rule: RuleTermExceedsPatent},
		{name: "promotional_language", given: []Event{reg}, when: declare(promo), rule: RulePromotionalLanguage},
		{name: "promotional_language in full-width characters", given: []Event{reg}, when: declare(promoFullWidth), rule: RulePromotionalLanguage},
		{name: "plain terms pass", given: []Event{reg}, when: declare(plain)},
		{name: "invalid_fee_terms", given: []Event{reg}, when: declare(zeroFee), rule: RuleInvalidFeeTerms},
		{name: "unknown fee mode is invalid input", given: []Event{reg}, when: declare(FileDeclaration{Fee: FeeTerms{Mode: "barter"}, TermMonths: 12, DeclaredOn: day("2024-03-01")}), code: CodeInvalidArgument},
		{name: "missing date is invalid input", given: []Event{reg}, when: declare(FileDeclaration{Fee: lumpSum(1), TermMonths: 12}), code: CodeInvalidArgument},
		{name: "a licensee cannot declare", given: []Event{reg}, actor: OrgActor(sme), when: declare(declareOn("2024-03-01")), code: CodeForbidden},
		{name: "the admin can declare", given: []Event{reg}, actor: AdminActor, when: declare(declareOn("2024-03-01"))},
	})
}

func withdraw(id, on string) func(decision, *Patent) ([]Event, error) {
	return func(d decision, p *Patent) ([]Event, error) {
		return p.Withdraw(d, WithdrawDeclaration{DeclarationID: id, EffectiveOn: day(on), Reason: "转让给企业"})
	}
}

func TestWithdrawalRules(t *testing.T) {
	reg := registered(t)
	co := registered(t, uni, firm)
	coDecl := declared(t, "D1", "2024-01-01")
	coDecl.PatenteeIDs = co.PatenteeIDs
	earlier := licensed(t, "L0", LicenseOpen, sme, "2022-06-01", "2022-12-31")
	earlier.DeclarationID = "D0"
	runCases(t, []ruleCase{
		{name: "accepted", given: []Event{reg, declared(t, "D1", "2024-01-01")}, when: withdraw("D1", "2024-06-01"),
			then: []Event{DeclarationWithdrawn{Number: reg.Number, DeclarationID: "D1", EffectiveOn: day("2024-06-01"), Reason: "转让给企业"}}},
		{name: "withdrawal_before_declaration", given: []Event{reg, declared(t, "D1", "2024-01-01")}, when: withdraw("D1", "2023-12-31"), rule: RuleWithdrawalBeforeDecl},
		{name: "on the declaration day passes", given: []Event{reg, declared(t, "D1", "2024-01-01")}, when: withdraw("D1", "2024-01-01")},
		{name: "no_active_declaration when withdrawn", given: []Event{reg, declared(t, "D1", "2024-01-01"), withdrawn(t, "D1", "2024-03-01")}, when: withdraw("D1", "2024-06-01"), rule: RuleNoActiveDeclaration},
		{name: "no_active_declaration after the term", given: []Event{reg, declared(t, "D1", "2020-01-01")}, when: withdraw("D1", "2023-01-01"), rule: RuleNoActiveDeclaration},
		{name: "on the term's last day passes", given: []Event{reg, declared(t, "D1", "2020-01-01")}, when: withdraw("D1", "2022-12-31")},
		{name: "withdrawal_before_license on the licence's date", given: []Event{reg, declared(t, "D1", "2024-01-01"), licensed(t, "L1", LicenseOpen, sme, "2024-03-01", "2026-12-31")}, when: withdraw("D1", "2024-03-01"), rule: RuleWithdrawalBeforeLicense},
		{name: "withdrawal_before_license before the latest licence", given: []Event{reg, declared(t, "D1", "2024-01-01"), licensed(t, "L1", LicenseOpen, sme, "2024-05-01", "2026-12-31"), licensed(t, "L2", LicenseOpen, sme2, "2024-02-01", "2026-12-31")}, when: withdraw("D1", "2024-04-30"), rule: RuleWithdrawalBeforeLicense},
		{name: "the day after the last licence passes", given: []Event{reg, declared(t, "D1", "2024-01-01"), licensed(t, "L1", LicenseOpen, sme, "2024-03-01", "2026-12-31")}, when: withdraw("D1", "2024-03-02")},
		{name: "an ordinary licence does not count", given: []Event{reg, declared(t, "D1", "2024-01-01"), licensed(t, "L1", LicenseOrdinary, sme, "2024-05-01", "2026-12-31")}, when: withdraw("D1", "2024-03-01")},
		{name: "a licence under an earlier declaration does not count", given: []Event{reg, declared(t, "D0", "2020-01-01"), earlier, declared(t, "D1", "2024-01-01")}, when: withdraw("D1", "2024-01-01")},
		{name: "unknown declaration", given: []Event{reg}, when: withdraw("D9", "2024-06-01"), code: CodeNotFound},
		{name: "co_owner_consent_missing", given: []Event{co, coDecl}, when: withdraw("D1", "2024-06-01"), rule: RuleCoOwnerConsentMissing},
		{name: "co-owner consent passes, recorded", given: []Event{co, coDecl}, when: func(d decision, p *Patent) ([]Event, error) {
			return p.Withdraw(d, WithdrawDeclaration{DeclarationID: "D1", EffectiveOn: day("2024-06-01"), Reason: "r", CoOwnerConsent: []string{firm}})
		}, then: []Event{DeclarationWithdrawn{Number: co.Number, DeclarationID: "D1", EffectiveOn: day("2024-06-01"), Reason: "r",
			CoOwnerConsent: []string{firm}}}},
		{name: "reason is required", given: []Event{reg, declared(t, "D1", "2024-01-01")}, when: func(d decision, p *Patent) ([]Event, error) {
			return p.Withdraw(d, WithdrawDeclaration{DeclarationID: "D1", EffectiveOn: day("2024-06-01")})
		}, code: CodeInvalidArgument},
	})
}

func TestLicenseRules(t *testing.T) {
	reg := registered(t)
	decl := declared(t, "D1", "2024-01-01")
	wd := withdrawn(t, "D1", "2024-06-01")
	base := []Event{reg, decl, wd}
	given := func(extra ...Event) []Event { return append(append([]Event{}, base...), extra...) }
	exclusive := GrantLicense{Type: LicenseExclusive, LicenseeID: sme, EffectiveOn: day("2024-06-01"), EndsOn: day("2025-05-31")}
	exclusiveEarly := exclusive
	exclusiveEarly.EffectiveOn = day("2024-05-31")
	ordinary := GrantLicense{Type: LicenseOrdinary, LicenseeID: sme2, EffectiveOn: day("2025-05-31"), EndsOn: day("2026-05-31")}
	ordinaryAfter := ordinary
	ordinaryAfter.EffectiveOn = day("2025-06-01")
	other := openLicense(sme, "2024-03-01", 5_000_000)
	other.DeclarationID = "D2022113962589-0000000000000001" // of ZL202211396258.9
	unknown := openLicense(sme, "2024-03-01", 5_000_000)
	unknown.DeclarationID = "D2020101234562-0000000000000009" // of this patent, which has none such
	noID := openLicense(sme, "2024-03-01", 5_000_000)
	noID.DeclarationID = "D-of-no-patent"
	runCases(t, []ruleCase{
		{name: "accepted with exact event", given: base, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-05-31", 5_000_000)),
			then: []Event{LicenseGranted{Number: reg.Number, LicenseID: "L2020101234562-0000000000004000", Type: LicenseOpen,
				LicensorIDs: []string{uni}, LicenseeID: sme, EffectiveOn: day("2024-05-31"), EndsOn: decl.TermEndsOn,
				FeePaidFen: 5_000_000, DeclarationID: "D1"}}},
		{name: "declaration_not_in_effect on the withdrawal date", given: base, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-06-01", 5_000_000)), rule: RuleDeclarationNotInEffect},
		{name: "declaration_not_in_effect before the declaration", given: base, actor: OrgActor(sme), when: grant(openLicense(sme, "2023-12-31", 5_000_000)), rule: RuleDeclarationNotInEffect},
		{name: "on the declaration day passes", given: base, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-01-01", 5_000_000))},
		{name: "declaration_not_in_effect for another patent's declaration", given: base, actor: OrgActor(sme), when: grant(other), rule: RuleDeclarationNotInEffect},
		{name: "unknown declaration of this patent", given: base, actor: OrgActor(sme), when: grant(unknown), code: CodeNotFound},
		{name: "unknown declaration of no patent", given: base, actor: OrgActor(sme), when: grant(noID), code: CodeNotFound},
		{name: "fee_mismatch", given: base, actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 4_999_999)), rule: RuleFeeMismatch},
		{name: "self_license", given: base, actor: AdminActor, when: grant(openLicense(uni, "2024-03-01", 5_000_000)), rule: RuleSelfLicense},
		{name: "duplicate_license", given: given(licensed(t, "L1", LicenseOpen, sme, "2024-02-01", "2026-12-31")), actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 5_000_000)), rule: RuleDuplicateLicense},
		{name: "another licensee passes", given: given(LicenseGranted{Number: reg.Number, LicenseID: "L1", Type: LicenseOpen, LicenseeID: sme, EffectiveOn: day("2024-02-01"), EndsOn: day("2026-12-31"), DeclarationID: "D1", FeePaidFen: 5_000_000}), actor: OrgActor(sme2), when: grant(openLicense(sme2, "2024-03-01", 5_000_000))},
		{name: "open_license_active", given: base, when: grant(exclusiveEarly), rule: RuleOpenLicenseActive},
		{name: "exclusive from the withdrawal date passes", given: base, when: grant(exclusive)},
		{name: "exclusive_license_in_force", given: given(licensed(t, "L1", LicenseExclusive, sme, "2024-06-01", "2025-05-31")), when: grant(ordinary), rule: RuleExclusiveLicenseInForce},
		{name: "after the exclusive ends passes", given: given(licensed(t, "L1", LicenseExclusive, sme, "2024-06-01", "2025-05-31")), when: grant(ordinaryAfter)},
		{name: "pledged_without_consent", given: given(pledged(t, "P1", "2024-02-01", false)), actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 5_000_000)), rule: RulePledgedWithoutConsent},
		{name: "the day before the pledge passes", given: given(pledged(t, "P1", "2024-03-02", false)), actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 5_000_000))},
		{name: "patent_not_active", given: given(statusOn(t, StatusInvalidated, "2024-03-01")), actor: OrgActor(sme), when: grant(openLicense(sme, "2024-03-01", 5_000_000)), rule: RulePatentNotActive},
		{name: "the day before invalidation passes", given: given(statusOn(t, StatusInvalidated, "2024-03-01")), actor: OrgActor(sme), when: grant(openLicense(sme, "2024-02-29", 5_000_000))},
		{name: "another org cannot take a licence for the licensee", given: base, actor: OrgActor(sme2), when: grant(openLicense(sme, "2024-03-01", 5_000_000)), code: CodeForbidden},
		{name: "a licensee cannot grant itself an ordinary licence", given: base, actor: OrgActor(sme2), when: grant(ordinaryAfter), code: CodeForbidden},
		{name: "open licence with ends_on is invalid", given: base, actor: OrgActor(sme), when: grant(GrantLicense{Type: LicenseOpen, LicenseeID: sme, EffectiveOn: day("2024-03-01"), DeclarationID: "D1", EndsOn: day("2025-01-01")}), code: CodeInvalidArgument},
		{name: "unknown licence type is invalid", given: base, when: grant(GrantLicense{Type: "perpetual", LicenseeID: sme, EffectiveOn: day("2024-03-01")}), code: CodeInvalidArgument},
		{name: "negative fee is invalid", given: base, when: grant(GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day("2024-03-01"), EndsOn: day("2024-04-01"), FeePaidFen: -1}), code: CodeInvalidArgument},
	})
}

// TestCoOwnersConsentToWhatOneAloneMayNotDo: a co-owner alone may grant
// ordinary licences, but a sole or exclusive licence or a pledge of a
// co-owned patent needs every co-owner's consent (PL 14), which the event
// records; a consent naming no co-owner, or given to an ordinary licence,
// is invalid.
func TestCoOwnersConsentToWhatOneAloneMayNotDo(t *testing.T) {
	co := registered(t, uni, firm)
	negotiated := func(typ LicenseType, consent ...string) GrantLicense {
		return GrantLicense{Type: typ, LicenseeID: sme, EffectiveOn: day("2024-03-01"), EndsOn: day("2025-02-28"), CoOwnerConsent: consent}
	}
	pledgeOf := func(consent ...string) RegisterPledge {
		return RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(co.Number)}, SecuredAmountFen: 100_000_000,
			RegisteredOn: day("2024-03-01"), DebtDueOn: day("2027-03-01"), CoOwnerConsent: consent}
	}
	bankActor := OrgActor(bank)
	runCases(t, []ruleCase{
		{name: "an ordinary licence by one co-owner", given: []Event{co}, when: grant(negotiated(LicenseOrdinary))},
		{name: "an exclusive licence without the other's consent", given: []Event{co}, when: grant(negotiated(LicenseExclusive)), rule: RuleCoOwnerConsentMissing},
		{name: "a sole licence without the other's consent", given: []Event{co}, when: grant(negotiated(LicenseSole)), rule: RuleCoOwnerConsentMissing},
		{name: "an exclusive licence with the other's consent", given: []Event{co}, when: grant(negotiated(LicenseExclusive, firm)),
			then: []Event{LicenseGranted{Number: co.Number, LicenseID: "L2020101234562-0000000000004000", Type: LicenseExclusive,
				LicensorIDs: []string{uni, firm}, LicenseeID: sme, EffectiveOn: day("2024-03-01"), EndsOn: day("2025-02-28"), CoOwnerConsent: []string{firm}}}},
		{name: "the admin's exclusive licence needs both", given: []Event{co}, actor: AdminActor, when: grant(negotiated(LicenseExclusive, firm)), rule: RuleCoOwnerConsentMissing},
		{name: "a consent naming no co-owner", given: []Event{co}, when: grant(negotiated(LicenseExclusive, sme2)), code: CodeInvalidArgument},
		{name: "a consent to an ordinary licence", given: []Event{co}, when: grant(negotiated(LicenseOrdinary, firm)), code: CodeInvalidArgument},
		{name: "a pledge without the other's consent", given: []Event{co}, actor: bankActor, when: pledge(pledgeOf()), rule: RuleCoOwnerConsentMissing},
		{name: "a pledge with the other's consent", given: []Event{co}, actor: bankActor, when: pledge(pledgeOf(firm))},
		{name: "a pledge with a stranger's consent", given: []Event{co}, actor: bankActor, when: pledge(pledgeOf(sme)), code: CodeInvalidArgument},
	})
}

func TestRecordalAndRoyaltyRules(t *testing.T) {
	reg := registered(t)
	lic := licensed(t, "L1", LicenseOrdinary, sme, "2024-01-31", "2025-01-31")
	recorded := LicenseRecorded{Number: reg.Number, LicenseID: "L1", RecordNo: "2024110000123", RecordedOn: day("2024-02-15"), DueBy: day("2024-04-30")}
	record := func(on string) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			return p.RecordLicense(d, RecordLicense{LicenseID: "L1", RecordNo: "2024110000123", RecordedOn: day(on)})
		}
	}
	pay := func(on string, amount Fen) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			return p.PayRoyalty(d, PayRoyalty{LicenseID: "L1", PaidOn: day(on), AmountFen: amount, Period: "2024Q1"})
		}
	}
	runCases(t, []ruleCase{
		{name: "recordal by the licensee", given: []Event{reg, lic}, actor: OrgActor(sme), when: record("2024-02-15"), then: []Event{recorded}},
		{name: "recordal by the patentee", given: []Event{reg, lic}, when: record("2024-02-15")},
		{name: "recordal by a stranger", given: []Event{reg, lic}, actor: OrgActor(sme2), when: record("2024-02-15"), code: CodeForbidden},
		{name: "recorded twice", given: []Event{reg, lic, recorded}, when: record("2024-02-16"), rule: RuleLicenseAlreadyRecorded},
		{name: "recorded before the licence", given: []Event{reg, lic}, when: record("2024-01-30"), rule: RuleDateBeforeFact},
		{name: "unknown licence", given: []Event{reg}, when: record("2024-02-15"), code: CodeNotFound},
		{name: "royalty", given: []Event{reg, lic}, actor: OrgActor(sme), when: pay("2024-04-01", 120_000),
			then: []Event{RoyaltyPaid{Number: reg.Number, LicenseID: "L1", PaidOn: day("2024-04-01"), AmountFen: 120_000, Period: "2024Q1"}}},
		{name: "royalty before the licence", given: []Event{reg, lic}, when: pay("2024-01-30", 1), rule: RuleDateBeforeFact},
		{name: "zero royalty is invalid", given: []Event{reg, lic}, when: pay("2024-04-01", 0), code: CodeInvalidArgument},
	})
}

// TestPaymentsUnderAnOpenLicenseFollowTheDeclaredTerms: under terms
// without a royalty an open licence takes no more than the declared fee
// (fee_mismatch): nothing after a free or lump-sum licence, the rest of
// the instalments after an instalment one; royalty terms and negotiated
// licences take any payment.
func TestPaymentsUnderAnOpenLicenseFollowTheDeclaredTerms(t *testing.T) {
	reg := registered(t)
	declaredWith := func(fee FeeTerms) DeclarationFiled {
		return DeclarationFiled{Number: reg.Number, DeclarationID: "D1", Fee: fee, TermMonths: 36, DeclaredOn: day("2024-01-02"),
			TermEndsOn: day("2027-01-01"), PatenteeIDs: []string{uni}}
	}
	openUnder := func(paid Fen) LicenseGranted {
		return LicenseGranted{Number: reg.Number, LicenseID: "L1", Type: LicenseOpen, LicensorIDs: []string{uni}, LicenseeID: sme,
			EffectiveOn: day("2024-03-01"), EndsOn: day("2027-01-01"), FeePaidFen: paid, DeclarationID: "D1"}
	}
	paid := func(amount Fen) RoyaltyPaid {
		return RoyaltyPaid{Number: reg.Number, LicenseID: "L1", PaidOn: day("2024-04-01"), AmountFen: amount}
	}
	pay := func(amount Fen) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			return p.PayRoyalty(d, PayRoyalty{LicenseID: "L1", PaidOn: day("2024-06-01"), AmountFen: amount})
		}
	}
	free, lump := declaredWith(FeeTerms{Mode: FeeFree}), declaredWith(lumpSum(5_000_000))
	instalments := declaredWith(FeeTerms{Mode: FeeInstalment, InstalmentFen: 100_000, Instalments: 3})
	royalty := declaredWith(FeeTerms{Mode: FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: BaseNetSales})
	entry := declaredWith(FeeTerms{Mode: FeeEntryPlusRoyalty, EntryFeeFen: 100_000, RoyaltyBP: 300, RoyaltyBase: BaseNetSales})
	runCases(t, []ruleCase{
		{name: "a payment under a free licence", given: []Event{reg, free, openUnder(0)}, when: pay(1), rule: RuleFeeMismatch},
		{name: "a payment after a lump sum", given: []Event{reg, lump, openUnder(5_000_000)}, when: pay(1), rule: RuleFeeMismatch},
		{name: "the second instalment", given: []Event{reg, instalments, openUnder(100_000)}, when: pay(100_000)},
		{name: "the third instalment", given: []Event{reg, instalments, openUnder(100_000), paid(100_000)}, when: pay(100_000)},
		{name: "a fourth instalment", given: []Event{reg, instalments, openUnder(100_000), paid(200_000)}, when: pay(1), rule: RuleFeeMismatch},
		{name: "more than the instalments left", given: []Event{reg, instalments, openUnder(100_000)}, when: pay(200_001), rule: RuleFeeMismatch},
		{name: "a royalty under royalty terms", given: []Event{reg, royalty, openUnder(0)}, when: pay(9_999_999)},
		{name: "a royalty after an entry fee", given: []Event{reg, entry, openUnder(100_000)}, when: pay(9_999_999)},
	})
}

func TestRecordalDeadline(t *testing.T) {
	// IR 5: a period of months ends on the corresponding day of the last
	// month, or on that month's last day when it has no such day.
	for _, c := range []struct{ effective, due string }{
		{"2024-01-15", "2024-04-15"}, {"2024-01-01", "2024-04-01"}, {"2024-11-30", "2025-02-28"}, {"2023-11-30", "2024-02-29"},
		{"2024-01-31", "2024-04-30"}, {"2023-12-31", "2024-03-31"}, {"2024-10-31", "2025-01-31"},
	} {
		if got := RecordalDeadline(day(c.effective)); got != day(c.due) {
			t.Errorf("RecordalDeadline(%s) = %s, want %s", c.effective, got, c.due)
		}
	}
	late := LicenseRecorded{RecordedOn: day("2024-05-01"), DueBy: day("2024-04-30")}
	onTime := LicenseRecorded{RecordedOn: day("2024-04-30"), DueBy: day("2024-04-30")}
	if len(warningsOf([]Event{late})) != 1 || len(warningsOf([]Event{onTime})) != 0 {
		t.Errorf("late recordal warnings: late %v, on time %v", warningsOf([]Event{late}), warningsOf([]Event{onTime}))
	}
}

func transfer(c TransferPatent) func(decision, *Patent) ([]Event, error) {
	return func(d decision, p *Patent) ([]Event, error) { return p.Transfer(d, c) }
}

func TestTransferRules(t *testing.T) {
	reg := registered(t)
	co := registered(t, uni, firm)
	toFirm := TransferPatent{ToIDs: []string{firm}, EffectiveOn: day("2024-03-01"), PriceFen: 30_000_000}
	coTransfer := TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-03-01"), CoOwnerConsent: []string{firm}}
	runCases(t, []ruleCase{
		{name: "accepted", given: []Event{reg}, when: transfer(toFirm), then: []Event{PatentTransferred{Number: reg.Number,
			TransferID: "T2020101234562-0000000000004000", FromIDs: []string{uni}, ToIDs: []string{firm}, EffectiveOn: day("2024-03-01"), PriceFen: 30_000_000}}},
		{name: "patent_not_active", given: []Event{reg, statusOn(t, StatusAbandoned, "2024-03-01")}, when: transfer(toFirm), rule: RulePatentNotActive},
		{name: "patent_suspended", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-03-01")}},
			when: transfer(toFirm), rule: RulePatentSuspended},
		{name: "the day before a suspension passes", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true,
			EffectiveOn: day("2024-03-02")}}, when: transfer(toFirm)},
		{name: "after a suspension is lifted passes", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true,
			EffectiveOn: day("2024-01-01")}, PatentSuspensionChanged{Number: reg.Number, EffectiveOn: day("2024-03-01")}}, when: transfer(toFirm)},
		{name: "pledged_without_consent", given: []Event{reg, pledged(t, "P1", "2024-01-01", false)}, when: transfer(toFirm), rule: RulePledgedWithoutConsent},
		{name: "pledge with consent passes", given: []Event{reg, pledged(t, "P1", "2024-01-01", true)}, when: transfer(toFirm)},
		{name: "co_owner_consent_missing", given: []Event{co}, when: transfer(TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-03-01")}), rule: RuleCoOwnerConsentMissing},
		{name: "co-owner consent passes", given: []Event{co}, when: transfer(coTransfer)},
		{name: "self_transfer", given: []Event{co}, when: transfer(TransferPatent{ToIDs: []string{firm, uni}, EffectiveOn: day("2024-03-01"), CoOwnerConsent: []string{firm}}), rule: RuleSelfTransfer},
		{name: "partial transfer passes", given: []Event{co}, when: transfer(TransferPatent{ToIDs: []string{firm}, EffectiveOn: day("2024-03-01"), CoOwnerConsent: []string{firm}})},
		{name: "a stranger cannot transfer", given: []Event{reg}, actor: OrgActor(sme), when: transfer(toFirm), code: CodeForbidden},
		{name: "dated before the last transfer", given: []Event{reg, transferredTo(reg, "T1", "2024-03-01", firm),
			transferredTo(reg, "T2", "2024-01-01", sme)}, actor: OrgActor(sme), when: transfer(TransferPatent{ToIDs: []string{uni}, EffectiveOn: day("2024-02-29")}),
			rule: RuleDateBeforeFact},
		{name: "dated before the last transfer, recorded in order", given: []Event{reg, transferredTo(reg, "T1", "2024-01-01", sme),
			transferredTo(reg, "T2", "2024-03-01", firm)}, actor: OrgActor(firm), when: transfer(TransferPatent{ToIDs: []string{uni},
			EffectiveOn: day("2024-02-29")}), rule: RuleDateBeforeFact},
		{name: "on the day of the last transfer passes", given: []Event{reg, transferredTo(reg, "T1", "2024-03-01", firm)},
			actor: OrgActor(firm), when: transfer(TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-03-01")})},
	})
}

// TestNewPatenteeActsFromTheTransferOn: an organisation that became a
// patentee by a transfer on 2024-06-01 may declare, withdraw, license and
// transfer with that day's date or later, not before; the admin may.
func TestNewPatenteeActsFromTheTransferOn(t *testing.T) {
	reg := registered(t)
	toFirm := transferredTo(reg, "T1", "2024-06-01", firm)
	declaredByFirm := DeclarationFiled{Number: reg.Number, DeclarationID: "D1", Fee: lumpSum(5_000_000), TermMonths: 36,
		DeclaredOn: day("2024-06-01"), TermEndsOn: TermEndsOn(day("2024-06-01"), 36), PatenteeIDs: []string{firm}}
	ordinary := func(on string) GrantLicense {
		return GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day(on), EndsOn: day("2025-12-31")}
	}
	runCases(t, []ruleCase{
		{name: "declares before the transfer", given: []Event{reg, toFirm}, actor: OrgActor(firm), when: declare(declareOn("2024-05-31")),
			rule: RuleDateBeforeFact},
		{name: "declares on the transfer's day", given: []Event{reg, toFirm}, actor: OrgActor(firm), when: declare(declareOn("2024-06-01"))},
		{name: "the admin declares before the transfer", given: []Event{reg, toFirm}, actor: AdminActor, when: declare(declareOn("2024-05-31"))},
		{name: "withdraws before the transfer", given: []Event{reg, toFirm, declaredByFirm}, actor: OrgActor(firm),
			when: withdraw("D1", "2024-05-31"), rule: RuleDateBeforeFact},
		{name: "licenses before the transfer", given: []Event{reg, toFirm}, actor: OrgActor(firm), when: grant(ordinary("2024-05-31")),
			rule: RuleDateBeforeFact},
		{name: "licenses on the transfer's day", given: []Event{reg, toFirm}, actor: OrgActor(firm), when: grant(ordinary("2024-06-01"))},
		{name: "a co-owner kept by a partial transfer acts as before", given: []Event{registered(t, uni, firm),
			PatentTransferred{Number: reg.Number, TransferID: "T1", FromIDs: []string{uni, firm}, ToIDs: []string{firm, sme},
				EffectiveOn: day("2024-06-01")}}, actor: OrgActor(firm), when: grant(GrantLicense{Type: LicenseOrdinary,
			LicenseeID: "org-x", EffectiveOn: day("2024-05-31"), EndsOn: day("2025-12-31")})},
	})
}

// transferredTo is the transfer of reg's patent to org, effective on.
func transferredTo(reg PatentRegistered, id, on string, org string) PatentTransferred {
	return PatentTransferred{Number: reg.Number, TransferID: id, FromIDs: reg.PatenteeIDs, ToIDs: []string{org}, EffectiveOn: day(on)}
}

func TestTransferBindsNewPatentees(t *testing.T) {
	reg := registered(t)
	p := &Patent{}
	for _, e := range []Event{reg, declared(t, "D1", "2024-01-01"), PatentTransferred{Number: reg.Number, TransferID: "T1", FromIDs: []string{uni}, ToIDs: []string{firm}, EffectiveOn: day("2024-02-01")}} {
		p.Apply(e)
	}
	if !p.IsPatentee(firm) || p.IsPatentee(uni) {
		t.Fatalf("patentees after transfer: %v", p.PatenteeIDs)
	}
	if p.DeclarationInEffect(day("2024-03-01")) == nil {
		t.Fatal("the declaration must stay in effect after a transfer")
	}
	d := decision{actor: OrgActor(uni), today: day("2024-03-01"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	if _, err := p.Withdraw(d, WithdrawDeclaration{DeclarationID: "D1", EffectiveOn: day("2024-03-01"), Reason: "r"}); ErrorCode(err) != CodeForbidden {
		t.Fatalf("the former patentee must not withdraw: %v", err)
	}
}

func pledge(c RegisterPledge) func(decision, *Patent) ([]Event, error) {
	return func(d decision, p *Patent) ([]Event, error) {
		out, err := RegisterPledgeOn(d, []*Patent{p}, c)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
}

func TestPledgeRules(t *testing.T) {
	reg := registered(t)
	c := RegisterPledge{RegistrationNo: "Y2024440000123", PledgorID: uni, PledgeeID: bank, Patents: []string{string(reg.Number)},
		SecuredAmountFen: 100_000_000, RegisteredOn: day("2024-03-01"), DebtDueOn: day("2027-03-01")}
	notOwner := c
	notOwner.PledgorID = firm
	dueOnExpiry := c
	dueOnExpiry.DebtDueOn = reg.ExpiresOn
	dueAfter := c
	dueAfter.DebtDueOn = reg.ExpiresOn.AddDays(1)
	bankActor := OrgActor(bank)
	runCases(t, []ruleCase{
		{name: "accepted", given: []Event{reg}, actor: bankActor, when: pledge(c), then: []Event{PledgeRegistered{Number: reg.Number,
			PledgeID: "P2020101234562-0000000000004000", RegistrationNo: "Y2024440000123", PledgorID: uni, PledgeeID: bank,
			Patents: []PatentNumber{reg.Number}, SecuredAmountFen: 100_000_000, RegisteredOn: day("2024-03-01"), DebtDueOn: day("2027-03-01")}}},
		{name: "only the pledgee registers", given: []Event{reg}, when: pledge(c), code: CodeForbidden},
		{name: "not_patentee", given: []Event{reg}, actor: bankActor, when: pledge(notOwner), rule: RuleNotPatentee},
		{name: "patent_not_active", given: []Event{reg, statusOn(t, StatusLapsed, "2024-03-01")}, actor: bankActor, when: pledge(c), rule: RulePatentNotActive},
		{name: "patent_not_active when suspended", given: []Event{reg, PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-03-01")}}, actor: bankActor, when: pledge(c), rule: RulePatentNotActive},
		{name: "already_pledged", given: []Event{reg, pledged(t, "P1", "2024-01-01", false)}, actor: bankActor, when: pledge(c), rule: RuleAlreadyPledged},
		{name: "released on the day passes", given: []Event{reg, pledged(t, "P1", "2024-01-01", false), PledgeReleased{Number: reg.Number, PledgeID: "P1", ReleasedOn: day("2024-03-01"), Reason: ReleaseRepaid}}, actor: bankActor, when: pledge(c)},
		{name: "released the day after is still pledged", given: []Event{reg, pledged(t, "P1", "2024-01-01", false), PledgeReleased{Number: reg.Number, PledgeID: "P1", ReleasedOn: day("2024-03-02"), Reason: ReleaseRepaid}}, actor: bankActor, when: pledge(c), rule: RuleAlreadyPledged},
		{name: "debt due on expiry passes", given: []Event{reg}, actor: bankActor, when: pledge(dueOnExpiry)},
		{name: "debt_exceeds_patent_term", given: []Event{reg}, actor: bankActor, when: pledge(dueAfter), rule: RuleDebtExceedsPatentTerm},
		{name: "duplicate patents are invalid", given: []Event{reg}, actor: bankActor, when: pledge(RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(reg.Number), string(reg.Number)}, SecuredAmountFen: 1, RegisteredOn: day("2024-03-01"), DebtDueOn: day("2025-03-01")}), code: CodeInvalidArgument},
	})
}

func TestPledgeConsentAndRelease(t *testing.T) {
	reg := registered(t)
	pl := pledged(t, "P1", "2024-01-01", false)
	consent := func(on string) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			out, err := ConsentPledgeOn(d, []*Patent{p}, ConsentPledge{PledgeID: "P1", ConsentedOn: day(on)})
			if err != nil {
				return nil, err
			}
			return out[0], nil
		}
	}
	release := func(on string, reason ReleaseReason) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			out, err := ReleasePledgeOn(d, []*Patent{p}, ReleasePledge{PledgeID: "P1", ReleasedOn: day(on), Reason: reason})
			if err != nil {
				return nil, err
			}
			return out[0], nil
		}
	}
	released := PledgeReleased{Number: reg.Number, PledgeID: "P1", ReleasedOn: day("2024-05-01"), Reason: ReleaseRepaid}
	b := OrgActor(bank)
	runCases(t, []ruleCase{
		{name: "consent", given: []Event{reg, pl}, actor: b, when: consent("2024-02-01"), then: []Event{PledgeConsented{Number: reg.Number, PledgeID: "P1", ConsentedOn: day("2024-02-01")}}},
		{name: "consent twice", given: []Event{reg, pl, PledgeConsented{Number: reg.Number, PledgeID: "P1", ConsentedOn: day("2024-02-01")}}, actor: b, when: consent("2024-03-01"), rule: RulePledgeAlreadyConsented},
		{name: "consent by the pledgor", given: []Event{reg, pl}, when: consent("2024-02-01"), code: CodeForbidden},
		{name: "consent before registration", given: []Event{reg, pl}, actor: b, when: consent("2023-12-31"), rule: RuleDateBeforeFact},
		{name: "release", given: []Event{reg, pl}, actor: b, when: release("2024-05-01", ReleaseRepaid), then: []Event{released}},
		{name: "release twice", given: []Event{reg, pl, released}, actor: b, when: release("2024-06-01", ReleaseRepaid), rule: RulePledgeReleased},
		{name: "consent after release", given: []Event{reg, pl, released}, actor: b, when: consent("2024-06-01"), rule: RulePledgeReleased},
		{name: "unknown reason", given: []Event{reg, pl}, actor: b, when: release("2024-05-01", "forgiven"), code: CodeInvalidArgument},
		{name: "unknown pledge", given: []Event{reg}, actor: b, when: release("2024-05-01", ReleaseRepaid), code: CodeNotFound},
	})
}

func TestReviewRules(t *testing.T) {
	reg := registered(t)
	c := RecordReview{Campaign: "2024", ReviewedOn: day("2024-06-30"), Grade: GradeHigh, Disposition: DispositionOpenLicense,
		Feedback: []Feedback{{OrgID: sme, Interest: InterestHigh}}}
	review := func(c RecordReview, correct bool) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			if correct {
				return p.CorrectReview(d, c)
			}
			return p.RecordReview(d, c)
		}
	}
	recorded := ReviewRecorded{Number: reg.Number, Campaign: "2024", ReviewerID: uni, ReviewedOn: day("2024-06-30"),
		Grade: GradeHigh, Disposition: DispositionOpenLicense, Feedback: []Feedback{{OrgID: sme, Interest: InterestHigh}}}
	corrected := c
	corrected.Grade = GradeLow
	corrected.Disposition = DispositionMaintain
	wantCorrected := recorded
	wantCorrected.Grade, wantCorrected.Disposition = GradeLow, DispositionMaintain
	runCases(t, []ruleCase{
		{name: "accepted", given: []Event{reg}, when: review(c, false), then: []Event{recorded}},
		{name: "an organisation that is not a patentee is forbidden", given: []Event{reg}, actor: OrgActor(sme), when: review(c, false), code: CodeForbidden},
		{name: "nor may it correct a review", given: []Event{reg, recorded}, actor: OrgActor(sme), when: review(corrected, true), code: CodeForbidden},
		{name: "review_exists", given: []Event{reg, recorded}, when: review(c, false), rule: RuleReviewExists},
		{name: "another campaign passes", given: []Event{reg, recorded}, when: review(RecordReview{Campaign: "2024-h2", ReviewedOn: day("2024-07-01"), Grade: GradeLow, Disposition: DispositionMaintain}, false)},
		{name: "correction", given: []Event{reg, recorded}, when: review(corrected, true), then: []Event{ReviewCorrected(wantCorrected)}},
		{name: "correction without review", given: []Event{reg}, when: review(corrected, true), code: CodeNotFound},
		{name: "unknown grade", given: []Event{reg}, when: review(RecordReview{Campaign: "2024", ReviewedOn: day("2024-06-30"), Grade: "stellar", Disposition: DispositionMaintain}, false), code: CodeInvalidArgument},
		{name: "bad campaign", given: []Event{reg}, when: review(RecordReview{Campaign: "2024 spring!", ReviewedOn: day("2024-06-30"), Grade: GradeLow, Disposition: DispositionMaintain}, false), code: CodeInvalidArgument},
	})
}

func TestStatusChanges(t *testing.T) {
	reg := registered(t)
	lapsed, yes := StatusLapsed, true
	runCases(t, []ruleCase{
		{name: "status and suspension, effective today by default", given: []Event{reg}, actor: AdminActor, when: func(d decision, p *Patent) ([]Event, error) {
			return p.ChangeStatus(d, ChangeStatus{Status: &lapsed, Suspended: &yes, Reason: "未缴年费"})
		}, then: []Event{
			PatentStatusChanged{Number: reg.Number, Status: StatusLapsed, EffectiveOn: day("2024-07-01"), Reason: "未缴年费"},
			PatentSuspensionChanged{Number: reg.Number, Suspended: true, EffectiveOn: day("2024-07-01"), Reason: "未缴年费"},
		}},
		{name: "nothing given", given: []Event{reg}, when: func(d decision, p *Patent) ([]Event, error) { return p.ChangeStatus(d, ChangeStatus{}) }, code: CodeInvalidArgument},
		{name: "expired is derived, not recorded", given: []Event{reg}, when: func(d decision, p *Patent) ([]Event, error) {
			s := StatusExpired
			return p.ChangeStatus(d, ChangeStatus{Status: &s})
		}, code: CodeInvalidArgument},
		{name: "before grant", given: []Event{reg}, when: func(d decision, p *Patent) ([]Event, error) {
			return p.ChangeStatus(d, ChangeStatus{Status: &lapsed, EffectiveOn: day("2021-01-01")})
		}, rule: RuleDateBeforeFact},
		{name: "a stranger cannot", given: []Event{reg}, actor: OrgActor(sme), when: func(d decision, p *Patent) ([]Event, error) {
			return p.ChangeStatus(d, ChangeStatus{Status: &lapsed})
		}, code: CodeForbidden},
	})
}

func TestExpiryDates(t *testing.T) {
	cases := []struct {
		kind  PatentKind
		filed string
		want  string
	}{
		{KindInvention, "2020-03-15", "2040-03-14"},
		{KindUtilityModel, "2020-03-15", "2030-03-14"},
		{KindDesign, "2021-05-31", "2031-05-30"},
		{KindDesign, "2021-06-01", "2036-05-31"},
		{KindInvention, "2020-02-29", "2040-02-28"},
	}
	for _, c := range cases {
		if got := ExpiryDate(c.kind, day(c.filed)); got != day(c.want) {
			t.Errorf("ExpiryDate(%s, %s) = %s, want %s", c.kind, c.filed, got, c.want)
		}
	}
	p := &Patent{}
	p.Apply(registered(t))
	if s := p.StatusOn(day("2040-03-14")); s != StatusActive {
		t.Errorf("status on the expiry date = %s", s)
	}
	if s := p.StatusOn(day("2040-03-15")); s != StatusExpired {
		t.Errorf("status the day after expiry = %s", s)
	}
}

func TestRegisterPatentValidation(t *testing.T) {
	good := RegisterPatent{Number: "CN 202010123456.2", Title: "一种锂电池", PatenteeIDs: []string{uni},
		IPC: []string{"H01M 10/0525 (2010.01)", "G06F 16/00"}, FiledOn: day("2020-03-15"), GrantedOn: day("2022-01-10")}
	ev, err := good.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Number != number(t, "202010123456") || ev.Kind != KindInvention || ev.ExpiresOn != day("2040-03-14") {
		t.Fatalf("parsed %+v", ev)
	}
	if w := warningsOf([]Event{ev}); len(w) != 1 {
		t.Fatalf("want one warning for G06F 16/00, got %v", w)
	}
	bad := RegisterPatent{Number: "ZL202010123456.0", Title: "", PatenteeIDs: nil, IPC: []string{"H01M"},
		FiledOn: day("2019-03-15"), GrantedOn: day("2019-01-01")}
	_, err = bad.Parse()
	var e *Error
	if !asError(err, &e) || e.Code != CodeInvalidArgument {
		t.Fatalf("want invalid_argument, got %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, want := range []string{"number", "title", "patentee_ids", "ipc[0]", "granted_on"} {
		if !fields[want] {
			t.Errorf("field %s not named in %v", want, e.Fields)
		}
	}
	withoutIPC := good
	withoutIPC.IPC = nil
	for _, c := range []struct {
		ipc        []string
		missingIPC bool
	}{{[]string{"XYZ"}, false}, {[]string{"XYZ", "H01M"}, false}, {nil, true}, {[]string{}, true}} {
		withoutIPC.IPC = c.ipc
		_, err := withoutIPC.Parse()
		said := asError(err, &e) && slices.ContainsFunc(e.Fields, func(f FieldError) bool { return f.Field == "ipc" })
		if said != c.missingIPC {
			t.Errorf("IPC %q: says no code was given %v, want %v: %v", c.ipc, said, c.missingIPC, err)
		}
	}
	noGrant := good
	noGrant.GrantedOn = Date{}
	if _, err := noGrant.Parse(); !asError(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "granted_on" ||
		!strings.Contains(e.Fields[0].Message, "required") {
		t.Errorf("a missing grant date must be named once, as required: %v", err)
	}
	yearMismatch := good
	yearMismatch.FiledOn = day("2019-03-15")
	if _, err := yearMismatch.Parse(); ErrorCode(err) != CodeInvalidArgument {
		t.Errorf("a filing year that contradicts the number must be refused: %v", err)
	}
}

// TestLocarnoClasses: a design's Locarno classification names one of the
// classes 01–32 or 99 and a two-digit subclass.
func TestLocarnoClasses(t *testing.T) {
	for locarno, ok := range map[string]bool{"01-01": true, "14-03": true, "32-00": true, "99-00": true,
		"00-01": false, "33-01": false, "98-01": false, "99-99x": false, "14-3": false, "1403": false} {
		var fe FieldErrors
		checkClassification(&fe, KindDesign, 0, locarno)
		if got := fe.Err() == nil; got != ok {
			t.Errorf("%s: accepted %v, want %v (%v)", locarno, got, ok, fe.Err())
		}
	}
}

func asError(err error, target **Error) bool { return errors.As(err, target) }

func TestRegisterRefusesFutureGrant(t *testing.T) {
	c := RegisterPatent{Number: string(number(t, "202010123456")), Title: "t", PatenteeIDs: []string{uni},
		IPC: []string{"H01M 10/0525"}, FiledOn: day("2020-03-15"), GrantedOn: day("2024-07-02")}
	d := decision{actor: OrgActor(uni), today: day("2024-07-01"), newID: func() string { return "x" }}
	if _, err := (&Patent{}).Register(d, c); ErrorCode(err) != CodeInvalidArgument {
		t.Fatalf("a grant tomorrow: %v", err)
	}
	c.GrantedOn = day("2024-07-01")
	if _, err := (&Patent{}).Register(d, c); err != nil {
		t.Fatalf("a grant today: %v", err)
	}
}

// TestFieldErrorTemplate: a field problem keeps the format and arguments
// its message was made from, through Invalid, Addf and a nested Add, so
// that a page can say it in another language.
func TestFieldErrorTemplate(t *testing.T) {
	var fe FieldErrors
	fe.Addf("term_months", "must be between 1 and %d", 240)
	fe.Add("declared_on", invalidValue("date %s: month %d does not exist", "2024-13-01", 13))
	fe.Add("campaign", Invalid("campaign", "is required, like 2024"))
	var e *Error
	if !asError(fe.Err(), &e) || len(e.Fields) != 3 {
		t.Fatalf("%v", fe.Err())
	}
	want := []struct {
		field, format string
		args          []any
	}{{"term_months", "must be between 1 and %d", []any{240}},
		{"declared_on", "date %s: month %d does not exist", []any{"2024-13-01", 13}},
		{"campaign", "is required, like 2024", nil}}
	for i, w := range want {
		format, args := e.Fields[i].Template()
		if e.Fields[i].Field != w.field || format != w.format || fmt.Sprint(args) != fmt.Sprint(w.args) ||
			e.Fields[i].Message != fmt.Sprintf(w.format, w.args...) {
			t.Errorf("field %d: %s %q %v (%q), want %+v", i, e.Fields[i].Field, format, args, e.Fields[i].Message, w)
		}
	}
}

// TestAddUnreported: a deeper check adds its problems about fields the
// first checks did not name, keeping their templates, and nothing about a
// field already named.
func TestAddUnreported(t *testing.T) {
	var fe FieldErrors
	fe.Addf("from", "date %s is not in YYYY-MM-DD form", "2024-1-1")
	var deeper FieldErrors
	deeper.Addf("from", "is required (YYYY-MM-DD)")
	deeper.Addf("period", "unknown period %q", "fortnight")
	fe.AddUnreported(deeper.Err())
	fe.AddUnreported(nil)
	var e *Error
	if !asError(fe.Err(), &e) || len(e.Fields) != 2 {
		t.Fatalf("%v", fe.Err())
	}
	if f := e.Fields[0]; f.Field != "from" || f.Message != "date 2024-1-1 is not in YYYY-MM-DD form" {
		t.Errorf("first problem %+v; want the form problem of from, kept", f)
	}
	if f := e.Fields[1]; f.Field != "period" || f.Message != `unknown period "fortnight"` {
		t.Errorf("second problem %+v; want the period's", f)
	} else if format, args := f.Template(); format != "unknown period %q" || fmt.Sprint(args) != "[fortnight]" {
		t.Errorf("the period's template is %q %v", format, args)
	}
}

// TestDeclarationTermIsRequired: a term left blank or given as 0 (as an
// import's empty cell reads) is named as missing or 0, one out of range as
// out of range.
func TestDeclarationTermIsRequired(t *testing.T) {
	for months, want := range map[int]string{0: "term_months: is missing or 0: want the licence term in months, 1 to 240", 241: "term_months: must be between 1 and 240", -1: "term_months: must be between"} {
		c := declareOn("2024-03-01")
		c.TermMonths = months
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("term of %d months: %v, want %q", months, err, want)
		}
	}
}
