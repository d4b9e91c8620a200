package domain

import (
	"testing"
	"time"
)

// The rules that take numbers and dates, fuzzed: whatever the dates,
// amounts and durations, a command is accepted only when every rule holds,
// a refusal names the rule that fails, nothing panics, and the error is
// invalid input or a rule violation, never anything else.

// fuzzDay is base plus offset days, kept within ±100 years so that every
// date stays inside what ParseDate accepts.
func fuzzDay(base string, offset int32) Date {
	return day(base).AddDays(int(offset % 36_500))
}

// fuzzDecision acts as actor on a fixed today.
func fuzzDecision(actor Actor, today string) decision {
	return decision{actor: actor, today: day(today), newID: func() string { return "00000000-0000-4000-8000-000000000001" }}
}

// checkOutcome fails unless err is nil with events, or a refusal (invalid
// input or rule violation) without them.
func checkOutcome(t *testing.T, events []Event, err error) {
	t.Helper()
	switch {
	case err == nil && len(events) == 0:
		t.Fatal("accepted without events")
	case err != nil && events != nil:
		t.Fatalf("refused with events: %v", err)
	case err != nil && ErrorCode(err) != CodeInvalidArgument && ErrorCode(err) != CodeRuleViolation:
		t.Fatalf("unexpected error %v", err)
	}
}

