package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Code classifies an error for callers. The API maps each code to one HTTP
// status; the codes themselves are part of the public contract.
type Code string

// The error codes of the public contract (CONTRACT.md).
const (
	CodeInvalidArgument     Code = "invalid_argument"
	CodeUnauthenticated     Code = "unauthenticated"
	CodeForbidden           Code = "forbidden"
	CodeNotFound            Code = "not_found"
	CodeRuleViolation       Code = "rule_violation"
	CodeConflict            Code = "conflict"
	CodeIdempotencyMismatch Code = "idempotency_mismatch"
	CodeInternal            Code = "internal"
	// CodeUnavailable says the event store cannot be reached for now: the
	// same request may succeed later (with its Idempotency-Key, a repeat
	// never records a fact twice).
	CodeUnavailable Code = "unavailable"
)

// Rule is the stable code of a legal or business rule of DOMAIN.md.
type Rule string

// Rule codes of DOMAIN.md, plus a few the ledger adds for facts that would
// otherwise contradict earlier ones (marked "ledger").
const (
	RulePatentNotActive          Rule = "patent_not_active"
	RuleAnnualFeeUnpaid          Rule = "annual_fee_unpaid"
	RulePatentSuspended          Rule = "patent_suspended"
	RuleExclusiveLicenseInForce  Rule = "exclusive_license_in_force"
	RulePledgedWithoutConsent    Rule = "pledged_without_consent"
	RuleEvaluationReportRequired Rule = "evaluation_report_required"
	RuleCoOwnerConsentMissing    Rule = "co_owner_consent_missing"
	RuleDeclarationAlreadyActive Rule = "declaration_already_active"
	RuleTermExceedsPatent        Rule = "term_exceeds_patent"
	RulePromotionalLanguage      Rule = "promotional_language"
	RuleInvalidFeeTerms          Rule = "invalid_fee_terms"
	RuleNoActiveDeclaration      Rule = "no_active_declaration"
	RuleWithdrawalBeforeDecl     Rule = "withdrawal_before_declaration"
	RuleWithdrawalBeforeLicense  Rule = "withdrawal_before_license"
	RuleDeclarationNotInEffect   Rule = "declaration_not_in_effect"
	RuleFeeMismatch              Rule = "fee_mismatch"
	RuleSelfLicense              Rule = "self_license"
	RuleDuplicateLicense         Rule = "duplicate_license"
	RuleOpenLicenseActive        Rule = "open_license_active"
	RuleSelfTransfer             Rule = "self_transfer"
	RuleNotPatentee              Rule = "not_patentee"
	RuleAlreadyPledged           Rule = "already_pledged"
	RuleDebtExceedsPatentTerm    Rule = "debt_exceeds_patent_term"
	RuleReviewExists             Rule = "review_exists"
	RulePatentAlreadyRegistered  Rule = "patent_already_registered" // ledger
	RuleOrgAlreadyRegistered     Rule = "org_already_registered"    // ledger
	RuleLicenseAlreadyRecorded   Rule = "license_already_recorded"  // ledger
	RulePledgeReleased           Rule = "pledge_released"           // ledger
	RulePledgeAlreadyConsented   Rule = "pledge_already_consented"  // ledger
	RuleDateBeforeFact           Rule = "date_before_fact"          // ledger
	RuleNothingToChange          Rule = "nothing_to_change"         // ledger
)

// FieldError names one offending input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// format and args made Message, so that a page can say it in another
	// language; see Template.
	format string
	args   []any
}

