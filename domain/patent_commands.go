package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// RegisterPatent is the command that brings a granted patent into the
// ledger.
type RegisterPatent struct {
	Number      string   `json:"number"`
	Title       string   `json:"title"`
	Abstract    string   `json:"abstract"`
	PatenteeIDs []string `json:"patentee_ids"`
	IPC         []string `json:"ipc"`
	Locarno     string   `json:"locarno"`
	FiledOn     Date     `json:"filed_on"`
	GrantedOn   Date     `json:"granted_on"`
}

// maxAbstractRunes bounds abstracts and other long free text.
const maxAbstractRunes = 5000

// locarnoPattern is a Locarno class and subclass, e.g. "14-03": classes
// 01–32, and 99 (miscellaneous).
var locarnoPattern = regexp.MustCompile(`^(0[1-9]|[12]\d|3[0-2]|99)-\d{2}$`)

// Parse validates the command and returns the registration event it
// describes. Every offending field is named in one invalid_argument error.
func (c RegisterPatent) Parse() (PatentRegistered, error) {
	var fe FieldErrors
	number, err := ParsePatentNumber(c.Number)
	fe.Add("number", err)
	fe.Add("title", checkLine(c.Title, true, maxNameRunes))
	fe.Add("abstract", checkText(c.Abstract, false, maxAbstractRunes))
	fe.Add("patentee_ids", checkIDList("patentee_ids", c.PatenteeIDs, true))
	ipc := parseIPCList(&fe, c.IPC)
	requireDate(&fe, "filed_on", c.FiledOn)
	requireDate(&fe, "granted_on", c.GrantedOn)
	if !c.FiledOn.IsZero() && !c.GrantedOn.IsZero() && c.GrantedOn.Before(c.FiledOn) {
		fe.Addf("granted_on", "is before filed_on %s", c.FiledOn)
	}
	if err == nil && !c.FiledOn.IsZero() && fmt.Sprint(c.FiledOn.Year()) != number.Digits()[:4] {
		fe.Addf("filed_on", "year %d does not match the application year %s in the patent number", c.FiledOn.Year(), number.Digits()[:4])
	}
	if err == nil {
		checkClassification(&fe, number.Kind(), len(c.IPC), c.Locarno) // a malformed code is named (parseIPCList), not taken for none
	}
	if err := fe.Err(); err != nil {
		return PatentRegistered{}, err
	}
	return PatentRegistered{Number: number, Kind: number.Kind(), Title: strings.TrimSpace(c.Title),
		Abstract: strings.TrimSpace(c.Abstract), PatenteeIDs: c.PatenteeIDs, IPC: ipc,
		Locarno: c.Locarno, FiledOn: c.FiledOn, GrantedOn: c.GrantedOn,
		ExpiresOn: ExpiryDate(number.Kind(), c.FiledOn)}, nil
}

func parseIPCList(fe *FieldErrors, raw []string) []IPCCode {
	var codes []IPCCode
	seen := map[IPCCode]bool{}
	for i, s := range raw {
		code, err := ParseIPC(s)
		if err != nil {
			fe.Add(fmt.Sprintf("ipc[%d]", i), err)
			continue
		}
		if seen[code] {
			continue
		}
		seen[code] = true
		codes = append(codes, code)
	}
	return codes
}

func checkClassification(fe *FieldErrors, kind PatentKind, ipcCount int, locarno string) {
	if locarno != "" && !locarnoPattern.MatchString(locarno) {
		fe.Addf("locarno", "must be a Locarno class (01–32 or 99) and subclass like 14-03")
	}
	switch {
	case kind == KindDesign && ipcCount == 0 && locarno == "":
		fe.Addf("ipc", "a design needs an IPC code or a Locarno classification")
	case kind != KindDesign && ipcCount == 0:
		fe.Addf("ipc", "at least one IPC code is required for %s patents", kind)
	case kind != KindDesign && locarno != "":
		fe.Addf("locarno", "only design patents have a Locarno classification")
	}
}

// designTermChange is the filing date from which designs get 15 years
// (2020 amendment of the Patent Law, in force 2021-06-01).
var designTermChange = NewDate(2021, 6, 1)

// ExpiryDate returns the last day of protection of a patent of kind filed
// on filedOn: filing date + term − 1 day, counted as TermEndsOn counts, so
// a utility model filed on 2020-02-29 expires on 2030-02-28.
func ExpiryDate(kind PatentKind, filedOn Date) Date {
	years := 20
	switch kind {
	case KindUtilityModel:
		years = 10
	case KindDesign:
		years = 10
		if !filedOn.Before(designTermChange) {
			years = 15
		}
	}
	return TermEndsOn(filedOn, 12*years)
}

// Register decides the registration of a patent. The acting organisation
// must be one of the patentees.
func (p *Patent) Register(d decision, c RegisterPatent) ([]Event, error) {
	ev, err := c.Parse()
	if err != nil {
		return nil, err
	}
	if !d.actor.isAny(ev.PatenteeIDs) {
		return nil, Forbidden("only a patentee may register a patent")
	}
	if ev.GrantedOn.After(d.today) {
		return nil, Invalid("granted_on", "%s is in the future; register a patent once it is granted", ev.GrantedOn)
	}
	if p.Registered() {
		return nil, Violation(RulePatentAlreadyRegistered, "patent %s is already registered", p.Number)
	}
	return []Event{ev}, nil
}

