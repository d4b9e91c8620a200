package domain

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Org returns a copy of the organisation id. It fails with ErrNotFound
// when there is none.
func (s *Service) Org(ctx context.Context, id string) (Org, error) {
	if id == "" {
		return Org{}, NotFound("id", "no organisation with an empty ID")
	}
	entries := s.cache.acquire([]string{OrgStream(id)}, newState)
	err := s.catchUp(ctx, entries)
	org := *entries[0].state.(*Org)
	org.KeyHashes = maps.Clone(org.KeyHashes)
	org.aggregateBase = aggregateBase{version: org.version}
	s.cache.release(entries, err != nil, newState)
	if err != nil {
		return Org{}, err
	}
	if !org.Registered() {
		return Org{}, NotFound("id", "no organisation %s", Quote(id))
	}
	return org, nil
}

// LoadPatent reads a patent's whole stream into a fresh aggregate, for
// readers. It fails with ErrNotFound when the patent is not registered.
func (s *Service) LoadPatent(ctx context.Context, number PatentNumber) (*Patent, error) {
	stream := PatentStream(number)
	p := s.fromSnapshot(ctx, stream, &Patent{}).(*Patent)
	if err := s.loadInto(ctx, stream, p); err != nil {
		return nil, err
	}
	s.maybeSnapshot(ctx, stream, p)
	if !p.Registered() {
		return nil, NotFound("number", "no patent %s", number)
	}
	return p, nil
}

// orgKind returns the kind of a registered organisation. Kinds never
// change, so once known they are remembered and cost no read.
func (s *Service) orgKind(ctx context.Context, id string) (OrgKind, error) {
	if k, ok := s.kinds.Load(id); ok {
		return k.(OrgKind), nil
	}
	org, err := s.Org(ctx, id)
	if err != nil {
		return "", err
	}
	s.kinds.Store(id, org.Kind)
	return org.Kind, nil
}

// checkActor makes sure the actor may write at all: the admin, or a
// registered organisation that is not a regulator.
func (s *Service) checkActor(ctx context.Context, a Actor) error {
	if a.Admin {
		return nil
	}
	kind, err := s.orgKind(ctx, a.OrgID)
	if ErrorCode(err) == CodeNotFound {
		return Forbidden("unknown acting organisation %q", a.OrgID)
	}
	if err != nil {
		return err
	}
	if kind == OrgRegulator {
		return Forbidden("regulators read the ledger and write nothing")
	}
	return nil
}

// checkParties makes sure every organisation named in field exists and, when
// kinds is not empty, is of one of kinds. Regulators are never parties.
func (s *Service) checkParties(ctx context.Context, field string, ids []string, kinds ...OrgKind) error {
	for i, id := range ids {
		name := field
		if strings.HasSuffix(field, "_ids") { // a list field: name the element
			name = fmt.Sprintf("%s[%d]", field, i)
		}
		kind, err := s.orgKind(ctx, id)
		if ErrorCode(err) == CodeNotFound {
			return NotFound(name, "no organisation %s", Quote(id))
		}
		if err != nil {
			return err
		}
		if kind == OrgRegulator {
			return Invalid(name, "%s is a regulator and cannot be a party", id)
		}
		if len(kinds) > 0 && !slices.Contains(kinds, kind) {
			want := make([]string, len(kinds))
			for i, k := range kinds {
				want[i] = string(k)
			}
			return Invalid(name, "%s is of kind %s; want %s", id, kind, strings.Join(want, " or "))
		}
	}
	return nil
}

