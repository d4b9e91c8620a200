package domain

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Event is the payload of a fact the ledger records. Each payload type has
// a stable, versioned type name such as "patent.declaration_filed.v1".
type Event interface {
	// EventType returns the versioned type name.
	EventType() string
}

// Event type names. The suffix is the payload schema version; a payload
// that changes incompatibly gets a new version and an upcaster from the old.
const (
	TypeOrgRegistered           = "org.registered.v1"
	TypeOrgKeyIssued            = "org.key_issued.v1"
	TypeOrgKeyRevoked           = "org.key_revoked.v1"
	TypeCreditCodeClaimed       = "org.credit_code_claimed.v1"
	TypePatentRegistered        = "patent.registered.v1"
	TypePatentStatusChanged     = "patent.status_changed.v1"
	TypePatentSuspensionChanged = "patent.suspension_changed.v1"
	TypeAnnualFeeStatusChanged  = "patent.annual_fee_status_changed.v1"
	TypeDeclarationFiled        = "patent.declaration_filed.v1"
	TypeDeclarationWithdrawn    = "patent.declaration_withdrawn.v1"
	TypeLicenseGranted          = "patent.license_granted.v1"
	TypeLicenseRecorded         = "patent.license_recorded.v1"
	TypeRoyaltyPaid             = "patent.royalty_paid.v1"
	TypePatentTransferred       = "patent.transferred.v1"
	TypePledgeRegistered        = "patent.pledge_registered.v1"
	TypePledgeConsented         = "patent.pledge_consented.v1"
	TypePledgeReleased          = "patent.pledge_released.v1"
	TypeReviewRecorded          = "patent.review_recorded.v1"
	TypeReviewCorrected         = "patent.review_corrected.v1"
)

// OrgRegistered records a new organisation.
type OrgRegistered struct {
	OrgID      string     `json:"org_id"`
	Name       string     `json:"name"`
	Kind       OrgKind    `json:"kind"`
	RegionCode RegionCode `json:"region_code"`
	CreditCode CreditCode `json:"credit_code"`
	SME        bool       `json:"sme"`
}

// OrgKeyIssued records a new API key of an organisation; only the key's
// SHA-256 hash is stored.
type OrgKeyIssued struct {
	OrgID   string `json:"org_id"`
	KeyID   string `json:"key_id"`
	KeyHash string `json:"key_hash"`
}

// OrgKeyRevoked records that an API key no longer authenticates.
type OrgKeyRevoked struct {
	OrgID string `json:"org_id"`
	KeyID string `json:"key_id"`
}

// CreditCodeClaimed records that a unified social credit code is an
// organisation's. The code's stream (CreditCodeStream) holds one, written
// with the organisation's registration, so that no second organisation is
// registered under the code.
type CreditCodeClaimed struct {
	CreditCode CreditCode `json:"credit_code"`
	OrgID      string     `json:"org_id"`
}

// PatentRegistered records a granted patent entering the ledger.
type PatentRegistered struct {
	Number      PatentNumber `json:"number"`
	Kind        PatentKind   `json:"kind"`
	Title       string       `json:"title"`
	Abstract    string       `json:"abstract,omitempty"`
	PatenteeIDs []string     `json:"patentee_ids"`
	IPC         []IPCCode    `json:"ipc,omitempty"`
	Locarno     string       `json:"locarno,omitempty"`
	FiledOn     Date         `json:"filed_on"`
	GrantedOn   Date         `json:"granted_on"`
	ExpiresOn   Date         `json:"expires_on"`
}

// PatentStatusChanged records a register status change (lapse,
// invalidation, abandonment, restoration).
type PatentStatusChanged struct {
	Number      PatentNumber `json:"number"`
	Status      PatentStatus `json:"status"`
	EffectiveOn Date         `json:"effective_on"`
	Reason      string       `json:"reason,omitempty"`
}

// PatentSuspensionChanged records the start or end of a suspension
// (ownership dispute or court preservation, IR 103–104).
type PatentSuspensionChanged struct {
	Number      PatentNumber `json:"number"`
	Suspended   bool         `json:"suspended"`
	EffectiveOn Date         `json:"effective_on"`
	Reason      string       `json:"reason,omitempty"`
}