// ChangeStatus is the command that records register facts about a patent:
// its status, a suspension, an overdue annual fee. Nil fields are left as
// they are; at least one must be given.
type ChangeStatus struct {
	Status           *PatentStatus `json:"status"`
	Suspended        *bool         `json:"suspended"`
	AnnualFeeOverdue *bool         `json:"annual_fee_overdue"`
	EffectiveOn      Date          `json:"effective_on"`
	Reason           string        `json:"reason"`
}

// Validate checks the command's fields.
func (c ChangeStatus) Validate() error {
	var fe FieldErrors
	if c.Status == nil && c.Suspended == nil && c.AnnualFeeOverdue == nil {
		fe.Addf("status", "give at least one of status, suspended, annual_fee_overdue")
	}
	if c.Status != nil {
		if _, err := ParseEnum(string(*c.Status), RecordableStatuses); err != nil {
			fe.Add("status", err)
		}
	}
	fe.Add("reason", checkText(c.Reason, false, maxAbstractRunes))
	return fe.Err()
}

// ChangeStatus decides the status facts of c, effective on c.EffectiveOn
// or, when that is not given, today.
func (p *Patent) ChangeStatus(d decision, c ChangeStatus) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := requirePatentee(p, d.actor); err != nil {
		return nil, err
	}
	on := c.EffectiveOn
	if on.IsZero() {
		on = d.today
	}
	if err := d.notInFuture("effective_on", on); err != nil {
		return nil, err
	}
	if on.Before(p.GrantedOn) {
		return nil, Violation(RuleDateBeforeFact, "effective_on %s is before the grant on %s", on, p.GrantedOn)
	}
	var events []Event
	if c.Status != nil {
		events = append(events, PatentStatusChanged{Number: p.Number, Status: *c.Status, EffectiveOn: on, Reason: c.Reason})
	}
	if c.Suspended != nil {
		events = append(events, PatentSuspensionChanged{Number: p.Number, Suspended: *c.Suspended, EffectiveOn: on, Reason: c.Reason})
	}
	if c.AnnualFeeOverdue != nil {
		events = append(events, AnnualFeeStatusChanged{Number: p.Number, Overdue: *c.AnnualFeeOverdue, EffectiveOn: on, Reason: c.Reason})
	}
	if act, ok := p.actRefusedUnder(events); ok {
		return nil, Violation(RuleDateBeforeFact, "effective_on %s would refuse %s on %s, recorded already: %s", on, act.what, act.on, act.why)
	}
	return events, nil
}

// refusedAct is an act of the ledger that a register fact recorded later
// would have refused.
type refusedAct struct {
	what, why string
	on        Date
}

// actRefusedUnder returns an act of the patent that the register facts of
// events (a status, a suspension, an overdue fee), dated before it, would
// have refused had they been recorded first, and that its register allowed:
// the same facts are refused whichever reaches the ledger first (a
// suspension before a transfer dated within it, a lapse before a licence).
func (p *Patent) actRefusedUnder(events []Event) (refusedAct, bool) {
	q := p.withRegisterFacts(events)
	barred := func(r *Patent, on Date, suspension bool) string {
		if s := r.StatusOn(on); s != StatusActive {
			return fmt.Sprintf("the patent would be %s then", statusWord(s))
		}
		if suspension && r.SuspendedOn(on) {
			return "the patent would be suspended then"
		}
		return ""
	}
	newly := func(on Date, suspension bool) string {
		if barred(p, on, suspension) != "" {
			return "" // refused already: not this change's doing
		}
		return barred(q, on, suspension)
	}
	for _, t := range p.Transfers {
		if why := newly(t.EffectiveOn, true); why != "" {
			return refusedAct{what: "transfer " + t.TransferID, on: t.EffectiveOn, why: why}, true
		}
	}
	for _, d := range p.Declarations {
		if p.registerRefusesDeclarationOn(d.DeclaredOn) == nil {
			if err := q.registerRefusesDeclarationOn(d.DeclaredOn); err != nil {
				return refusedAct{what: "declaration " + d.DeclarationID, on: d.DeclaredOn, why: err.Error()}, true
			}
		}
	}
	for _, l := range p.Licenses {
		if why := newly(l.EffectiveOn, false); why != "" {
			return refusedAct{what: "licence " + l.LicenseID, on: l.EffectiveOn, why: why}, true
		}
	}
	for _, pl := range p.Pledges {
		if why := newly(pl.RegisteredOn, true); why != "" {
			return refusedAct{what: "pledge " + pl.PledgeID, on: pl.RegisteredOn, why: why}, true
		}
	}
	return refusedAct{}, false
}

// withRegisterFacts returns a copy of the patent with the register facts
// of events applied, p unchanged: its timelines are copied, the rest shared.
func (p *Patent) withRegisterFacts(events []Event) *Patent {
	q := *p
	q.status.changes = slices.Clone(p.status.changes)
	q.suspended.changes = slices.Clone(p.suspended.changes)
	q.feeOverdue.changes = slices.Clone(p.feeOverdue.changes)
	for _, e := range events {
		q.Apply(e)
	}
	return &q
}
