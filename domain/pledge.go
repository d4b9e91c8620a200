package domain

import (
	"fmt"
	"slices"
	"strings"
)

// RegisterPledge is the command that registers a pledge (专利权质押) of one
// or more patents to a pledgee.
type RegisterPledge struct {
	RegistrationNo     string   `json:"registration_no"`
	PledgorID          string   `json:"pledgor_id"`
	PledgeeID          string   `json:"pledgee_id"`
	Patents            []string `json:"patents"`
	SecuredAmountFen   Fen      `json:"secured_amount_fen"`
	RegisteredOn       Date     `json:"registered_on"`
	DebtDueOn          Date     `json:"debt_due_on"`
	OpenLicenseConsent bool     `json:"open_license_consent"`
	// CoOwnerConsent are the co-owners of the pledged patents who consent
	// to the pledge, besides the pledgor (PL 14).
	CoOwnerConsent []string `json:"co_owner_consent"`
}

// maxPledgePatents bounds how many patents one pledge covers.
const maxPledgePatents = 200

// Parse validates the command and returns its patents, normalised and
// without repeats.
func (c RegisterPledge) Parse() ([]PatentNumber, error) {
	var fe FieldErrors
	fe.Add("registration_no", checkLine(c.RegistrationNo, false, 64))
	if strings.TrimSpace(c.PledgorID) == "" {
		fe.Addf("pledgor_id", "is required")
	}
	if strings.TrimSpace(c.PledgeeID) == "" {
		fe.Addf("pledgee_id", "is required")
	}
	if c.PledgorID != "" && c.PledgorID == c.PledgeeID {
		fe.Addf("pledgee_id", "is the pledgor")
	}
	numbers := parsePatentList(&fe, c.Patents)
	fe.Add("co_owner_consent", checkIDList("co_owner_consent", c.CoOwnerConsent, false))
	if c.SecuredAmountFen <= 0 {
		fe.Addf("secured_amount_fen", "must be positive")
	} else {
		fe.Add("secured_amount_fen", CheckFen(c.SecuredAmountFen))
	}
	requireDate(&fe, "registered_on", c.RegisteredOn)
	requireDate(&fe, "debt_due_on", c.DebtDueOn)
	if !c.DebtDueOn.IsZero() && c.DebtDueOn.Before(c.RegisteredOn) {
		fe.Addf("debt_due_on", "is before registered_on %s", c.RegisteredOn)
	}
	return numbers, fe.Err()
}

func parsePatentList(fe *FieldErrors, raw []string) []PatentNumber {
	if len(raw) == 0 {
		fe.Addf("patents", "at least one patent number is required")
		return nil
	}
	if len(raw) > maxPledgePatents {
		fe.Addf("patents", "at most %d patents per pledge", maxPledgePatents)
		return nil
	}
	var numbers []PatentNumber
	seen := map[PatentNumber]bool{}
	for i, s := range raw {
		n, err := ParsePatentNumber(s)
		if err != nil {
			fe.Add(fmt.Sprintf("patents[%d]", i), err)
			continue
		}
		if seen[n] {
			fe.Addf(fmt.Sprintf("patents[%d]", i), "%s is listed twice", n)
			continue
		}
		seen[n] = true
		numbers = append(numbers, n)
	}
	return numbers
}

// RegisterPledgeOn decides a pledge over every patent in ps (in the order of
// the command's list) and returns the events for each patent's stream, in
// the same order.
func RegisterPledgeOn(d decision, ps []*Patent, c RegisterPledge) ([][]Event, error) {
	numbers, err := c.Parse()
	if err != nil {
		return nil, err
	}
	if !d.actor.is(c.PledgeeID) {
		return nil, Forbidden("only the pledgee may register a pledge")
	}
	if err := d.notInFuture("registered_on", c.RegisteredOn); err != nil {
		return nil, err
	}
	if err := checkPledgeConsentList(ps, c); err != nil {
		return nil, err
	}
	for i, p := range ps {
		if err := p.checkPledgeRules(c, fmt.Sprintf("patents[%d]", i)); err != nil {
			return nil, err
		}
	}
	id := d.routedID(prefixPledge, numbers[0])
	out := make([][]Event, len(ps))
	for i, p := range ps {
		out[i] = []Event{PledgeRegistered{Number: p.Number, PledgeID: id,
			RegistrationNo: strings.TrimSpace(c.RegistrationNo), PledgorID: c.PledgorID, PledgeeID: c.PledgeeID,
			Patents: numbers, SecuredAmountFen: c.SecuredAmountFen, RegisteredOn: c.RegisteredOn,
			DebtDueOn: c.DebtDueOn, OpenLicenseConsent: c.OpenLicenseConsent, CoOwnerConsent: c.CoOwnerConsent}}
	}
	return out, nil
}