// AnnualFeeStatusChanged records that an annual fee became overdue or was
// paid.
type AnnualFeeStatusChanged struct {
	Number      PatentNumber `json:"number"`
	Overdue     bool         `json:"overdue"`
	EffectiveOn Date         `json:"effective_on"`
	Reason      string       `json:"reason,omitempty"`
}

// DeclarationFiled records an open-licence declaration (开放许可声明).
type DeclarationFiled struct {
	Number              PatentNumber `json:"number"`
	DeclarationID       string       `json:"declaration_id"`
	Fee                 FeeTerms     `json:"fee"`
	TermMonths          int          `json:"term_months"`
	DeclaredOn          Date         `json:"declared_on"`
	TermEndsOn          Date         `json:"term_ends_on"`
	EvaluationReportRef string       `json:"evaluation_report_ref,omitempty"`
	CoOwnerConsent      []string     `json:"co_owner_consent,omitempty"`
	OtherTerms          string       `json:"other_terms,omitempty"`
	PatenteeIDs         []string     `json:"patentee_ids"`
}

// DeclarationWithdrawn records the withdrawal (撤回) of a declaration,
// effective on EffectiveOn.
type DeclarationWithdrawn struct {
	Number        PatentNumber `json:"number"`
	DeclarationID string       `json:"declaration_id"`
	EffectiveOn   Date         `json:"effective_on"`
	Reason        string       `json:"reason"`
	// CoOwnerConsent are the co-owners who consented to the withdrawal
	// (PL 14); empty when none had to, and in withdrawals recorded by
	// builds before 2026-11-29, which did not keep it.
	CoOwnerConsent []string `json:"co_owner_consent,omitempty"`
}

// LicenseGranted records a concluded licence (a deal). Its licensors are
// the patentees on its effective date, who concluded it, even when it is
// recorded after a transfer that took effect later.
type LicenseGranted struct {
	Number        PatentNumber `json:"number"`
	LicenseID     string       `json:"license_id"`
	Type          LicenseType  `json:"type"`
	LicensorIDs   []string     `json:"licensor_ids"`
	LicenseeID    string       `json:"licensee_id"`
	EffectiveOn   Date         `json:"effective_on"`
	EndsOn        Date         `json:"ends_on"`
	FeePaidFen    Fen          `json:"fee_paid_fen"`
	DeclarationID string       `json:"declaration_id,omitempty"`
	// CoOwnerConsent are the co-owners who consented to a sole or
	// exclusive licence of a co-owned patent (PL 14).
	CoOwnerConsent []string `json:"co_owner_consent,omitempty"`
}

// LicenseRecorded records the recordal (备案) of a licence with CNIPA.
type LicenseRecorded struct {
	Number     PatentNumber `json:"number"`
	LicenseID  string       `json:"license_id"`
	RecordNo   string       `json:"record_no"`
	RecordedOn Date         `json:"recorded_on"`
	// DueBy is the last day of the three-month recordal period (IR 87).
	DueBy Date `json:"due_by"`
}

// RoyaltyPaid records a royalty payment under a licence.
type RoyaltyPaid struct {
	Number    PatentNumber `json:"number"`
	LicenseID string       `json:"license_id"`
	PaidOn    Date         `json:"paid_on"`
	AmountFen Fen          `json:"amount_fen"`
	Period    string       `json:"period,omitempty"`
}

// PatentTransferred records an assignment (专利权转让) to new patentees.
type PatentTransferred struct {
	Number      PatentNumber `json:"number"`
	TransferID  string       `json:"transfer_id"`
	FromIDs     []string     `json:"from_ids"`
	ToIDs       []string     `json:"to_ids"`
	EffectiveOn Date         `json:"effective_on"`
	PriceFen    Fen          `json:"price_fen"`
}