// RegisterOrg registers an organisation (admin only) and returns its new
// ID in Result.ID.
func (s *Service) RegisterOrg(ctx context.Context, req Request, c RegisterOrg) (Result, error) {
	if !req.Actor.Admin {
		return Result{}, Forbidden("only the admin may register organisations")
	}
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	id := s.newID()
	if req.IdempotencyKey != "" {
		id = hashUUID("org", CommandID(req.Actor.String(), req.IdempotencyKey))
	}
	credit, _ := ParseCreditCode(string(c.CreditCode)) // valid: checked above
	// The code's stream holds the claims of registrations since the rule;
	// the log holds the organisations registered before it, which hold none.
	holder, err := s.orgs.OrgWithCreditCode(ctx, credit)
	if err != nil {
		return Result{}, err
	}
	if holder != "" && holder != id { // the first registration's repeat answers it
		return Result{}, Violation(RuleOrgAlreadyRegistered, "credit code %s is registered to organisation %s", credit, holder)
	}
	return s.execute(ctx, command{req: req, hash: commandHash("register_org", "", c),
		streams: []string{OrgStream(id), CreditCodeStream(credit)},
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			if holder := st[1].(*creditCodeClaim).orgID; holder != "" {
				return nil, Violation(RuleOrgAlreadyRegistered, "credit code %s is registered to organisation %s", credit, holder)
			}
			events, err := st[0].(*Org).Register(id, c)
			if err != nil {
				return nil, err
			}
			return [][]Event{events, {CreditCodeClaimed{CreditCode: credit, OrgID: id}}}, nil
		}})
}

// IssueKey records a new API key for an organisation (admin only). The
// caller generates the secret and passes only its hash; Result.ID is the
// key's ID.
func (s *Service) IssueKey(ctx context.Context, req Request, orgID, keyHash string) (Result, error) {
	if !req.Actor.Admin {
		return Result{}, Forbidden("only the admin may issue keys")
	}
	return s.execute(ctx, command{req: req, hash: commandHash("issue_key", orgID, keyHash),
		streams: []string{OrgStream(orgID)},
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			events, err := st[0].(*Org).IssueKey(d.shortID(), keyHash)
			return [][]Event{events}, err
		}})
}

// RevokeKey records that an organisation's API key no longer authenticates.
// The admin or the organisation itself may revoke it (a regulator too, for
// its own keys: a leaked key must not wait for the admin). It fails with
// ErrForbidden for any other actor and with ErrNotFound when the
// organisation has no such key.
func (s *Service) RevokeKey(ctx context.Context, req Request, orgID, keyID string) (Result, error) {
	if !req.Actor.Admin && req.Actor.OrgID != orgID {
		return Result{}, Forbidden("an organisation may revoke only its own keys")
	}
	return s.execute(ctx, command{req: req, hash: commandHash("revoke_key", orgID, keyID),
		streams: []string{OrgStream(orgID)},
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			events, err := st[0].(*Org).RevokeKey(keyID)
			return [][]Event{events}, err
		}})
}

// patentDecision decides a command on one registered patent.
type patentDecision func(d decision, p *Patent) ([]Event, error)

// onPatent runs a command on the patent number; the patent must exist.
// record is the ID of the declaration, licence or pledge the command acts
// on when its path names one ("" otherwise): fields leave it out, and the
// idempotency hash must tell a write on one licence from the same write on
// another.
func (s *Service) onPatent(ctx context.Context, req Request, kind string, number PatentNumber, record string, fields any, decide patentDecision) (Result, error) {
	return s.execute(ctx, command{req: req, hash: commandHash(kind, hashTarget(string(number), record), fields),
		streams: []string{PatentStream(number)},
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			p := st[0].(*Patent)
			if !p.Registered() && strings.HasPrefix(record, prefixLicense) { // the path names the licence alone
				return nil, NotFound("license_id", "no such %s %s", "license_id", Quote(record))
			}
			if !p.Registered() && kind != "register_patent" {
				return nil, NotFound("number", "no patent %s", number)
			}
			events, err := decide(d, p)
			return [][]Event{events}, err
		}})
}

// RegisterPatent registers a granted patent; Result.ID is its normalised
// number and Result.Warnings name IPC codes missing from the reference list.
func (s *Service) RegisterPatent(ctx context.Context, req Request, c RegisterPatent) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	ev, err := c.Parse()
	if err != nil {
		return Result{}, err
	}
	if err := s.checkParties(ctx, "patentee_ids", ev.PatenteeIDs); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "register_patent", ev.Number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.Register(d, c)
	})
}

