package domain

import (
	"slices"
	"strings"
)

// GrantLicense is the command that records a concluded licence: an open
// licence taken under a declaration, or a negotiated one.
type GrantLicense struct {
	Type          LicenseType `json:"type"`
	LicenseeID    string      `json:"licensee_id"`
	EffectiveOn   Date        `json:"effective_on"`
	FeePaidFen    Fen         `json:"fee_paid_fen"`
	DeclarationID string      `json:"declaration_id"`
	EndsOn        Date        `json:"ends_on"`
	// CoOwnerConsent are the co-owners who consent to a sole or exclusive
	// licence of a co-owned patent, besides the acting one (PL 14: a
	// co-owner alone may grant ordinary licences only).
	CoOwnerConsent []string `json:"co_owner_consent"`
}

// Validate checks the command's fields.
func (c GrantLicense) Validate() error {
	var fe FieldErrors
	if _, err := ParseEnum(string(c.Type), LicenseTypes); err != nil {
		fe.Add("type", err)
	}
	if strings.TrimSpace(c.LicenseeID) == "" {
		fe.Addf("licensee_id", "is required")
	}
	requireDate(&fe, "effective_on", c.EffectiveOn)
	fe.Add("fee_paid_fen", CheckFen(c.FeePaidFen))
	fe.Add("co_owner_consent", checkIDList("co_owner_consent", c.CoOwnerConsent, false))
	if len(c.CoOwnerConsent) > 0 && c.Type != LicenseSole && c.Type != LicenseExclusive {
		fe.Addf("co_owner_consent", "only a sole or exclusive licence needs the co-owners' consent; leave it out")
	}
	switch c.Type {
	case LicenseOpen:
		if c.DeclarationID == "" {
			fe.Addf("declaration_id", "is required for an open licence")
		}
		if !c.EndsOn.IsZero() {
			fe.Addf("ends_on", "an open licence ends with its declaration's term; leave ends_on out")
		}
	case LicenseOrdinary, LicenseSole, LicenseExclusive:
		if c.DeclarationID != "" {
			fe.Addf("declaration_id", "only an open licence is taken under a declaration")
		}
		requireDate(&fe, "ends_on", c.EndsOn)
		if !c.EndsOn.IsZero() && c.EndsOn.Before(c.EffectiveOn) {
			fe.Addf("ends_on", "is before effective_on %s", c.EffectiveOn)
		}
	}
	return fe.Err()
}

// checkActor checks who issues the command: the licensee for an open
// licence, a patentee for a negotiated one.
func (c GrantLicense) checkActor(p *Patent, actor Actor) error {
	if c.Type == LicenseOpen {
		if actor.is(c.LicenseeID) {
			return nil
		}
		return Forbidden("only the licensee may take an open licence")
	}
	return requirePatenteeOn(p, actor, "effective_on", c.EffectiveOn)
}

// GrantLicense decides a licence, enforcing the licence rules of DOMAIN.md
// in the order the table lists them.
func (p *Patent) GrantLicense(d decision, c GrantLicense) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.checkActor(p, d.actor); err != nil {
		return nil, err
	}
	if c.Type == LicenseOpen {
		// An open licence is obtained on notice and payment (PL 51(1)): a
		// day already come. Dated later, it would also hold off every
		// withdrawal until then.
		if err := d.notInFuture("effective_on", c.EffectiveOn); err != nil {
			return nil, err
		}
	}
	ends := c.EndsOn
	if c.Type == LicenseOpen {
		decl, err := p.checkOpenTerms(c)
		if err != nil {
			return nil, err
		}
		ends = decl.TermEndsOn
	}
	licensors := p.PatenteesOn(c.EffectiveOn)
	if err := checkConsentList(licensors, c.CoOwnerConsent); err != nil {
		return nil, err
	}
	if err := p.checkLicenseRules(c, ends); err != nil {
		return nil, err
	}
	if c.Type == LicenseSole || c.Type == LicenseExclusive {
		if err := checkConsent(licensors, c.CoOwnerConsent, d.actor); err != nil {
			return nil, err
		}
	}
	return []Event{LicenseGranted{Number: p.Number, LicenseID: d.routedID(prefixLicense, p.Number),
		Type: c.Type, LicensorIDs: slices.Clone(licensors), LicenseeID: c.LicenseeID, EffectiveOn: c.EffectiveOn,
		EndsOn: ends, FeePaidFen: c.FeePaidFen, DeclarationID: c.DeclarationID, CoOwnerConsent: c.CoOwnerConsent}}, nil
}