// PledgeRegistered records a pledge (专利权质押). The same fact is written
// to the stream of every pledged patent in one atomic append.
type PledgeRegistered struct {
	Number             PatentNumber   `json:"number"`
	PledgeID           string         `json:"pledge_id"`
	RegistrationNo     string         `json:"registration_no,omitempty"`
	PledgorID          string         `json:"pledgor_id"`
	PledgeeID          string         `json:"pledgee_id"`
	Patents            []PatentNumber `json:"patents"`
	SecuredAmountFen   Fen            `json:"secured_amount_fen"`
	RegisteredOn       Date           `json:"registered_on"`
	DebtDueOn          Date           `json:"debt_due_on"`
	OpenLicenseConsent bool           `json:"open_license_consent"`
	// CoOwnerConsent are the co-owners who consented to the pledge of
	// co-owned patents (PL 14).
	CoOwnerConsent []string `json:"co_owner_consent,omitempty"`
}

// PledgeConsented records the pledgee's later consent to open licensing.
type PledgeConsented struct {
	Number      PatentNumber `json:"number"`
	PledgeID    string       `json:"pledge_id"`
	ConsentedOn Date         `json:"consented_on"`
}

// PledgeReleased records the release (注销) of a pledge.
type PledgeReleased struct {
	Number     PatentNumber  `json:"number"`
	PledgeID   string        `json:"pledge_id"`
	ReleasedOn Date          `json:"released_on"`
	Reason     ReleaseReason `json:"reason"`
}

// ReviewRecorded records a stock-patent review (存量专利盘活) in a campaign.
type ReviewRecorded struct {
	Number      PatentNumber `json:"number"`
	Campaign    string       `json:"campaign"`
	ReviewerID  string       `json:"reviewer_id"`
	ReviewedOn  Date         `json:"reviewed_on"`
	Grade       Grade        `json:"grade"`
	Disposition Disposition  `json:"disposition"`
	Notes       string       `json:"notes,omitempty"`
	Feedback    []Feedback   `json:"feedback,omitempty"`
}

// ReviewCorrected records a correction of a campaign's review; it replaces
// the whole review, its date and reviewer included (PUT takes the same
// fields as the review): the tallies count the corrected review on its
// corrected date.
type ReviewCorrected ReviewRecorded

// EventType implements Event.
func (OrgRegistered) EventType() string { return TypeOrgRegistered }

// EventType implements Event.
func (OrgKeyIssued) EventType() string { return TypeOrgKeyIssued }

// EventType implements Event.
func (OrgKeyRevoked) EventType() string { return TypeOrgKeyRevoked }

// EventType implements Event.
func (CreditCodeClaimed) EventType() string { return TypeCreditCodeClaimed }

// EventType implements Event.
func (PatentRegistered) EventType() string { return TypePatentRegistered }

// EventType implements Event.
func (PatentStatusChanged) EventType() string { return TypePatentStatusChanged }

// EventType implements Event.
func (PatentSuspensionChanged) EventType() string { return TypePatentSuspensionChanged }

// EventType implements Event.
func (AnnualFeeStatusChanged) EventType() string { return TypeAnnualFeeStatusChanged }

// EventType implements Event.
func (DeclarationFiled) EventType() string { return TypeDeclarationFiled }

// EventType implements Event.
func (DeclarationWithdrawn) EventType() string { return TypeDeclarationWithdrawn }

// EventType implements Event.
func (LicenseGranted) EventType() string { return TypeLicenseGranted }

// EventType implements Event.
func (LicenseRecorded) EventType() string { return TypeLicenseRecorded }

// EventType implements Event.
func (RoyaltyPaid) EventType() string { return TypeRoyaltyPaid }

// EventType implements Event.
func (PatentTransferred) EventType() string { return TypePatentTransferred }

// EventType implements Event.
func (PledgeRegistered) EventType() string { return TypePledgeRegistered }

// EventType implements Event.
func (PledgeConsented) EventType() string { return TypePledgeConsented }

// EventType implements Event.
func (PledgeReleased) EventType() string { return TypePledgeReleased }

// EventType implements Event.
func (ReviewRecorded) EventType() string { return TypeReviewRecorded }

// EventType implements Event.
func (ReviewCorrected) EventType() string { return TypeReviewCorrected }

