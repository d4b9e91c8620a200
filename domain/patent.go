package domain

import (
	"slices"
	"sort"
)

// PatentStream returns the stream name of a patent.
func PatentStream(n PatentNumber) string { return "patent-" + string(n) }

// Patent is the patent aggregate: the consistency boundary of every legal
// rule (DOMAIN.md). Its state is rebuilt by applying the patent's events.
type Patent struct {
	Number      PatentNumber
	Kind        PatentKind
	Title       string
	Abstract    string
	PatenteeIDs []string
	IPC         []IPCCode
	Locarno     string
	FiledOn     Date
	GrantedOn   Date
	ExpiresOn   Date

	status       timeline[PatentStatus]
	suspended    timeline[bool]
	feeOverdue   timeline[bool]
	Declarations []*Declaration
	Licenses     []*License
	licenseByID  map[string]*License
	Pledges      []*Pledge
	Transfers    []PatentTransferred
	Reviews      map[string]*ReviewRecorded

	aggregateBase
}

// Declaration is an open-licence declaration on a patent.
type Declaration struct {
	DeclarationFiled
	// WithdrawnOn is the withdrawal's effective date, zero while none.
	WithdrawnOn      Date
	WithdrawalReason string
	openLicensees    map[string]bool
}

// InEffectOn reports whether the declaration is in effect on day: on or
// after its declaration date, within its term and before any withdrawal's
// effective date.
func (d *Declaration) InEffectOn(day Date) bool {
	if day.Before(d.DeclaredOn) || day.After(d.TermEndsOn) {
		return false
	}
	return d.WithdrawnOn.IsZero() || day.Before(d.WithdrawnOn)
}

// License is a licence on a patent with its recordal and royalties.
type License struct {
	LicenseGranted
	RecordNo     string
	RecordedOn   Date
	RoyaltiesFen Fen
}

// InForceOn reports whether the licence is in force on day.
func (l *License) InForceOn(day Date) bool {
	return !day.Before(l.EffectiveOn) && !day.After(l.EndsOn)
}

// Pledge is a pledge over a patent (and possibly others).
type Pledge struct {
	PledgeRegistered
	ConsentedOn   Date
	ReleasedOn    Date
	ReleaseReason ReleaseReason
}

// ActiveOn reports whether the pledge exists on day: registered and not yet
// released.
func (p *Pledge) ActiveOn(day Date) bool {
	if day.Before(p.RegisteredOn) {
		return false
	}
	return p.ReleasedOn.IsZero() || day.Before(p.ReleasedOn)
}

// ConsentsOn reports whether the pledgee has consented to licensing by day.
func (p *Pledge) ConsentsOn(day Date) bool {
	if p.OpenLicenseConsent {
		return true
	}
	return !p.ConsentedOn.IsZero() && !day.Before(p.ConsentedOn)
}

// Registered reports whether the patent exists in the ledger.
func (p *Patent) Registered() bool { return p.Number != "" }

// Apply folds one event of the patent's stream into the state.
func (p *Patent) Apply(e Event) {
	switch v := e.(type) {
	case PatentRegistered:
		p.applyRegistered(v)
	case PatentStatusChanged:
		p.status.set(v.EffectiveOn, v.Status)
	case PatentSuspensionChanged:
		p.suspended.set(v.EffectiveOn, v.Suspended)
	case AnnualFeeStatusChanged:
		p.feeOverdue.set(v.EffectiveOn, v.Overdue)
	case DeclarationFiled:
		p.Declarations = append(p.Declarations, &Declaration{DeclarationFiled: v})
	case DeclarationWithdrawn:
		if d := p.Declaration(v.DeclarationID); d != nil {
			d.WithdrawnOn, d.WithdrawalReason = v.EffectiveOn, v.Reason
		}
	case LicenseGranted:
		p.applyLicense(v)
	case LicenseRecorded:
		if l := p.License(v.LicenseID); l != nil {
			l.RecordNo, l.RecordedOn = v.RecordNo, v.RecordedOn
		}
	case RoyaltyPaid:
		if l := p.License(v.LicenseID); l != nil {
			l.RoyaltiesFen += v.AmountFen
		}
	case PatentTransferred:
		p.Transfers = append(p.Transfers, v)
		p.PatenteeIDs = slices.Clone(v.ToIDs)
	default:
		p.applyPledgeOrReview(e)
	}
}

func (p *Patent) applyPledgeOrReview(e Event) {
	switch v := e.(type) {
	case PledgeRegistered:
		p.Pledges = append(p.Pledges, &Pledge{PledgeRegistered: v})
	case PledgeConsented:
		if pl := p.Pledge(v.PledgeID); pl != nil {
			pl.ConsentedOn = v.ConsentedOn
		}
	case PledgeReleased:
		if pl := p.Pledge(v.PledgeID); pl != nil {
			pl.ReleasedOn, pl.ReleaseReason = v.ReleasedOn, v.Reason
		}
	case ReviewRecorded:
		p.setReview(v)
	case ReviewCorrected:
		p.setReview(ReviewRecorded(v))
	}
}

