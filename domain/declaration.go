package domain

import (
	"errors"
	"slices"
	"strings"
)

// FileDeclaration is the command that declares a patent open for licensing
// (开放许可声明, PL 50, IR 85).
type FileDeclaration struct {
	Fee                 FeeTerms `json:"fee"`
	TermMonths          int      `json:"term_months"`
	DeclaredOn          Date     `json:"declared_on"`
	EvaluationReportRef string   `json:"evaluation_report_ref"`
	CoOwnerConsent      []string `json:"co_owner_consent"`
	OtherTerms          string   `json:"other_terms"`
}

// maxTermMonths bounds a licence term: no patent lasts longer than 20 years.
const maxTermMonths = 240

// Validate checks the command's fields. Fee terms that break the mode's
// requirements are a rule violation (invalid_fee_terms), checked by the
// decision, not here; an unknown fee mode is invalid input.
func (c FileDeclaration) Validate() error {
	var fe FieldErrors
	if _, err := ParseFeeMode(string(c.Fee.Mode)); err != nil {
		fe.Add("fee.mode", err)
	}
	switch {
	case c.TermMonths == 0: // absent, 0, a blank cell of an import, or a form's empty field
		fe.Addf("term_months", "is missing or 0: want the licence term in months, 1 to %d", maxTermMonths)
	case c.TermMonths < 1 || c.TermMonths > maxTermMonths:
		fe.Addf("term_months", "must be between 1 and %d", maxTermMonths)
	}
	requireDate(&fe, "declared_on", c.DeclaredOn)
	fe.Add("evaluation_report_ref", checkLine(c.EvaluationReportRef, false, 100))
	fe.Add("co_owner_consent", checkIDList("co_owner_consent", c.CoOwnerConsent, false))
	fe.Add("other_terms", checkText(c.OtherTerms, false, maxAbstractRunes))
	return fe.Err()
}

// TermEndsOn returns the last day of a term of months whose first day is
// start: the day before the same day of the month months later or, when
// that month has no such day, its last day (CC 202), so that no term loses
// a day to a short month: 2024-03-01 and 1 month end on 2024-03-31,
// 2024-03-31 and 1 month on 2024-04-30, 2024-02-29 and 12 months on
// 2025-02-28.
func TermEndsOn(start Date, months int) Date {
	anniversary := start.AddMonths(months)
	if anniversary.Day() < start.Day() {
		return anniversary
	}
	return anniversary.AddDays(-1)
}

// Declare decides an open-licence declaration, enforcing every declaration
// rule of DOMAIN.md in the order the table lists them.
func (p *Patent) Declare(d decision, c FileDeclaration) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := requirePatenteeOn(p, d.actor, "declared_on", c.DeclaredOn); err != nil {
		return nil, err
	}
	patentees := p.PatenteesOn(c.DeclaredOn) // the admin may record a declaration dated before a transfer
	if err := checkConsentList(patentees, c.CoOwnerConsent); err != nil {
		return nil, err
	}
	ends := TermEndsOn(c.DeclaredOn, c.TermMonths)
	if err := p.checkDeclarationRules(d, c, patentees, ends); err != nil {
		return nil, err
	}
	ev := DeclarationFiled{Number: p.Number, DeclarationID: d.routedID(prefixDeclaration, p.Number),
		Fee: c.Fee, TermMonths: c.TermMonths, DeclaredOn: c.DeclaredOn, TermEndsOn: ends,
		EvaluationReportRef: strings.TrimSpace(c.EvaluationReportRef), CoOwnerConsent: c.CoOwnerConsent,
		OtherTerms: c.OtherTerms, PatenteeIDs: slices.Clone(patentees)}
	return []Event{ev}, nil
}

// RegisterRefusesDeclarationOn returns the rule by which the register
// facts of day (the patent's status, an overdue annual fee, a suspension)
// refuse a declaration dated that day, checked in the order Declare checks
// them; "" when they refuse none (the terms of a declaration may still).
func (p *Patent) RegisterRefusesDeclarationOn(day Date) Rule {
	var e *Error
	if errors.As(p.registerRefusesDeclarationOn(day), &e) {
		return e.Rule
	}
	return ""
}

// registerRefusesDeclarationOn is the violation RegisterRefusesDeclarationOn names.
func (p *Patent) registerRefusesDeclarationOn(on Date) error {
	if s := p.StatusOn(on); s != StatusActive {
		return Violation(RulePatentNotActive, "patent %s is %s on %s", p.Number, statusWord(s), on)
	}
	if p.AnnualFeeOverdueOn(on) {
		return Violation(RuleAnnualFeeUnpaid, "an annual fee of %s is overdue on %s", p.Number, on)
	}
	if p.SuspendedOn(on) {
		return Violation(RulePatentSuspended, "patent %s is suspended on %s", p.Number, on)
	}
	return nil
}