// checkOpenTerms applies the rules of PL 51(1) to an open licence: the
// declaration is this patent's, in effect that day, and the first payment
// is the declared standard. A declaration ID that names no declaration of
// this patent is not_found (CONTRACT.md), unless it is the ID of another
// patent's declaration, which breaks the rule (DOMAIN.md).
func (p *Patent) checkOpenTerms(c GrantLicense) (*Declaration, error) {
	decl := p.Declaration(c.DeclarationID)
	if decl == nil && !namesAnotherPatent(prefixDeclaration, c.DeclarationID, p.Number) {
		return nil, NotFound("declaration_id", "patent %s has no declaration %s", p.Number, Quote(c.DeclarationID))
	}
	if decl == nil {
		return nil, Violation(RuleDeclarationNotInEffect, "declaration %s is not a declaration of %s", Quote(c.DeclarationID), p.Number)
	}
	if !decl.InEffectOn(c.EffectiveOn) {
		return nil, Violation(RuleDeclarationNotInEffect, "declaration %s is not in effect on %s", decl.DeclarationID, c.EffectiveOn)
	}
	if want := decl.Fee.FirstPayment(); c.FeePaidFen != want {
		return nil, Violation(RuleFeeMismatch, "the declared first payment is %d fen, not %d", want, c.FeePaidFen)
	}
	return decl, nil
}

func (p *Patent) checkLicenseRules(c GrantLicense, ends Date) error {
	if p.IsPatentee(c.LicenseeID) || slices.Contains(p.PatenteesOn(c.EffectiveOn), c.LicenseeID) {
		return Violation(RuleSelfLicense, "%s is a patentee of %s, today or on %s", c.LicenseeID, p.Number, c.EffectiveOn)
	}
	if c.Type == LicenseOpen && p.Declaration(c.DeclarationID).openLicensees[c.LicenseeID] {
		return Violation(RuleDuplicateLicense, "%s already holds an open licence under %s", c.LicenseeID, c.DeclarationID)
	}
	if c.Type == LicenseSole || c.Type == LicenseExclusive {
		if decl := p.declarationOverlapping(c.EffectiveOn, ends); decl != nil {
			return Violation(RuleOpenLicenseActive, "declaration %s is in effect; %s licence is not possible (PL 51(3))", decl.DeclarationID, c.Type.withArticle())
		}
		if l := p.licenseOverlapping(c.EffectiveOn, ends, LicenseOpen); l != nil {
			return Violation(RuleOpenLicenseActive, "open licence %s, taken under declaration %s, is in force from %s to %s and stays valid after a withdrawal (PL 50(2)); %s licence is not possible",
				l.LicenseID, l.DeclarationID, l.EffectiveOn, l.EndsOn, c.Type.withArticle())
		}
	}
	if l := p.exclusiveLicenseOverlapping(c.EffectiveOn, ends); l != nil {
		return Violation(RuleExclusiveLicenseInForce, "%s licence %s is in force from %s to %s", l.Type, l.LicenseID, l.EffectiveOn, l.EndsOn)
	}
	if c.Type == LicenseSole || c.Type == LicenseExclusive {
		if l := p.licenseOverlapping(c.EffectiveOn, ends, LicenseOrdinary); l != nil {
			return Violation(RuleExclusiveLicenseInForce, "ordinary licence %s is in force from %s to %s; %s licence would exclude its licensee",
				l.LicenseID, l.EffectiveOn, l.EndsOn, c.Type.withArticle())
		}
	}
	if pl := p.PledgeWithoutConsentOn(c.EffectiveOn); pl != nil {
		return Violation(RulePledgedWithoutConsent, "pledge %s is active and its pledgee has not consented", pl.PledgeID)
	}
	if s := p.StatusOn(c.EffectiveOn); s != StatusActive {
		return Violation(RulePatentNotActive, "patent %s is %s on %s", p.Number, statusWord(s), c.EffectiveOn)
	}
	if ends.After(p.ExpiresOn) {
		return Violation(RuleTermExceedsPatent, "the licence ends on %s, after the patent expires on %s (CC 865)", ends, p.ExpiresOn)
	}
	return nil
}

// exclusiveLicenseOverlapping returns a sole or exclusive licence in force
// on some day of [from, to], or nil.
func (p *Patent) exclusiveLicenseOverlapping(from, to Date) *License {
	return p.licenseOverlapping(from, to, LicenseSole, LicenseExclusive)
}

// licenseOverlapping returns a licence of one of types in force on some day
// of [from, to], or nil.
func (p *Patent) licenseOverlapping(from, to Date, types ...LicenseType) *License {
	for _, l := range p.Licenses {
		if slices.Contains(types, l.Type) && !l.EndsOn.Before(from) && !to.Before(l.EffectiveOn) {
			return l
		}
	}
	return nil
}

// RecordLicense is the command that records a licence's recordal (备案)
// with CNIPA.
type RecordLicense struct {
	LicenseID  string `json:"-"`
	RecordNo   string `json:"record_no"`
	RecordedOn Date   `json:"recorded_on"`
}

// Validate checks the command's fields.
func (c RecordLicense) Validate() error {
	var fe FieldErrors
	fe.Add("record_no", checkLine(c.RecordNo, true, 64))
	requireDate(&fe, "recorded_on", c.RecordedOn)
	return fe.Err()
}