func (p *Patent) applyRegistered(v PatentRegistered) {
	p.Number, p.Kind, p.Title, p.Abstract = v.Number, v.Kind, v.Title, v.Abstract
	p.PatenteeIDs, p.IPC, p.Locarno = slices.Clone(v.PatenteeIDs), slices.Clone(v.IPC), v.Locarno
	p.FiledOn, p.GrantedOn, p.ExpiresOn = v.FiledOn, v.GrantedOn, v.ExpiresOn
	p.status.set(v.GrantedOn, StatusActive)
}

func (p *Patent) applyLicense(v LicenseGranted) {
	l := &License{LicenseGranted: v}
	p.Licenses = append(p.Licenses, l)
	if p.licenseByID == nil {
		p.licenseByID = map[string]*License{}
	}
	p.licenseByID[v.LicenseID] = l
	if v.Type != LicenseOpen {
		return
	}
	if d := p.Declaration(v.DeclarationID); d != nil {
		if d.openLicensees == nil {
			d.openLicensees = map[string]bool{}
		}
		d.openLicensees[v.LicenseeID] = true
	}
}

func (p *Patent) setReview(v ReviewRecorded) {
	if p.Reviews == nil {
		p.Reviews = map[string]*ReviewRecorded{}
	}
	p.Reviews[v.Campaign] = &v
}

// Declaration returns the declaration with the given ID, or nil.
func (p *Patent) Declaration(id string) *Declaration {
	for _, d := range p.Declarations {
		if d.DeclarationID == id {
			return d
		}
	}
	return nil
}

// DeclarationInEffect returns the declaration in effect on day, or nil.
func (p *Patent) DeclarationInEffect(day Date) *Declaration {
	for _, d := range p.Declarations {
		if d.InEffectOn(day) {
			return d
		}
	}
	return nil
}

// License returns the licence with the given ID, or nil.
func (p *Patent) License(id string) *License { return p.licenseByID[id] }

// Pledge returns the pledge with the given ID, or nil.
func (p *Patent) Pledge(id string) *Pledge {
	for _, pl := range p.Pledges {
		if pl.PledgeID == id {
			return pl
		}
	}
	return nil
}

// StatusOn returns the patent's status on day: the last recorded status
// effective by then, or expired after the expiry date. Before the grant
// date there is no status ("").
func (p *Patent) StatusOn(day Date) PatentStatus {
	if day.Before(p.GrantedOn) {
		return ""
	}
	if day.After(p.ExpiresOn) {
		return StatusExpired
	}
	s, _ := p.status.on(day)
	return s
}

// SuspendedOn reports whether a suspension is in force on day.
func (p *Patent) SuspendedOn(day Date) bool { s, _ := p.suspended.on(day); return s }

// AnnualFeeOverdueOn reports whether an annual fee is overdue on day.
func (p *Patent) AnnualFeeOverdueOn(day Date) bool { s, _ := p.feeOverdue.on(day); return s }

// ExclusiveLicenseOn returns a sole or exclusive licence in force on day,
// or nil.
func (p *Patent) ExclusiveLicenseOn(day Date) *License {
	for _, l := range p.Licenses {
		if (l.Type == LicenseSole || l.Type == LicenseExclusive) && l.InForceOn(day) {
			return l
		}
	}
	return nil
}

// PledgeWithoutConsentOn returns an active pledge on day whose pledgee has
// not consented to licensing, or nil.
func (p *Patent) PledgeWithoutConsentOn(day Date) *Pledge {
	for _, pl := range p.Pledges {
		if pl.ActiveOn(day) && !pl.ConsentsOn(day) {
			return pl
		}
	}
	return nil
}

// ActivePledgeOn returns a pledge active on day, or nil.
func (p *Patent) ActivePledgeOn(day Date) *Pledge {
	for _, pl := range p.Pledges {
		if pl.ActiveOn(day) {
			return pl
		}
	}
	return nil
}

// IsPatentee reports whether org is a current patentee.
func (p *Patent) IsPatentee(org string) bool { return slices.Contains(p.PatenteeIDs, org) }

// timeline is a value that changes on effective dates; the latest change
// effective on or before a day wins, and among changes effective on the
// same day the one recorded last wins.
type timeline[T any] struct {
	changes []dated[T]
}

type dated[T any] struct {
	On    Date
	Value T
}

func (t *timeline[T]) set(on Date, v T) {
	i := sort.Search(len(t.changes), func(i int) bool { return t.changes[i].On.After(on) })
	t.changes = slices.Insert(t.changes, i, dated[T]{On: on, Value: v})
}

func (t *timeline[T]) on(day Date) (T, bool) {
	i := sort.Search(len(t.changes), func(i int) bool { return t.changes[i].On.After(day) })
	if i == 0 {
		var zero T
		return zero, false
	}
	return t.changes[i-1].Value, true
}