// checkPledgeConsentList rejects consent entries that are no patentee of
// any pledged patent on the registration day.
func checkPledgeConsentList(ps []*Patent, c RegisterPledge) error {
	for i, id := range c.CoOwnerConsent {
		if !slices.ContainsFunc(ps, func(p *Patent) bool { return slices.Contains(p.PatenteesOn(c.RegisteredOn), id) }) {
			return Invalid(fmt.Sprintf("co_owner_consent[%d]", i), "%s is not a patentee of a pledged patent", Quote(id))
		}
	}
	return nil
}

// checkPledgeRules checks the rules of a pledge of p, which the command
// names as field; a violation names the field its value breaks.
func (p *Patent) checkPledgeRules(c RegisterPledge, field string) error {
	on := c.RegisteredOn
	// The pledgor must hold the patent on the registration day, not today:
	// a pledge of a former patentee, registered before the transfer and
	// recorded after it, is accepted as it would have been before it.
	if !slices.Contains(p.PatenteesOn(on), c.PledgorID) {
		if since := p.patenteeSince(c.PledgorID); p.IsPatentee(c.PledgorID) && on.Before(since) {
			return Violation(RuleNotPatentee, "pledgor %s became a patentee of %s on %s, after the registration on %s",
				c.PledgorID, p.Number, since, on).at("pledgor_id")
		}
		return Violation(RuleNotPatentee, "pledgor %s is not a patentee of %s on %s", c.PledgorID, p.Number, on).at("pledgor_id")
	}
	if s := p.StatusOn(on); s != StatusActive {
		return Violation(RulePatentNotActive, "patent %s is %s on %s", p.Number, statusWord(s), on).at(field)
	}
	if p.SuspendedOn(on) {
		return Violation(RulePatentNotActive, "patent %s is suspended on %s", p.Number, on).at(field)
	}
	for _, pl := range p.Pledges {
		if pl.ReleasedOn.IsZero() || pl.ReleasedOn.After(on) {
			return Violation(RuleAlreadyPledged, "patent %s is under pledge %s", p.Number, pl.PledgeID).at(field)
		}
	}
	if c.DebtDueOn.After(p.ExpiresOn) {
		return Violation(RuleDebtExceedsPatentTerm, "the debt is due %s, after %s expires on %s", c.DebtDueOn, p.Number, p.ExpiresOn).at("debt_due_on")
	}
	if fact, ok := p.factNeedingConsentFrom(on); ok && !c.OpenLicenseConsent {
		return Violation(RulePledgedWithoutConsent, "%s of %s on %s, after the registration on %s, would need the pledgee's consent, "+
			"which the pledge does not give (open_license_consent)", fact.what, p.Number, fact.on, on).at("open_license_consent")
	}
	return checkConsent(p.PatenteesOn(on), c.CoOwnerConsent, OrgActor(c.PledgorID)) // PL 14: every co-owner agrees to pledge
}

// ConsentPledge is the command by which a pledgee consents to open
// licensing of the pledged patents.
type ConsentPledge struct {
	PledgeID    string `json:"-"`
	ConsentedOn Date   `json:"consented_on"`
}