// ChangeStatus records register facts (status, suspension, overdue annual
// fee) about a patent.
func (s *Service) ChangeStatus(ctx context.Context, req Request, number PatentNumber, c ChangeStatus) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "change_status", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.ChangeStatus(d, c)
	})
}

// FileDeclaration declares a patent open for licensing; Result.ID is the
// declaration ID.
func (s *Service) FileDeclaration(ctx context.Context, req Request, number PatentNumber, c FileDeclaration) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "file_declaration", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.Declare(d, c)
	})
}

// WithdrawDeclaration withdraws a declaration.
func (s *Service) WithdrawDeclaration(ctx context.Context, req Request, number PatentNumber, c WithdrawDeclaration) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "withdraw_declaration", number, c.DeclarationID, c, func(d decision, p *Patent) ([]Event, error) {
		return p.Withdraw(d, c)
	})
}

// GrantLicense records a licence; Result.ID is the licence ID.
func (s *Service) GrantLicense(ctx context.Context, req Request, number PatentNumber, c GrantLicense) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if err := s.checkParties(ctx, "licensee_id", []string{c.LicenseeID}); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "grant_license", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.GrantLicense(d, c)
	})
}

// RecordLicense records a licence's recordal with CNIPA.
func (s *Service) RecordLicense(ctx context.Context, req Request, c RecordLicense) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	number, err := PatentOfID("license_id", prefixLicense, c.LicenseID)
	if err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "record_license", number, c.LicenseID, c, func(d decision, p *Patent) ([]Event, error) {
		return p.RecordLicense(d, c)
	})
}

// PayRoyalty records a royalty payment under a licence.
func (s *Service) PayRoyalty(ctx context.Context, req Request, c PayRoyalty) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	number, err := PatentOfID("license_id", prefixLicense, c.LicenseID)
	if err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "pay_royalty", number, c.LicenseID, c, func(d decision, p *Patent) ([]Event, error) {
		return p.PayRoyalty(d, c)
	})
}

// TransferPatent records an assignment; Result.ID is the transfer ID.
func (s *Service) TransferPatent(ctx context.Context, req Request, number PatentNumber, c TransferPatent) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if err := s.checkParties(ctx, "to_ids", c.ToIDs); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "transfer_patent", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.Transfer(d, c)
	})
}

// RecordReview records a stock-patent review.
func (s *Service) RecordReview(ctx context.Context, req Request, number PatentNumber, c RecordReview) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	if err := s.checkFeedback(ctx, c); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "record_review", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.RecordReview(d, c)
	})
}

// CorrectReview corrects a campaign's review (event review_corrected).
func (s *Service) CorrectReview(ctx context.Context, req Request, number PatentNumber, c RecordReview) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	if err := s.checkFeedback(ctx, c); err != nil {
		return Result{}, err
	}
	return s.onPatent(ctx, req, "correct_review", number, "", c, func(d decision, p *Patent) ([]Event, error) {
		return p.CorrectReview(d, c)
	})
}

func (s *Service) checkFeedback(ctx context.Context, c RecordReview) error {
	if err := c.Validate(); err != nil {
		return err
	}
	for i, f := range c.Feedback {
		if err := s.checkParties(ctx, fmt.Sprintf("feedback[%d].org_id", i), []string{f.OrgID}); err != nil {
			return err
		}
	}
	return nil
}

// pledgeDecision decides a pledge command over all its patents.
type pledgeDecision func(d decision, ps []*Patent) ([][]Event, error)

// onPatents runs a command over several patents in one atomic append;
// record is the pledge the command acts on, as for onPatent.
func (s *Service) onPatents(ctx context.Context, req Request, kind string, numbers []PatentNumber, record string, fields any, decide pledgeDecision) (Result, error) {
	streams := make([]string, len(numbers))
	for i, n := range numbers {
		streams[i] = PatentStream(n)
	}
	return s.execute(ctx, command{req: req, hash: commandHash(kind, hashTarget(streams[0], record), fields), streams: streams,
		decide: func(d decision, st []aggregate) ([][]Event, error) {
			ps := make([]*Patent, len(st))
			for i, a := range st {
				ps[i] = a.(*Patent)
				if !ps[i].Registered() {
					return nil, NotFound(fmt.Sprintf("patents[%d]", i), "no patent %s", numbers[i])
				}
			}
			return decide(d, ps)
		}})
}

