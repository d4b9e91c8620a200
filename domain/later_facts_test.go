package domain

import (
	"fmt"
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