// ConsentPledgeOn decides a consent over every patent of the pledge.
func ConsentPledgeOn(d decision, ps []*Patent, c ConsentPledge) ([][]Event, error) {
	var fe FieldErrors
	requireDate(&fe, "consented_on", c.ConsentedOn)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if err := d.notInFuture("consented_on", c.ConsentedOn); err != nil {
		return nil, err
	}
	return eachPledge(d, ps, c.PledgeID, func(p *Patent, pl *Pledge) (Event, error) {
		if !pl.ReleasedOn.IsZero() && !c.ConsentedOn.Before(pl.ReleasedOn) { // a consent recorded late, of a day before the release, stands
			return nil, Violation(RulePledgeReleased, "pledge %s was released on %s, not after consented_on %s", pl.PledgeID, pl.ReleasedOn, c.ConsentedOn).at("consented_on")
		}
		if pl.OpenLicenseConsent || !pl.ConsentedOn.IsZero() {
			return nil, Violation(RulePledgeAlreadyConsented, "the pledgee of %s has already consented", pl.PledgeID)
		}
		if c.ConsentedOn.Before(pl.RegisteredOn) {
			return nil, Violation(RuleDateBeforeFact, "consented_on %s is before the registration on %s", c.ConsentedOn, pl.RegisteredOn).at("consented_on")
		}
		return PledgeConsented{Number: p.Number, PledgeID: pl.PledgeID, ConsentedOn: c.ConsentedOn}, nil
	})
}

// ReleasePledge is the command that releases (注销) a pledge.
type ReleasePledge struct {
	PledgeID   string        `json:"-"`
	ReleasedOn Date          `json:"released_on"`
	Reason     ReleaseReason `json:"reason"`
}

// ReleasePledgeOn decides a release over every patent of the pledge.
func ReleasePledgeOn(d decision, ps []*Patent, c ReleasePledge) ([][]Event, error) {
	var fe FieldErrors
	requireDate(&fe, "released_on", c.ReleasedOn)
	if _, err := ParseEnum(string(c.Reason), ReleaseReasons); err != nil {
		fe.Add("reason", err)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if err := d.notInFuture("released_on", c.ReleasedOn); err != nil {
		return nil, err
	}
	return eachPledge(d, ps, c.PledgeID, func(p *Patent, pl *Pledge) (Event, error) {
		if !pl.ReleasedOn.IsZero() {
			return nil, Violation(RulePledgeReleased, "pledge %s was released on %s", pl.PledgeID, pl.ReleasedOn)
		}
		if c.ReleasedOn.Before(pl.RegisteredOn) {
			return nil, Violation(RuleDateBeforeFact, "released_on %s is before the registration on %s", c.ReleasedOn, pl.RegisteredOn).at("released_on")
		}
		if !pl.ConsentedOn.IsZero() && !c.ReleasedOn.After(pl.ConsentedOn) { // the consent was given while the pledge existed
			return nil, Violation(RuleDateBeforeFact, "released_on %s is not after the pledgee's consent on %s", c.ReleasedOn, pl.ConsentedOn).at("released_on")
		}
		return PledgeReleased{Number: p.Number, PledgeID: pl.PledgeID, ReleasedOn: c.ReleasedOn, Reason: c.Reason}, nil
	})
}

// eachPledge finds the pledge on every patent, checks that the actor is its
// pledgee and decides one event per patent with decide.
func eachPledge(d decision, ps []*Patent, id string, decide func(*Patent, *Pledge) (Event, error)) ([][]Event, error) {
	out := make([][]Event, len(ps))
	for i, p := range ps {
		pl := p.Pledge(id)
		if pl == nil {
			return nil, NotFound("pledge_id", "no pledge %s", Quote(id))
		}
		if !d.actor.is(pl.PledgeeID) {
			return nil, Forbidden("only the pledgee may do this")
		}
		e, err := decide(p, pl)
		if err != nil {
			return nil, err
		}
		out[i] = []Event{e}
	}
	return out, nil
}

// PledgePatents returns the patents of a pledge as the first patent's
// stream records them.
func (p *Patent) PledgePatents(id string) ([]PatentNumber, error) {
	pl := p.Pledge(id)
	if pl == nil {
		return nil, NotFound("pledge_id", "no pledge %s", Quote(id))
	}
	return pl.Patents, nil
}