// fieldError returns the problem with field that format and args describe.
func fieldError(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// Template returns the format and arguments Message was made from, for a
// translation of the format (the same verbs in the same order) to be
// formatted with the same arguments; format is "" when Message was not
// made from one.
func (f FieldError) Template() (format string, args []any) { return f.format, f.args }

// Error is the one error type of the domain. Every failure a caller can act
// on is an *Error with a Code; rule violations also carry the Rule.
type Error struct {
	Code    Code
	Rule    Rule
	Message string
	Fields  []FieldError
	cause   error
	// format and args made Message, as a FieldError's make its; see
	// Template.
	format string
	args   []any
}

// Template returns the format and arguments Message was made from, for a
// translation of the format (the same verbs in the same order) to be
// formatted with the same arguments; format is "" when Message was not
// made from one (Invalid and NotFound make their fields').
func (e *Error) Template() (format string, args []any) { return e.format, e.args }

// messageError returns an error of code whose message format and args make.
func messageError(code Code, format string, args []any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Rule != "" {
		b.WriteString(" (" + string(e.Rule) + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
		return b.String()
	}
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep + f.Field + ": " + f.Message)
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code and rule, so
// that errors.Is(err, ErrConflict) works for any conflict.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Rule == "" || t.Rule == e.Rule)
}

// Sentinel errors for errors.Is comparisons. Returned errors carry more
// detail but compare equal to these by code.
var (
	ErrInvalidArgument     = &Error{Code: CodeInvalidArgument}
	ErrUnauthenticated     = &Error{Code: CodeUnauthenticated}
	ErrForbidden           = &Error{Code: CodeForbidden}
	ErrNotFound            = &Error{Code: CodeNotFound}
	ErrRuleViolation       = &Error{Code: CodeRuleViolation}
	ErrConflict            = &Error{Code: CodeConflict}
	ErrIdempotencyMismatch = &Error{Code: CodeIdempotencyMismatch}
	ErrUnavailable         = &Error{Code: CodeUnavailable}
)

// Invalid returns an invalid_argument error naming one field.
func Invalid(field, format string, args ...any) *Error {
	fe := fieldError(field, format, args...)
	return &Error{Code: CodeInvalidArgument, Message: field + ": " + fe.Message, Fields: []FieldError{fe}}
}

// Violation returns a rule_violation error for rule with a human message.
func Violation(rule Rule, format string, args ...any) *Error {
	e := messageError(CodeRuleViolation, format, args)
	e.Rule = rule
	return e
}

// at names field as the one whose value the error is about, for a
// problem's errors[] (a rule violation names it in its message alone), and
// returns e.
func (e *Error) at(field string) *Error {
	e.Fields = []FieldError{{Field: field, Message: e.Message, format: e.format, args: e.args}}
	return e
}

// NotFound returns a not_found error for the named thing.
func NotFound(field, format string, args ...any) *Error {
	fe := fieldError(field, format, args...)
	e := &Error{Code: CodeNotFound, Message: fe.Message}
	if field != "" {
		e.Fields = []FieldError{fe}
	}
	return e
}

// Forbidden returns a forbidden error: the actor is not the acting party.
func Forbidden(format string, args ...any) *Error {
	return messageError(CodeForbidden, format, args)
}

// Conflict returns a conflict error wrapping cause.
func Conflict(cause error, format string, args ...any) *Error {
	e := messageError(CodeConflict, format, args)
	e.cause = cause
	return e
}

// Unavailable returns an unavailable error with a human message: the store
// could not be reached, and the call may be repeated later. Store adapters
// return it (wrapped with the failure) for connection failures, never for a
// refusal of the data.
func Unavailable(format string, args ...any) *Error {
	return messageError(CodeUnavailable, format, args)
}

// ErrorCode returns the Code of err, or CodeInternal when err is not a
// domain error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// RuleOf returns the rule code carried by err, or "".
func RuleOf(err error) Rule {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

// FieldErrors collects invalid_argument problems across several fields so a
// client sees all of them at once: the first maxFieldErrors of them, and
// how many more there were.
type FieldErrors struct {
	list    []FieldError
	dropped int
}

// maxFieldErrors bounds the problems one FieldErrors keeps, so that a body
// of a million bad list items is answered with the first and a count, not
// with a hundred megabytes.
const maxFieldErrors = 100

// add records one problem, unless maxFieldErrors are already kept.
func (f *FieldErrors) add(fe FieldError) {
	if len(f.list) >= maxFieldErrors {
		f.dropped++
		return
	}
	f.list = append(f.list, fe)
}

// Full reports whether the collection keeps no more problems: a check of
// many items may stop.
func (f *FieldErrors) Full() bool { return len(f.list) >= maxFieldErrors }

// Add records a problem with field unless err is nil. Nested *Error values
// contribute their own field names, prefixed with field.
func (f *FieldErrors) Add(field string, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		for _, fe := range e.Fields {
			name := field
			if fe.Field != "" && fe.Field != field {
				name = joinField(field, fe.Field)
			}
			f.add(FieldError{Field: name, Message: fe.Message, format: fe.format, args: fe.args})
		}
		return
	}
	msg := err.Error()
	if errors.As(err, &e) && e.Message != "" {
		msg = e.Message
	}
	f.add(FieldError{Field: field, Message: msg})
}

// AddUnreported records the field problems of err about fields that have
// none yet: a deeper check, run after the checks of each field's form,
// adds what they did not already say.
func (f *FieldErrors) AddUnreported(err error) {
	var more FieldErrors
	more.Add("", err)
	for _, fe := range more.list {
		if !slices.ContainsFunc(f.list, func(known FieldError) bool { return known.Field == fe.Field }) {
			f.add(fe)
		}
	}
}

// Addf records a formatted problem with field.
func (f *FieldErrors) Addf(field, format string, args ...any) {
	f.add(fieldError(field, format, args...))
}

// Err returns nil when nothing was added, else one invalid_argument error
// listing every field.
func (f *FieldErrors) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	msgs := make([]string, len(f.list))
	for i, fe := range f.list {
		msgs[i] = fe.Field + ": " + fe.Message
	}
	if f.dropped > 0 {
		msgs = append(msgs, fmt.Sprintf("and %d more problems", f.dropped))
	}
	return &Error{Code: CodeInvalidArgument, Message: strings.Join(msgs, "; "), Fields: f.list}
}

func joinField(prefix, name string) string {
	if prefix == "" {
		return name
	}
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return prefix + "." + name
}
