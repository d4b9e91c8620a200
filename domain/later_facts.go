package domain

// A fact dated in the past is checked against the facts already recorded
// with later dates, as well as against those before it: the same facts
// must be accepted or refused whatever order they reach the ledger in.

// datedFact is a recorded fact of a patent, named for a message, and its
// date.
type datedFact struct {
	what string
	on   Date
}

// actOfPatenteesAfter returns the latest act that the patent's current
// patentees did as its patentees dated after day — a declaration, a
// withdrawal, a negotiated licence, a pledge — and false when there is
// none: a transfer dated day would make them acts of former patentees.
// Open licences are left out: a declaration binds the new patentees too.
func (p *Patent) actOfPatenteesAfter(day Date) (datedFact, bool) {
	var last datedFact
	note := func(what string, on Date) {
		if on.After(day) && on.After(last.on) {
			last = datedFact{what: what, on: on}
		}
	}
	for _, d := range p.Declarations {
		note("declaration "+d.DeclarationID, d.DeclaredOn)
		note("the withdrawal of declaration "+d.DeclarationID, d.WithdrawnOn)
	}
	for _, l := range p.Licenses {
		if l.Type != LicenseOpen {
			note(string(l.Type)+" licence "+l.LicenseID, l.EffectiveOn)
		}
	}
	for _, pl := range p.Pledges {
		note("pledge "+pl.PledgeID, pl.RegisteredOn)
	}
	return last, !last.on.IsZero()
}

// factNeedingConsentFrom returns the earliest fact dated on or after day
// that needs a pledgee's consent while a pledge exists — a licence of any
// type, a declaration, a transfer after day (one on day is what made the
// pledgor a patentee) — and false when there is none: a pledge registered
// on day without consent would make it break the rule
// pledged_without_consent.
func (p *Patent) factNeedingConsentFrom(day Date) (datedFact, bool) {
	var first datedFact
	note := func(what string, on Date) {
		if !on.Before(day) && (first.on.IsZero() || on.Before(first.on)) {
			first = datedFact{what: what, on: on}
		}
	}
	for _, l := range p.Licenses {
		note(string(l.Type)+" licence "+l.LicenseID, l.EffectiveOn)
	}
	for _, d := range p.Declarations {
		note("declaration "+d.DeclarationID, d.DeclaredOn)
	}
	for _, t := range p.Transfers {
		if t.EffectiveOn.After(day) {
			note("transfer "+t.TransferID, t.EffectiveOn)
		}
	}
	return first, !first.on.IsZero()
}