// termEndOracle is the last day of a term of months from start, computed
// apart from TermEndsOn: the day before the same day of the month months
// later, or that month's last day when it has no such day.
func termEndOracle(start Date, months int) Date {
	y, m, d := start.Time().Date()
	dayBefore := time.Date(y, m+time.Month(months), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	lastOfMonth := time.Date(y, m+time.Month(months)+1, 0, 0, 0, 0, 0, time.UTC)
	end := dayBefore
	if lastOfMonth.Before(end) {
		end = lastOfMonth
	}
	return NewDate(end.Date())
}

// FuzzDeclarationTerm fuzzes the declaration's dates, term and fee against
// the patent's grant and expiry: patent_not_active, term_exceeds_patent,
// invalid_fee_terms and the term's last day.
func FuzzDeclarationTerm(f *testing.F) {
	f.Add(int32(0), uint16(600), int32(1460), 36, int64(5_000_000), uint8(0))
	f.Add(int32(-7_300), uint16(200), int32(3_650), 240, int64(1), uint8(1))
	f.Add(int32(-1_402), uint16(0), int32(3_286), 12, int64(0), uint8(1)) // a utility model filed 2016-02-29
	f.Add(int32(31), uint16(59), int32(-1), 1, int64(-5), uint8(2))
	f.Add(int32(5_000), uint16(1), int32(9_000), 0, int64(MaxFen+1), uint8(2))
	f.Fuzz(func(t *testing.T, filedOffset int32, grantDays uint16, declaredOffset int32, months int, fee int64, kind uint8) {
		digits := []string{"202010123456", "202020123456", "202030123456"}[kind%3]
		reg := registeredKind(t, digits)
		reg.FiledOn = fuzzDay("2020-01-01", filedOffset)
		reg.GrantedOn = reg.FiledOn.AddDays(int(grantDays))
		reg.ExpiresOn = ExpiryDate(reg.Kind, reg.FiledOn)
		if want := termEndOracle(reg.FiledOn, map[PatentKind]int{KindInvention: 240, KindUtilityModel: 120}[reg.Kind]); reg.Kind != KindDesign && reg.ExpiresOn != want {
			t.Fatalf("ExpiryDate(%s, %s) = %s, want %s", reg.Kind, reg.FiledOn, reg.ExpiresOn, want)
		}
		p := &Patent{}
		p.Apply(reg)
		c := FileDeclaration{Fee: lumpSum(Fen(fee)), TermMonths: months, DeclaredOn: fuzzDay("2024-01-01", declaredOffset),
			EvaluationReportRef: "PJ1"}
		events, err := p.Declare(fuzzDecision(OrgActor(uni), "2199-12-31"), c)
		checkOutcome(t, events, err)
		if months < 1 || months > maxTermMonths {
			if ErrorCode(err) != CodeInvalidArgument {
				t.Fatalf("term of %d months: %v", months, err)
			}
			return
		}
		ends := TermEndsOn(c.DeclaredOn, months)
		if want := termEndOracle(c.DeclaredOn, months); ends != want {
			t.Fatalf("TermEndsOn(%s, %d) = %s, want %s", c.DeclaredOn, months, ends, want)
		}
		active := !c.DeclaredOn.Before(reg.GrantedOn) && !c.DeclaredOn.After(reg.ExpiresOn)
		switch rule := RuleOf(err); {
		case err == nil:
			ev := events[0].(DeclarationFiled)
			if !active || ev.TermEndsOn != ends || ends.After(reg.ExpiresOn) || fee <= 0 || Fen(fee) > MaxFen {
				t.Fatalf("accepted %+v on a patent granted %s, expiring %s", ev, reg.GrantedOn, reg.ExpiresOn)
			}
		case rule == RulePatentNotActive && active, rule == RuleTermExceedsPatent && (!active || !ends.After(reg.ExpiresOn)),
			rule == RuleInvalidFeeTerms && (fee > 0 && Fen(fee) <= MaxFen):
			t.Fatalf("refused %+v with %v on a patent granted %s, expiring %s", c, err, reg.GrantedOn, reg.ExpiresOn)
		}
	})
}

// FuzzOpenLicense fuzzes an open licence's effective date and first
// payment against a declaration of 2024-01-01 for 36 months at 5,000,000
// fen, withdrawn or not, on 2024-07-01: declaration_not_in_effect,
// fee_mismatch, the licence's term, and an effective date after today
// refused as input.
func FuzzOpenLicense(f *testing.F) {
	f.Add(int32(60), int64(5_000_000), int32(0))
	f.Add(int32(-1), int64(5_000_000), int32(0))
	f.Add(int32(1_095), int64(5_000_000), int32(0)) // the day after the term
	f.Add(int32(151), int64(5_000_000), int32(152))
	f.Add(int32(152), int64(5_000_000), int32(152))
	f.Add(int32(60), int64(4_999_999), int32(0))
	f.Add(int32(60), int64(-1), int32(0))
	f.Fuzz(func(t *testing.T, effectiveOffset int32, fee int64, withdrawalOffset int32) {
		reg := registered(t)
		decl := declared(t, "D1", "2024-01-01")
		p := &Patent{}
		for _, e := range []Event{reg, decl} {
			p.Apply(e)
		}
		if withdrawalOffset > 0 {
			p.Apply(withdrawn(t, "D1", fuzzDay("2024-01-01", withdrawalOffset).String()))
		}
		c := GrantLicense{Type: LicenseOpen, LicenseeID: sme, EffectiveOn: fuzzDay("2024-01-01", effectiveOffset),
			FeePaidFen: Fen(fee), DeclarationID: "D1"}
		events, err := p.GrantLicense(fuzzDecision(OrgActor(sme), "2024-07-01"), c)
		checkOutcome(t, events, err)
		inEffect := p.Declaration("D1").InEffectOn(c.EffectiveOn)
		future := c.EffectiveOn.After(day("2024-07-01"))
		switch rule := RuleOf(err); {
		case err == nil:
			l := events[0].(LicenseGranted)
			if !inEffect || future || l.FeePaidFen != decl.Fee.FirstPayment() || l.EndsOn != decl.TermEndsOn || l.EffectiveOn != c.EffectiveOn {
				t.Fatalf("accepted %+v under %+v", l, p.Declaration("D1"))
			}
		case ErrorCode(err) == CodeInvalidArgument && fee >= 0 && Fen(fee) <= MaxFen && !future,
			rule == RuleDeclarationNotInEffect && inEffect,
			rule == RuleFeeMismatch && (!inEffect || Fen(fee) == decl.Fee.FirstPayment()):
			t.Fatalf("refused %+v: %v", c, err)
		}
	})
}

// FuzzPledgeDates fuzzes a pledge's dates and secured amount against the
// patent's grant and expiry and today: patent_not_active,
// debt_exceeds_patent_term and the amounts and dates refused as input.
func FuzzPledgeDates(f *testing.F) {
	f.Add(int32(0), int32(365), int64(100_000_000))
	f.Add(int32(-900), int32(10), int64(1))
	f.Add(int32(182), int32(1), int64(0))
	f.Add(int32(0), int32(5_917), int64(1)) // debt due on the expiry date
	f.Add(int32(0), int32(5_918), int64(1))
	f.Add(int32(0), int32(-1), int64(-1))
	f.Fuzz(func(t *testing.T, registeredOffset, dueAfter int32, amount int64) {
		reg := registered(t)
		p := &Patent{}
		p.Apply(reg)
		c := RegisterPledge{PledgorID: uni, PledgeeID: bank, Patents: []string{string(reg.Number)}, SecuredAmountFen: Fen(amount),
			RegisteredOn: fuzzDay("2024-01-01", registeredOffset)}
		c.DebtDueOn = c.RegisteredOn.AddDays(int(dueAfter % 36_500))
		out, err := RegisterPledgeOn(fuzzDecision(OrgActor(bank), "2024-07-01"), []*Patent{p}, c)
		var events []Event
		if out != nil {
			events = out[0]
		}
		checkOutcome(t, events, err)
		today := day("2024-07-01")
		goodInput := amount > 0 && Fen(amount) <= MaxFen && !c.DebtDueOn.Before(c.RegisteredOn) && !c.RegisteredOn.After(today)
		active := !c.RegisteredOn.Before(reg.GrantedOn) && !c.RegisteredOn.After(reg.ExpiresOn)
		switch rule := RuleOf(err); {
		case err == nil:
			if !goodInput || !active || c.DebtDueOn.After(reg.ExpiresOn) {
				t.Fatalf("accepted %+v on a patent granted %s, expiring %s", events[0], reg.GrantedOn, reg.ExpiresOn)
			}
		case ErrorCode(err) == CodeInvalidArgument && goodInput,
			rule == RulePatentNotActive && active,
			rule == RuleDebtExceedsPatentTerm && !c.DebtDueOn.After(reg.ExpiresOn):
			t.Fatalf("refused %+v: %v", c, err)
		}
	})
}
