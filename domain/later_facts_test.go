package domain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// orderedFact is a command a test records before or after another.
type orderedFact struct {
	actor Actor
	do    func(decision, *Patent) ([]Event, error)
}

// bothAccepted records first, then second, on a patent holding given, and
// reports whether both were accepted.
func bothAccepted(given []Event, first, second orderedFact) bool {
	p := &Patent{}
	for _, e := range given {
		p.Apply(e)
	}
	for i, f := range []orderedFact{first, second} {
		d := decision{actor: f.actor, today: day("2024-07-01"), newID: func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }}
		events, err := f.do(d, p)
		if err != nil {
			return false
		}
		for _, e := range events {
			p.Apply(e)
		}
	}
	return true
}

// TestFactsInEitherOrder: two facts with their dates are accepted or
// refused together whichever reaches the ledger first. A transfer dated
// before the transferor's later licence, declaration or pledge, and a
// pledge without consent dated before a licence or declaration, were
// accepted when they came last and refused when they came first.
func TestFactsInEitherOrder(t *testing.T) {
	reg := registered(t)
	byUni, admin, byBank := OrgActor(uni), AdminActor, OrgActor(bank)
	toFirm := orderedFact{admin, transfer(TransferPatent{ToIDs: []string{firm}, EffectiveOn: day("2024-03-01")})}
	negotiated := func(typ LicenseType, from, to string) orderedFact {
		return orderedFact{byUni, grant(GrantLicense{Type: typ, LicenseeID: sme, EffectiveOn: day(from), EndsOn: day(to)})}
	}
	pledgeOn := func(on string, consent bool) orderedFact {
		return orderedFact{byBank, pledge(RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(reg.Number)},
			SecuredAmountFen: 100_000_000, RegisteredOn: day(on), DebtDueOn: day("2030-01-01"), OpenLicenseConsent: consent})}
	}
	declaration := orderedFact{byUni, declare(FileDeclaration{Fee: FeeTerms{Mode: FeeFree}, TermMonths: 12, DeclaredOn: day("2024-05-01")})}
	for _, tc := range []struct {
		name string
		a, b orderedFact
		want bool
	}{
		{"a transfer before the transferor's later licence", toFirm, negotiated(LicenseOrdinary, "2024-05-01", "2024-12-31"), false},
		{"a transfer before the transferor's later declaration", toFirm, declaration, false},
		{"a transfer before the transferor's later pledge", toFirm, pledgeOn("2024-05-01", true), false},
		{"a transfer after the transferor's licence (the admin's: a former patentee no longer acts)",
			orderedFact{admin, transfer(TransferPatent{ToIDs: []string{firm}, EffectiveOn: day("2024-06-01")})},
			orderedFact{admin, grant(GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day("2024-05-01"), EndsOn: day("2024-12-31")})}, true},
		{"a pledge without consent before a licence", pledgeOn("2024-03-01", false), negotiated(LicenseOrdinary, "2024-05-01", "2024-12-31"), false},
		{"a pledge without consent on a licence's first day", pledgeOn("2024-05-01", false), negotiated(LicenseOrdinary, "2024-05-01", "2024-12-31"), false},
		{"a pledge without consent before a declaration", pledgeOn("2024-03-01", false), declaration, false},
		{"a pledge without consent before a transfer", pledgeOn("2024-02-01", false), toFirm, false},
		{"a pledge with consent before a licence", pledgeOn("2024-03-01", true), negotiated(LicenseOrdinary, "2024-05-01", "2024-12-31"), true},
		{"a pledge without consent after a licence took effect", pledgeOn("2024-03-01", false), negotiated(LicenseOrdinary, "2024-01-01", "2024-12-31"), true},
		{"an exclusive licence over an ordinary one", negotiated(LicenseOrdinary, "2024-01-01", "2024-12-31"), negotiated(LicenseExclusive, "2024-06-01", "2025-05-31"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ab, ba := bothAccepted([]Event{reg}, tc.a, tc.b), bothAccepted([]Event{reg}, tc.b, tc.a)
			if ab != tc.want || ba != tc.want {
				t.Fatalf("both accepted in one order: %v, in the other: %v; want %v in both", ab, ba, tc.want)
			}
		})
	}
}

