package domain

import "testing"

// TestFactsDoneAreNotInTheFuture: a fact that reports something already
// done (a recordal, a payment, a pledge registration, consent or release, a
// review, a status change, a transfer, which takes effect on its
// registration) may not be dated after today (2024-07-01 in the rule tests);
// declarations and licences may take effect later.
func TestFactsDoneAreNotInTheFuture(t *testing.T) {
	reg := registered(t)
	lic := licensed(t, "L1", LicenseOrdinary, sme, "2024-01-31", "2025-01-31")
	pl := pledged(t, "P1", "2024-01-01", false)
	review := RecordReview{Campaign: "2024", Grade: GradeHigh, Disposition: DispositionOpenLicense}
	reviewed := ReviewRecorded{Number: reg.Number, Campaign: "2024", ReviewerID: uni, ReviewedOn: day("2024-06-30"), Grade: GradeLow, Disposition: DispositionMaintain}
	lapsed := StatusLapsed
	bankActor := OrgActor(bank)
	for _, on := range []struct {
		date string
		code Code
	}{{"2024-07-01", ""}, {"2024-07-02", CodeInvalidArgument}, {"2099-07-20", CodeInvalidArgument}} {
		runCases(t, []ruleCase{
			{name: "recorded_on " + on.date, given: []Event{reg, lic}, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				return p.RecordLicense(d, RecordLicense{LicenseID: "L1", RecordNo: "2024110000123", RecordedOn: day(on.date)})
			}},
			{name: "paid_on " + on.date, given: []Event{reg, lic}, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				return p.PayRoyalty(d, PayRoyalty{LicenseID: "L1", PaidOn: day(on.date), AmountFen: 1})
			}},
			{name: "registered_on " + on.date, given: []Event{reg}, actor: bankActor, code: on.code, when: pledge(RegisterPledge{PledgorID: uni, PledgeeID: bank,
				Patents: []string{string(reg.Number)}, SecuredAmountFen: 1, RegisteredOn: day(on.date), DebtDueOn: day("2030-01-01")})},
			{name: "consented_on " + on.date, given: []Event{reg, pl}, actor: bankActor, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				return firstOf(ConsentPledgeOn(d, []*Patent{p}, ConsentPledge{PledgeID: "P1", ConsentedOn: day(on.date)}))
			}},
			{name: "released_on " + on.date, given: []Event{reg, pl}, actor: bankActor, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				return firstOf(ReleasePledgeOn(d, []*Patent{p}, ReleasePledge{PledgeID: "P1", ReleasedOn: day(on.date), Reason: ReleaseRepaid}))
			}},
			{name: "reviewed_on " + on.date, given: []Event{reg}, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				c := review
				c.ReviewedOn = day(on.date)
				return p.RecordReview(d, c)
			}},
			{name: "corrected reviewed_on " + on.date, given: []Event{reg, reviewed}, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				c := review
				c.ReviewedOn = day(on.date)
				return p.CorrectReview(d, c)
			}},
			{name: "status effective_on " + on.date, given: []Event{reg}, code: on.code, when: func(d decision, p *Patent) ([]Event, error) {
				return p.ChangeStatus(d, ChangeStatus{Status: &lapsed, EffectiveOn: day(on.date)})
			}},
			{name: "transfer effective_on " + on.date, given: []Event{reg}, code: on.code,
				when: transfer(TransferPatent{ToIDs: []string{firm}, EffectiveOn: day(on.date)})},
		})
	}
	runCases(t, []ruleCase{
		{name: "a declaration may take effect later", given: []Event{reg}, when: declare(declareOn("2024-09-01"))},
		{name: "a licence may take effect later", given: []Event{reg}, when: grant(GrantLicense{Type: LicenseOrdinary, LicenseeID: sme, EffectiveOn: day("2024-09-01"), EndsOn: day("2025-08-31")})},
	})
}

// firstOf returns the events of the first stream of a multi-stream decision.
func firstOf(out [][]Event, err error) ([]Event, error) {
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// TestFutureDateErrorNamesTheField checks the refusal is the one a future
// granted_on gets: invalid_argument naming the field, saying "in the future".
func TestFutureDateErrorNamesTheField(t *testing.T) {
	p := &Patent{}
	p.Apply(registered(t))
	p.Apply(licensed(t, "L1", LicenseOrdinary, sme, "2024-01-31", "2025-01-31"))
	d := decision{actor: OrgActor(sme), today: day("2024-07-01"), newID: func() string { return "x" }}
	_, err := p.RecordLicense(d, RecordLicense{LicenseID: "L1", RecordNo: "X1", RecordedOn: day("2099-07-20")})
	var e *Error
	if !asError(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "recorded_on" || e.Fields[0].Message != "2099-07-20 is in the future; record it once it has happened" {
		t.Fatalf("want invalid_argument on recorded_on, got %#v", err)
	}
}