// RegisterPledge registers a pledge over one or more patents, written to
// every patent's stream atomically; Result.ID is the pledge ID.
func (s *Service) RegisterPledge(ctx context.Context, req Request, c RegisterPledge) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	numbers, err := c.Parse()
	if err != nil {
		return Result{}, err
	}
	if err := s.checkParties(ctx, "pledgor_id", []string{c.PledgorID}); err != nil {
		return Result{}, err
	}
	if err := s.checkParties(ctx, "pledgee_id", []string{c.PledgeeID}, OrgBank); err != nil {
		return Result{}, err
	}
	return s.onPatents(ctx, req, "register_pledge", numbers, "", c, func(d decision, ps []*Patent) ([][]Event, error) {
		return RegisterPledgeOn(d, ps, c)
	})
}

// ConsentPledge records the pledgee's consent to open licensing.
func (s *Service) ConsentPledge(ctx context.Context, req Request, c ConsentPledge) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	numbers, err := s.pledgePatents(ctx, c.PledgeID)
	if err != nil {
		return Result{}, err
	}
	return s.onPatents(ctx, req, "consent_pledge", numbers, c.PledgeID, c, func(d decision, ps []*Patent) ([][]Event, error) {
		return ConsentPledgeOn(d, ps, c)
	})
}

// ReleasePledge records the release of a pledge.
func (s *Service) ReleasePledge(ctx context.Context, req Request, c ReleasePledge) (Result, error) {
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return Result{}, err
	}
	numbers, err := s.pledgePatents(ctx, c.PledgeID)
	if err != nil {
		return Result{}, err
	}
	return s.onPatents(ctx, req, "release_pledge", numbers, c.PledgeID, c, func(d decision, ps []*Patent) ([][]Event, error) {
		return ReleasePledgeOn(d, ps, c)
	})
}

// pledgePatents finds the patents of a pledge through the first patent its
// ID names.
func (s *Service) pledgePatents(ctx context.Context, id string) ([]PatentNumber, error) {
	first, err := PatentOfID("pledge_id", prefixPledge, id)
	if err != nil {
		return nil, err
	}
	p, err := s.LoadPatent(ctx, first)
	if ErrorCode(err) == CodeNotFound {
		return nil, NotFound("pledge_id", "no pledge %s", Quote(id))
	}
	if err != nil {
		return nil, err
	}
	return p.PledgePatents(id)
}

// createdID returns the ID a command created, read from its first event.
func createdID(events []Event) string {
	if len(events) == 0 {
		return ""
	}
	switch v := events[0].(type) {
	case OrgRegistered:
		return v.OrgID
	case OrgKeyIssued:
		return v.KeyID
	case PatentRegistered:
		return string(v.Number)
	case DeclarationFiled:
		return v.DeclarationID
	case LicenseGranted:
		return v.LicenseID
	case PatentTransferred:
		return v.TransferID
	case PledgeRegistered:
		return v.PledgeID
	}
	return ""
}

// warningsOf returns the soft-limit warnings a command's events carry: fee
// terms above the guidance, IPC codes outside the reference list, late
// recordals. They follow from the events alone, so a repeat of a command
// answers the same warnings.
func warningsOf(events []Event) []string {
	var out []string
	for _, e := range events {
		switch v := e.(type) {
		case PatentRegistered:
			for _, code := range v.IPC {
				if !KnownIPC(code) {
					out = append(out, fmt.Sprintf("IPC code %s is not in the IPC 2016.01 reference list; accepted as given", code))
				}
			}
		case DeclarationFiled:
			out = append(out, v.Fee.Warnings()...)
		case LicenseRecorded:
			if v.RecordedOn.After(v.DueBy) {
				out = append(out, fmt.Sprintf("recorded after the three-month deadline of IR 87 (%s)", v.DueBy))
			}
		}
	}
	return out
}
