package domain

import "slices"

// TransferPatent is the command that assigns a patent (专利权转让) to new
// patentees.
type TransferPatent struct {
	ToIDs          []string `json:"to_ids"`
	EffectiveOn    Date     `json:"effective_on"`
	PriceFen       Fen      `json:"price_fen"`
	CoOwnerConsent []string `json:"co_owner_consent"`
}

// Validate checks the command's fields.
func (c TransferPatent) Validate() error {
	var fe FieldErrors
	fe.Add("to_ids", checkIDList("to_ids", c.ToIDs, true))
	requireDate(&fe, "effective_on", c.EffectiveOn)
	fe.Add("price_fen", CheckFen(c.PriceFen))
	fe.Add("co_owner_consent", checkIDList("co_owner_consent", c.CoOwnerConsent, false))
	return fe.Err()
}

// Transfer decides an assignment. Declarations and licences granted before
// it stay valid and bind the new patentees. It takes effect on its
// registration with CNIPA, a fact already done: not after today.
func (p *Patent) Transfer(d decision, c TransferPatent) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := d.notInFuture("effective_on", c.EffectiveOn); err != nil {
		return nil, err
	}
	if err := requirePatenteeOn(p, d.actor, "effective_on", c.EffectiveOn); err != nil {
		return nil, err
	}
	if err := checkConsentList(p.PatenteeIDs, c.CoOwnerConsent); err != nil {
		return nil, err
	}
	on := c.EffectiveOn
	if last := p.latestTransfer(); last != nil && on.Before(last.EffectiveOn) {
		return nil, Violation(RuleDateBeforeFact, "effective_on %s is before transfer %s, which took effect on %s: "+
			"the current patentees hold the patent from then on", on, last.TransferID, last.EffectiveOn)
	}
	if act, ok := p.actOfPatenteesAfter(on); ok {
		return nil, Violation(RuleDateBeforeFact, "effective_on %s is before %s on %s, an act of the patentees the transfer "+
			"would take the patent from: it would have been done by former patentees", on, act.what, act.on)
	}
	if s := p.StatusOn(on); s != StatusActive {
		return nil, Violation(RulePatentNotActive, "patent %s is %s on %s", p.Number, statusWord(s), on)
	}
	if p.SuspendedOn(on) { // a suspension (IR 103–104) freezes the ownership while a dispute or a court's preservation lasts
		return nil, Violation(RulePatentSuspended, "patent %s is suspended on %s: its ownership cannot change while the suspension lasts", p.Number, on)
	}
	if pl := p.PledgeWithoutConsentOn(on); pl != nil {
		return nil, Violation(RulePledgedWithoutConsent, "pledge %s is active and its pledgee has not consented", pl.PledgeID)
	}
	if err := checkConsent(p.PatenteeIDs, c.CoOwnerConsent, d.actor); err != nil {
		return nil, err
	}
	if sameSet(p.PatenteeIDs, c.ToIDs) {
		return nil, Violation(RuleSelfTransfer, "the new patentees are the current ones")
	}
	return []Event{PatentTransferred{Number: p.Number, TransferID: d.routedID(prefixTransfer, p.Number),
		FromIDs: p.PatenteeIDs, ToIDs: c.ToIDs, EffectiveOn: on, PriceFen: c.PriceFen}}, nil
}

// patenteeSince returns the effective date of the latest transfer that
// made org a patentee (its assignees held it, its assignors did not); the
// zero date when no transfer did, so that org has held the patent since
// its registration.
func (p *Patent) patenteeSince(org string) Date {
	var since Date
	for _, t := range p.Transfers {
		if slices.Contains(t.ToIDs, org) && !slices.Contains(t.FromIDs, org) && !t.EffectiveOn.Before(since) {
			since = t.EffectiveOn
		}
	}
	return since
}

// PatenteesOn returns the patentees of the patent on day: the new
// patentees of its transfer with the latest effective date by then (the
// later recorded of two on one day), or, when none had taken effect, the
// patentees it was registered with.
func (p *Patent) PatenteesOn(day Date) []string {
	if t := p.lastTransfer(func(t *PatentTransferred) bool { return !t.EffectiveOn.After(day) }); t != nil {
		return t.ToIDs
	}
	if len(p.Transfers) > 0 {
		return p.Transfers[0].FromIDs
	}
	return p.PatenteeIDs
}

// latestTransfer returns the transfer with the latest effective date (the
// later recorded of two on one day), or nil when there is none.
func (p *Patent) latestTransfer() *PatentTransferred {
	return p.lastTransfer(func(*PatentTransferred) bool { return true })
}

// lastTransfer returns, of the transfers for which keep holds, the one with
// the latest effective date (the later recorded of two on one day), or nil.
func (p *Patent) lastTransfer(keep func(*PatentTransferred) bool) *PatentTransferred {
	var last *PatentTransferred
	for i := range p.Transfers {
		if t := &p.Transfers[i]; keep(t) && (last == nil || !t.EffectiveOn.Before(last.EffectiveOn)) {
			last = t
		}
	}
	return last
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
