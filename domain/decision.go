package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Actor is who issues a command: the admin, or an organisation acting
// through its key.
type Actor struct {
	// OrgID is the acting organisation; empty for the admin.
	OrgID string
	// Admin is true for the admin key, which may do everything.
	Admin bool
}

// AdminActor is the admin.
var AdminActor = Actor{Admin: true}

// OrgActor returns the actor for an organisation.
func OrgActor(id string) Actor { return Actor{OrgID: id} }

// String returns "admin" or the organisation ID, as recorded in metadata.
func (a Actor) String() string {
	if a.Admin {
		return "admin"
	}
	return a.OrgID
}

// is reports whether the actor is the admin or the organisation id.
func (a Actor) is(id string) bool { return a.Admin || (a.OrgID != "" && a.OrgID == id) }

// isAny reports whether the actor is the admin or one of ids.
func (a Actor) isAny(ids []string) bool {
	return a.Admin || (a.OrgID != "" && slices.Contains(ids, a.OrgID))
}

// decision is what a decide function may know beyond the state: who acts,
// today's business date, and where new IDs come from.
type decision struct {
	actor Actor
	today Date
	newID func() string
}

// notInFuture returns an invalid_argument error naming field when day is
// after today: a fact that reports something already done (a recordal, a
// payment, a registration) cannot have happened yet.
func (d decision) notInFuture(field string, day Date) error {
	if day.After(d.today) {
		return Invalid(field, "%s is in the future; record it once it has happened", day)
	}
	return nil
}

// shortID returns 16 hex characters of a fresh ID.
func (d decision) shortID() string {
	return strings.ReplaceAll(d.newID(), "-", "")[:16]
}

// Prefixes of the self-routing IDs: a licence, transfer, pledge or
// declaration ID carries the patent number it lives on, so a command that
// names only the ID (a recordal, a pledge release) finds its stream.
const (
	prefixDeclaration = "D"
	prefixLicense     = "L"
	prefixTransfer    = "T"
	prefixPledge      = "P"
)

// routedID returns prefix + the patent's 12 digits and check character +
// "-" + 16 hex characters, e.g. "L2020101234567-9f86d081884c7d65".
func (d decision) routedID(prefix string, n PatentNumber) string {
	return prefix + compactNumber(n) + "-" + d.shortID()
}

func compactNumber(n PatentNumber) string {
	s := string(n)
	return s[2:14] + s[15:]
}

// PatentOfID returns the patent a self-routing ID (licence, pledge,
// transfer or declaration) lives on. It returns a not_found error naming
// field when the ID is not of that form.
func PatentOfID(field, prefix, id string) (PatentNumber, error) {
	bad := NotFound(field, "no such %s %s", field, Quote(id))
	if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+13+1+16 || id[len(prefix)+13] != '-' {
		return "", bad
	}
	digits := id[len(prefix) : len(prefix)+13]
	n, err := ParsePatentNumber("ZL" + digits[:12] + "." + digits[12:])
	if err != nil {
		return "", bad
	}
	for _, r := range id[len(prefix)+14:] {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return "", bad
		}
	}
	return n, nil
}

// namesAnotherPatent reports whether id is a self-routing ID (see
// PatentOfID) of a patent other than n.
func namesAnotherPatent(prefix, id string, n PatentNumber) bool {
	other, err := PatentOfID("", prefix, id)
	return err == nil && other != n
}

// CommandID is the identity of an idempotent command: the same actor and
// idempotency key always name the same command.
func CommandID(actor, idempotencyKey string) string {
	return hashUUID("command", actor, idempotencyKey)
}

// eventIDFor derives the ID of the index-th event a command writes to
// stream, so that a repeated command writes events with the same IDs. The
// command's first event has an ID of its command alone, whatever the
// stream: the store keeps event IDs unique across the whole log, so an
// idempotency key used again for a request on another stream meets that ID
// and is refused as a mismatch instead of writing a second command.
func eventIDFor(commandID, stream string, index int, first bool) string {
	if first {
		return hashUUID("event", commandID, "first")
	}
	return hashUUID("event", commandID, stream, fmt.Sprint(index))
}

// derivedIDSource returns an ID function that yields the same sequence of
// IDs for the same command every time it is decided.
func derivedIDSource(commandID string) func() string {
	n := 0
	return func() string {
		n++
		return hashUUID("id", commandID, fmt.Sprint(n))
	}
}

// hashUUID formats SHA-256 of the length-prefixed parts as a version-5
// style UUID string.
func hashUUID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	sum := h.Sum(nil)[:16]
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	x := hex.EncodeToString(sum)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// checkConsent reports co_owner_consent_missing when a co-owned patent has
// a patentee that is neither the acting organisation nor listed in consent.
func checkConsent(patentees, consent []string, actor Actor) error {
	if len(patentees) < 2 {
		return nil
	}
	for _, id := range patentees {
		if id == actor.OrgID || slices.Contains(consent, id) {
			continue
		}
		return Violation(RuleCoOwnerConsentMissing, "co-owner %s has not consented", id).at("co_owner_consent")
	}
	return nil
}

// checkConsentList rejects consent entries that are not patentees.
func checkConsentList(patentees, consent []string) error {
	for i, id := range consent {
		if !slices.Contains(patentees, id) {
			return Invalid(fmt.Sprintf("co_owner_consent[%d]", i), "%s is not a patentee of this patent", Quote(id))
		}
	}
	return nil
}

// requirePatentee fails with forbidden unless the actor is the admin or a
// patentee of p. A former patentee is told which transfer took the patent
// from it: one that sent a request while it was the patentee, which a
// concurrent transfer beat, learns what happened.
func requirePatentee(p *Patent, actor Actor) error {
	if actor.isAny(p.PatenteeIDs) {
		return nil
	}
	for _, t := range slices.Backward(p.Transfers) {
		if actor.isAny(t.FromIDs) && !actor.isAny(t.ToIDs) {
			return Forbidden("only a patentee of %s may do this; transfer %s made %s its patentee from %s", p.Number,
				t.TransferID, strings.Join(t.ToIDs, ", "), t.EffectiveOn)
		}
	}
	return Forbidden("only a patentee of %s may do this", p.Number)
}

// requirePatenteeOn is requirePatentee for an act dated day, named by
// field: an organisation that became a patentee by a transfer cannot act
// with a date before the transfer took effect, when it did not hold the
// patent yet. The admin, no organisation, acts for whoever held it.
func requirePatenteeOn(p *Patent, actor Actor, field string, day Date) error {
	if err := requirePatentee(p, actor); err != nil {
		return err
	}
	if since := p.patenteeSince(actor.OrgID); day.Before(since) {
		return Violation(RuleDateBeforeFact, "%s %s is before %s became a patentee of %s on %s", field, day, actor.OrgID,
			p.Number, since)
	}
	return nil
}

// checkIDList validates a list of organisation IDs: present, non-empty and
// without repeats.
func checkIDList(field string, ids []string, required bool) error {
	if len(ids) == 0 {
		if required {
			return Invalid(field, "at least one organisation ID is required")
		}
		return nil
	}
	seen := map[string]bool{}
	for i, id := range ids {
		name := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(id) == "" {
			return Invalid(name, "is empty")
		}
		if seen[id] {
			return Invalid(name, "%s is listed twice", Quote(id))
		}
		seen[id] = true
	}
	return nil
}

// requireDate adds a "required" problem for a zero date.
func requireDate(fe *FieldErrors, field string, d Date) {
	if d.IsZero() {
		fe.Addf(field, "is required (YYYY-MM-DD)")
	}
}