// TestBackdatedActsAreDecidedByThePatenteesOfTheirDay: a declaration or a
// withdrawal the admin records with a date before a transfer already
// recorded is checked against, and names, the patentees of its day, as it
// is when it reaches the ledger before the transfer: the co-owners of that
// day must consent, and the assignees, who did not hold the patent yet,
// need not and may not.
func TestBackdatedActsAreDecidedByThePatenteesOfTheirDay(t *testing.T) {
	coOwned := registered(t, uni, firm)
	toSME := orderedFact{AdminActor, transfer(TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-04-01"), CoOwnerConsent: []string{uni, firm}})}
	declareWith := func(consent ...string) orderedFact {
		return orderedFact{AdminActor, declare(FileDeclaration{Fee: FeeTerms{Mode: FeeFree}, TermMonths: 12,
			DeclaredOn: day("2024-01-01"), CoOwnerConsent: consent})}
	}
	soleOwned := registered(t, uni)
	toTwo := orderedFact{AdminActor, transfer(TransferPatent{ToIDs: []string{firm, sme}, EffectiveOn: day("2024-04-01")})}
	for _, tc := range []struct {
		name  string
		given PatentRegistered
		a, b  orderedFact
		want  bool
	}{
		{"a co-owned patent declared without its co-owners' consent", coOwned, toSME, declareWith(), false},
		{"a co-owned patent declared with the assignee's consent only", coOwned, toSME, declareWith(sme), false},
		{"a co-owned patent declared with its co-owners' consent", coOwned, toSME, declareWith(uni, firm), true},
		{"a sole owner's patent declared before it passed to two", soleOwned, toTwo, declareWith(), true},
		{"a sole owner's patent declared with its owner's consent", soleOwned, toTwo, declareWith(uni), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ab, ba := bothAccepted([]Event{tc.given}, tc.a, tc.b), bothAccepted([]Event{tc.given}, tc.b, tc.a)
			if ab != tc.want || ba != tc.want {
				t.Fatalf("both accepted in one order: %v, in the other: %v; want %v in both", ab, ba, tc.want)
			}
		})
	}
	p := &Patent{}
	p.Apply(coOwned)
	d := decision{actor: AdminActor, today: day("2024-07-01"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	events, err := transfer(TransferPatent{ToIDs: []string{sme}, EffectiveOn: day("2024-04-01"), CoOwnerConsent: []string{uni, firm}})(d, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(events[0])
	events, err = declare(FileDeclaration{Fee: FeeTerms{Mode: FeeFree}, TermMonths: 12, DeclaredOn: day("2024-01-01"),
		CoOwnerConsent: []string{uni, firm}})(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].(DeclarationFiled).PatenteeIDs; !slices.Equal(got, []string{uni, firm}) {
		t.Fatalf("the declaration dated before the transfer names patentees %v, want those of its day %v", got, []string{uni, firm})
	}
	p.Apply(events[0])
	withdrawal := func(consent ...string) func(decision, *Patent) ([]Event, error) {
		return func(d decision, p *Patent) ([]Event, error) {
			return p.Withdraw(d, WithdrawDeclaration{DeclarationID: events[0].(DeclarationFiled).DeclarationID,
				EffectiveOn: day("2024-03-01"), Reason: "新条款", CoOwnerConsent: consent})
		}
	}
	if _, err := withdrawal(sme)(d, p); err == nil {
		t.Fatal("a withdrawal dated before the transfer was accepted with the assignee's consent only")
	}
	if _, err := withdrawal(uni, firm)(d, p); err != nil {
		t.Fatalf("a withdrawal dated before the transfer with its co-owners' consent: %v", err)
	}
}

// TestPledgeConsentAndReleaseInEitherOrder: a consent dated before the
// release stands whichever is recorded first, and one dated on or after it
// is refused whichever is recorded first (a release recorded after a later
// consent was accepted, a consent recorded after a later release refused).
func TestPledgeConsentAndReleaseInEitherOrder(t *testing.T) {
	reg := registered(t)
	pledge := pledged(t, "P1", "2024-01-01", false)
	consent := func(on string) orderedFact {
		return orderedFact{OrgActor(bank), func(d decision, p *Patent) ([]Event, error) {
			events, err := ConsentPledgeOn(d, []*Patent{p}, ConsentPledge{PledgeID: "P1", ConsentedOn: day(on)})
			if err != nil {
				return nil, err
			}
			return events[0], nil
		}}
	}
	release := func(on string) orderedFact {
		return orderedFact{OrgActor(bank), func(d decision, p *Patent) ([]Event, error) {
			events, err := ReleasePledgeOn(d, []*Patent{p}, ReleasePledge{PledgeID: "P1", ReleasedOn: day(on), Reason: ReleaseRepaid})
			if err != nil {
				return nil, err
			}
			return events[0], nil
		}}
	}
	for _, tc := range []struct {
		name string
		a, b orderedFact
		want bool
	}{
		{"a consent before the release", consent("2024-03-01"), release("2024-05-01"), true},
		{"a consent on the release's day", consent("2024-05-01"), release("2024-05-01"), false},
		{"a consent after the release", consent("2024-03-01"), release("2024-02-01"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given := []Event{reg, pledge}
			ab, ba := bothAccepted(given, tc.a, tc.b), bothAccepted(given, tc.b, tc.a)
			if ab != tc.want || ba != tc.want {
				t.Fatalf("both accepted in one order: %v, in the other: %v; want %v in both", ab, ba, tc.want)
			}
		})
	}
}

// TestRegisterFactsInEitherOrder: a status, suspension or overdue fee
// dated before an act it would have refused is refused when recorded after
// the act (date_before_fact), as the act is when recorded after it; one
// dated after the act, or lifted before it, stands in either order.
func TestRegisterFactsInEitherOrder(t *testing.T) {
	reg := registered(t)
	byUni, admin, byBank := OrgActor(uni), AdminActor, OrgActor(bank)
	status := func(c ChangeStatus) orderedFact {
		return orderedFact{admin, func(d decision, p *Patent) ([]Event, error) { return p.ChangeStatus(d, c) }}
	}
	yes, no := true, false
	lapsed, active := StatusLapsed, StatusActive
	suspendedOn := func(on string) orderedFact { return status(ChangeStatus{Suspended: &yes, EffectiveOn: day(on)}) }
	toFirm := orderedFact{admin, transfer(TransferPatent{ToIDs: []string{firm}, EffectiveOn: day("2024-03-01")})}
	licence := orderedFact{byUni, grant(GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day("2024-03-01"), EndsOn: day("2024-12-31")})}
	declaration := orderedFact{byUni, declare(FileDeclaration{Fee: FeeTerms{Mode: FeeFree}, TermMonths: 12, DeclaredOn: day("2024-03-01")})}
	pledgeOn := orderedFact{byBank, pledge(RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(reg.Number)},
		SecuredAmountFen: 100_000_000, RegisteredOn: day("2024-03-01"), DebtDueOn: day("2030-01-01"), OpenLicenseConsent: true})}
	for _, tc := range []struct {
		name string
		a, b orderedFact
		want bool
	}{
		{"a suspension before a transfer", suspendedOn("2024-02-01"), toFirm, false},
		{"a suspension before a declaration", suspendedOn("2024-02-01"), declaration, false},
		{"a suspension before a pledge", suspendedOn("2024-02-01"), pledgeOn, false},
		{"a suspension before a licence", suspendedOn("2024-02-01"), licence, true},
		{"a suspension after a transfer", suspendedOn("2024-03-02"), toFirm, true},
		{"a lapse before a licence", status(ChangeStatus{Status: &lapsed, EffectiveOn: day("2024-02-01")}), licence, false},
		{"a lapse before a transfer", status(ChangeStatus{Status: &lapsed, EffectiveOn: day("2024-02-01")}), toFirm, false},
		{"an overdue fee before a declaration", status(ChangeStatus{AnnualFeeOverdue: &yes, EffectiveOn: day("2024-02-01")}), declaration, false},
		{"an overdue fee before a licence", status(ChangeStatus{AnnualFeeOverdue: &yes, EffectiveOn: day("2024-02-01")}), licence, true},
		{"a restoration before a licence", status(ChangeStatus{Status: &active, EffectiveOn: day("2024-02-01")}), licence, true},
		{"a fee paid before a declaration", status(ChangeStatus{AnnualFeeOverdue: &no, EffectiveOn: day("2024-02-01")}), declaration, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ab, ba := bothAccepted([]Event{reg}, tc.a, tc.b), bothAccepted([]Event{reg}, tc.b, tc.a)
			if ab != tc.want || ba != tc.want {
				t.Fatalf("both accepted in one order: %v, in the other: %v; want %v in both", ab, ba, tc.want)
			}
		})
	}
	// The refusal names the act it would refuse.
	p := &Patent{}
	p.Apply(reg)
	d := decision{actor: admin, today: day("2024-07-01"), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	events, err := toFirm.do(d, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(events[0])
	if _, err := p.ChangeStatus(d, ChangeStatus{Suspended: &yes, EffectiveOn: day("2024-02-01")}); RuleOf(err) != RuleDateBeforeFact ||
		!strings.Contains(err.Error(), "would refuse transfer") {
		t.Fatalf("a suspension over a recorded transfer: %v", err)
	}
}