// checkDeclarationRules checks the rules of DOMAIN.md's declaration table
// for a declaration by patentees, the patentees of its day, whose term ends
// on ends.
func (p *Patent) checkDeclarationRules(d decision, c FileDeclaration, patentees []string, ends Date) error {
	on := c.DeclaredOn
	if err := p.registerRefusesDeclarationOn(on); err != nil {
		return err
	}
	if l := p.exclusiveLicenseOverlapping(on, ends); l != nil {
		return Violation(RuleExclusiveLicenseInForce, "%s licence %s is in force from %s to %s, within the declared term %s to %s",
			l.Type, l.LicenseID, l.EffectiveOn, l.EndsOn, on, ends)
	}
	if pl := p.PledgeWithoutConsentOn(on); pl != nil {
		return Violation(RulePledgedWithoutConsent, "pledge %s is active and its pledgee has not consented", pl.PledgeID)
	}
	if p.Kind != KindInvention && strings.TrimSpace(c.EvaluationReportRef) == "" {
		return Violation(RuleEvaluationReportRequired, "a %s needs a patent evaluation report reference (PL 50)", p.Kind)
	}
	if err := checkConsent(patentees, c.CoOwnerConsent, d.actor); err != nil {
		return err
	}
	if other := p.declarationOverlapping(on, ends); other != nil {
		return Violation(RuleDeclarationAlreadyActive, "declaration %s is in effect from %s", other.DeclarationID, other.DeclaredOn)
	}
	if ends.After(p.ExpiresOn) {
		return Violation(RuleTermExceedsPatent, "the term ends on %s, after the patent expires on %s", ends, p.ExpiresOn)
	}
	if w := PromotionalWord(c.OtherTerms); w != "" {
		return Violation(RulePromotionalLanguage, "other_terms contains the advertising word %q", w)
	}
	return c.Fee.Validate()
}

// declarationOverlapping returns a declaration whose period in effect
// shares a day with [from, to], or nil.
func (p *Patent) declarationOverlapping(from, to Date) *Declaration {
	for _, d := range p.Declarations {
		last := d.lastDayInEffect()
		if !last.Before(d.DeclaredOn) && !last.Before(from) && !to.Before(d.DeclaredOn) {
			return d
		}
	}
	return nil
}

// lastDayInEffect is the last day the declaration is in effect: the end of
// its term or the day before its withdrawal takes effect.
func (d *Declaration) lastDayInEffect() Date {
	last := d.TermEndsOn
	if !d.WithdrawnOn.IsZero() && d.WithdrawnOn.AddDays(-1).Before(last) {
		last = d.WithdrawnOn.AddDays(-1)
	}
	return last
}

func statusWord(s PatentStatus) string {
	if s == "" {
		return "not yet granted"
	}
	return string(s)
}

// WithdrawDeclaration is the command that withdraws (撤回) a declaration.
type WithdrawDeclaration struct {
	DeclarationID  string   `json:"-"`
	EffectiveOn    Date     `json:"effective_on"`
	Reason         string   `json:"reason"`
	CoOwnerConsent []string `json:"co_owner_consent"`
}

// Validate checks the command's fields.
func (c WithdrawDeclaration) Validate() error {
	var fe FieldErrors
	if strings.TrimSpace(c.DeclarationID) == "" {
		fe.Addf("declaration_id", "is required")
	}
	requireDate(&fe, "effective_on", c.EffectiveOn)
	fe.Add("reason", checkText(c.Reason, true, maxAbstractRunes))
	fe.Add("co_owner_consent", checkIDList("co_owner_consent", c.CoOwnerConsent, false))
	return fe.Err()
}

// Withdraw decides a withdrawal. Licences obtained before its effective
// date stay valid (PL 50(2)), so it may not take effect on or before the
// effective date of an open licence already granted under the declaration
// (withdrawal_before_license).
func (p *Patent) Withdraw(d decision, c WithdrawDeclaration) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	decl := p.Declaration(c.DeclarationID)
	if decl == nil {
		return nil, NotFound("declaration_id", "patent %s has no declaration %s", p.Number, Quote(c.DeclarationID))
	}
	if err := requirePatenteeOn(p, d.actor, "effective_on", c.EffectiveOn); err != nil {
		return nil, err
	}
	patentees := p.PatenteesOn(c.EffectiveOn) // the admin may record a withdrawal dated before a transfer
	if err := checkConsentList(patentees, c.CoOwnerConsent); err != nil {
		return nil, err
	}
	if c.EffectiveOn.Before(decl.DeclaredOn) {
		return nil, Violation(RuleWithdrawalBeforeDecl, "effective_on %s is before the declaration on %s", c.EffectiveOn, decl.DeclaredOn)
	}
	if !decl.WithdrawnOn.IsZero() {
		return nil, Violation(RuleNoActiveDeclaration, "declaration %s was already withdrawn effective %s", decl.DeclarationID, decl.WithdrawnOn)
	}
	if c.EffectiveOn.After(decl.TermEndsOn) {
		return nil, Violation(RuleNoActiveDeclaration, "declaration %s ended with its term on %s", decl.DeclarationID, decl.TermEndsOn)
	}
	if l := p.lastOpenLicense(decl.DeclarationID); l != nil && !c.EffectiveOn.After(l.EffectiveOn) {
		return nil, Violation(RuleWithdrawalBeforeLicense, "effective_on %s is not after open licence %s, which took effect on %s under declaration %s",
			c.EffectiveOn, l.LicenseID, l.EffectiveOn, decl.DeclarationID)
	}
	if err := checkConsent(patentees, c.CoOwnerConsent, d.actor); err != nil {
		return nil, err
	}
	return []Event{DeclarationWithdrawn{Number: p.Number, DeclarationID: decl.DeclarationID,
		EffectiveOn: c.EffectiveOn, Reason: strings.TrimSpace(c.Reason), CoOwnerConsent: c.CoOwnerConsent}}, nil
}

// lastOpenLicense returns the open licence under the declaration with the
// latest effective date, or nil when none was granted.
func (p *Patent) lastOpenLicense(declarationID string) *License {
	var last *License
	for _, l := range p.Licenses {
		if l.Type == LicenseOpen && l.DeclarationID == declarationID && (last == nil || l.EffectiveOn.After(last.EffectiveOn)) {
			last = l
		}
	}
	return last
}
