package domain

import (
	"fmt"
	"strings"
)

// OrgKind is the kind of an organisation.
type OrgKind string

// Organisation kinds.
const (
	OrgUniversity        OrgKind = "university"
	OrgResearchInstitute OrgKind = "research_institute"
	OrgEnterprise        OrgKind = "enterprise"
	OrgBank              OrgKind = "bank"
	OrgRegulator         OrgKind = "regulator"
)

// PatentStatus is a patent's status in the CNIPA register. "expired" is
// never recorded: it follows from the date.
type PatentStatus string

// Patent statuses.
const (
	StatusActive      PatentStatus = "active"
	StatusLapsed      PatentStatus = "lapsed"
	StatusInvalidated PatentStatus = "invalidated"
	StatusAbandoned   PatentStatus = "abandoned"
	StatusExpired     PatentStatus = "expired"
)

// LicenseType is the type of a licence.
type LicenseType string

// Licence types.
const (
	LicenseOpen      LicenseType = "open"
	LicenseOrdinary  LicenseType = "ordinary"
	LicenseSole      LicenseType = "sole"
	LicenseExclusive LicenseType = "exclusive"
)

// withArticle returns the type with its indefinite article, for a
// message: "an exclusive", "a sole".
func (t LicenseType) withArticle() string {
	if t != "" && strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + string(t)
	}
	return "a " + string(t)
}

// ReleaseReason says why a pledge was released.
type ReleaseReason string

// Pledge release reasons.
const (
	ReleaseRepaid       ReleaseReason = "repaid"
	ReleaseEnforced     ReleaseReason = "enforced"
	ReleaseWaived       ReleaseReason = "waived"
	ReleaseContractVoid ReleaseReason = "contract_void"
)

// Grade is the market potential a stock-patent review assigns.
type Grade string

// Review grades.
const (
	GradeHigh   Grade = "high"
	GradeMedium Grade = "medium"
	GradeLow    Grade = "low"
	GradeNone   Grade = "none"
)

// Disposition is what a review decides to do with a patent.
type Disposition string

// Review dispositions.
const (
	DispositionOpenLicense Disposition = "open_license"
	DispositionLicense     Disposition = "license"
	DispositionTransfer    Disposition = "transfer"
	DispositionMaintain    Disposition = "maintain"
	DispositionAbandon     Disposition = "abandon"
)

// Interest is how interested a firm said it was in a reviewed patent.
type Interest string

// Interest levels of enterprise feedback.
const (
	InterestHigh   Interest = "high"
	InterestMedium Interest = "medium"
	InterestLow    Interest = "low"
	InterestNone   Interest = "none"
)

// Feedback is one firm's interest in a reviewed patent.
type Feedback struct {
	OrgID    string   `json:"org_id"`
	Interest Interest `json:"interest"`
}

// Values of every enum, in the order documentation lists them.
var (
	OrgKinds           = []OrgKind{OrgUniversity, OrgResearchInstitute, OrgEnterprise, OrgBank, OrgRegulator}
	RecordableStatuses = []PatentStatus{StatusActive, StatusLapsed, StatusInvalidated, StatusAbandoned}
	LicenseTypes       = []LicenseType{LicenseOpen, LicenseOrdinary, LicenseSole, LicenseExclusive}
	ReleaseReasons     = []ReleaseReason{ReleaseRepaid, ReleaseEnforced, ReleaseWaived, ReleaseContractVoid}
	Grades             = []Grade{GradeHigh, GradeMedium, GradeLow, GradeNone}
	Dispositions       = []Disposition{DispositionOpenLicense, DispositionLicense, DispositionTransfer, DispositionMaintain, DispositionAbandon}
	Interests          = []Interest{InterestHigh, InterestMedium, InterestLow, InterestNone}
)

// ParseEnum returns s as a T when it is one of allowed, else an
// invalid_argument error listing the allowed values.
func ParseEnum[T ~string](s string, allowed []T) (T, error) {
	for _, v := range allowed {
		if string(v) == s {
			return v, nil
		}
	}
	names := make([]string, len(allowed))
	for i, v := range allowed {
		names[i] = string(v)
	}
	if s == "" {
		return "", invalidValue("is required (one of %s)", strings.Join(names, ", "))
	}
	return "", invalidValue("unknown value %s (one of %s)", Quote(s), strings.Join(names, ", "))
}

// UnmarshalJSON rejects unknown organisation kinds.
func (k *OrgKind) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, k, OrgKinds) }

// UnmarshalJSON rejects unknown licence types.
func (t *LicenseType) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, t, LicenseTypes) }

// UnmarshalJSON rejects unknown release reasons.
func (r *ReleaseReason) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, r, ReleaseReasons) }

// UnmarshalJSON rejects unknown grades.
func (g *Grade) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, g, Grades) }

// UnmarshalJSON rejects unknown dispositions.
func (d *Disposition) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, d, Dispositions) }

// UnmarshalJSON rejects unknown interest levels.
func (i *Interest) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, i, Interests) }

// unmarshalEnum decodes a JSON string into an enum, refusing values not in
// allowed. The empty string decodes to the zero value, which the commands'
// Validate methods refuse where a value is required.
func unmarshalEnum[T ~string](b []byte, target *T, allowed []T) error {
	s, err := unmarshalJSONString(b)
	if err != nil {
		return fmt.Errorf("want a string: %w", err)
	}
	if s == "" {
		*target = ""
		return nil
	}
	v, err := ParseEnum(s, allowed)
	if err != nil {
		return err
	}
	*target = v
	return nil
}