// recordalDeadlineMonths is the recordal period of IR 87.
const recordalDeadlineMonths = 3

// RecordalDeadline returns the last day a licence effective on effectiveOn
// can be recorded in time. A period of months ends on the corresponding day
// of its last month, or on that month's last day when it has no such day
// (IR 5): 2024-01-15 gives 2024-04-15, 2024-11-30 gives 2025-02-28.
func RecordalDeadline(effectiveOn Date) Date {
	return effectiveOn.AddMonths(recordalDeadlineMonths)
}

// partyLicense finds a licence and checks that the actor is one of its parties.
func (p *Patent) partyLicense(actor Actor, id string) (*License, error) {
	l := p.License(id)
	if l == nil {
		return nil, NotFound("license_id", "no licence %s", Quote(id))
	}
	if actor.is(l.LicenseeID) || actor.isAny(l.LicensorIDs) || actor.isAny(p.PatenteeIDs) {
		return l, nil
	}
	return nil, Forbidden("only a party to licence %s may do this", id)
}

// RecordLicense decides a recordal. A recordal later than three months
// after the licence's effective date is accepted with a warning.
func (p *Patent) RecordLicense(d decision, c RecordLicense) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	l, err := p.partyLicense(d.actor, c.LicenseID)
	if err != nil {
		return nil, err
	}
	if err := d.notInFuture("recorded_on", c.RecordedOn); err != nil {
		return nil, err
	}
	if l.RecordNo != "" {
		return nil, Violation(RuleLicenseAlreadyRecorded, "licence %s was recorded as %s on %s", l.LicenseID, l.RecordNo, l.RecordedOn)
	}
	if c.RecordedOn.Before(l.EffectiveOn) {
		return nil, Violation(RuleDateBeforeFact, "recorded_on %s is before the licence takes effect on %s", c.RecordedOn, l.EffectiveOn)
	}
	return []Event{LicenseRecorded{Number: p.Number, LicenseID: l.LicenseID, RecordNo: strings.TrimSpace(c.RecordNo),
		RecordedOn: c.RecordedOn, DueBy: RecordalDeadline(l.EffectiveOn)}}, nil
}

// PayRoyalty is the command that records a royalty payment under a licence.
type PayRoyalty struct {
	LicenseID string `json:"-"`
	PaidOn    Date   `json:"paid_on"`
	AmountFen Fen    `json:"amount_fen"`
	Period    string `json:"period"`
}

// Validate checks the command's fields.
func (c PayRoyalty) Validate() error {
	var fe FieldErrors
	requireDate(&fe, "paid_on", c.PaidOn)
	if c.AmountFen <= 0 {
		fe.Addf("amount_fen", "must be positive")
	} else {
		fe.Add("amount_fen", CheckFen(c.AmountFen))
	}
	fe.Add("period", checkLine(c.Period, false, 64))
	return fe.Err()
}

// PayRoyalty decides a royalty payment by either party of the licence.
func (p *Patent) PayRoyalty(d decision, c PayRoyalty) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	l, err := p.partyLicense(d.actor, c.LicenseID)
	if err != nil {
		return nil, err
	}
	if err := d.notInFuture("paid_on", c.PaidOn); err != nil {
		return nil, err
	}
	if c.PaidOn.Before(l.EffectiveOn) {
		return nil, Violation(RuleDateBeforeFact, "paid_on %s is before the licence takes effect on %s", c.PaidOn, l.EffectiveOn)
	}
	if err := p.checkOpenLicensePayment(l, c.AmountFen); err != nil {
		return nil, err
	}
	return []Event{RoyaltyPaid{Number: p.Number, LicenseID: l.LicenseID, PaidOn: c.PaidOn,
		AmountFen: c.AmountFen, Period: strings.TrimSpace(c.Period)}}, nil
}

// checkOpenLicensePayment refuses a payment under an open licence that the
// declared terms do not call for (fee_mismatch: an open licence is taken
// on the declaration's equal terms, PL 51(1)): under terms without a
// royalty (free, a lump sum, instalments) the payments may not come to
// more than the declared fee, so a free or lump-sum licence, paid in full
// on taking, takes none, and an instalment licence takes the rest of its
// instalments. Royalty terms take any payment, as negotiated licences do.
func (p *Patent) checkOpenLicensePayment(l *License, amount Fen) error {
	if l.Type != LicenseOpen {
		return nil
	}
	decl := p.Declaration(l.DeclarationID)
	if decl == nil || decl.Fee.RoyaltyBP > 0 {
		return nil
	}
	declared, paid := decl.Fee.FixedTotal(), l.FeePaidFen+l.RoyaltiesFen
	if paid+amount <= declared {
		return nil
	}
	return Violation(RuleFeeMismatch, "open licence %s was taken under declaration %s, whose terms (%s) come to %d fen in all; "+
		"%d fen has been paid, so %d fen more would pay beyond the declared terms", l.LicenseID, decl.DeclarationID,
		decl.Fee.Mode, declared, paid, amount)
}