// eventDecoders maps every current type name to the decoder of its payload.
var eventDecoders = map[string]func([]byte) (Event, error){
	TypeOrgRegistered:           decodeAs[OrgRegistered],
	TypeOrgKeyIssued:            decodeAs[OrgKeyIssued],
	TypeOrgKeyRevoked:           decodeAs[OrgKeyRevoked],
	TypeCreditCodeClaimed:       decodeAs[CreditCodeClaimed],
	TypePatentRegistered:        decodeAs[PatentRegistered],
	TypePatentStatusChanged:     decodeAs[PatentStatusChanged],
	TypePatentSuspensionChanged: decodeAs[PatentSuspensionChanged],
	TypeAnnualFeeStatusChanged:  decodeAs[AnnualFeeStatusChanged],
	TypeDeclarationFiled:        decodeAs[DeclarationFiled],
	TypeDeclarationWithdrawn:    decodeAs[DeclarationWithdrawn],
	TypeLicenseGranted:          decodeAs[LicenseGranted],
	TypeLicenseRecorded:         decodeAs[LicenseRecorded],
	TypeRoyaltyPaid:             decodeAs[RoyaltyPaid],
	TypePatentTransferred:       decodeAs[PatentTransferred],
	TypePledgeRegistered:        decodeAs[PledgeRegistered],
	TypePledgeConsented:         decodeAs[PledgeConsented],
	TypePledgeReleased:          decodeAs[PledgeReleased],
	TypeReviewRecorded:          decodeAs[ReviewRecorded],
	TypeReviewCorrected:         decodeAs[ReviewCorrected],
	TypeImportStarted:           decodeAs[ImportStarted],
	TypeImportCompleted:         decodeAs[ImportCompleted],
	TypeImportFailed:            decodeAs[ImportFailed],
}

// decodeAs decodes a JSON payload into a value of T.
func decodeAs[T Event](data []byte) (Event, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// EventTypes returns every current event type name.
func EventTypes() []string {
	names := make([]string, 0, len(eventDecoders))
	for name := range eventDecoders {
		names = append(names, name)
	}
	return names
}

// SchemaVersion returns the version suffix of an event type name ("x.v3" →
// 3), or 0 when the name has none.
func SchemaVersion(eventType string) int {
	i := strings.LastIndex(eventType, ".v")
	if i < 0 {
		return 0
	}
	var v int
	if _, err := fmt.Sscanf(eventType[i+2:], "%d", &v); err != nil {
		return 0
	}
	return v
}

// Upcaster turns the payload of an old event type into the payload of a
// newer one. It returns the new type name and data.
type Upcaster func(data []byte) (newType string, newData []byte, err error)

// Codec encodes event payloads to JSON and decodes stored events back,
// upcasting old versions on the way. The zero Codec is not usable; use
// NewCodec. A Codec is safe for concurrent use once built.
type Codec struct {
	upcasters map[string]Upcaster
}

// NewCodec returns a codec with the given upcasters, keyed by the old type
// name they read.
func NewCodec(upcasters map[string]Upcaster) *Codec {
	c := &Codec{upcasters: map[string]Upcaster{}}
	for name, up := range upcasters {
		c.upcasters[name] = up
	}
	return c
}

// DefaultCodec is the codec for the ledger's current event types. No type
// has been revised yet, so it has no upcasters.
var DefaultCodec = NewCodec(nil)

// Encode returns the type name and JSON payload of e.
func (c *Codec) Encode(e Event) (string, []byte, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// maxUpcasts bounds an upcasting chain so a cycle cannot loop forever.
const maxUpcasts = 16

// Decode returns the payload of a stored event of type eventType, upcast to
// the current version. Unknown types and malformed payloads return an error.
func (c *Codec) Decode(eventType string, data []byte) (Event, error) {
	for i := 0; ; i++ {
		decode, ok := eventDecoders[eventType]
		if ok {
			e, err := decode(data)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", eventType, err)
			}
			return e, nil
		}
		up, ok := c.upcasters[eventType]
		if !ok || i >= maxUpcasts {
			return nil, fmt.Errorf("unknown event type %q", eventType)
		}
		newType, newData, err := up(data)
		if err != nil {
			return nil, fmt.Errorf("upcast %s: %w", eventType, err)
		}
		eventType, data = newType, newData
	}
}
