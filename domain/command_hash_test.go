package domain

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestAFieldAddedToACommandKeepsItsHash: the idempotency hash covered the
// command's whole JSON, so a field added in a later version (as
// co_owner_consent, "null" when absent) changed the hash of the same
// request, and a repeat recorded before the upgrade answered 422
// idempotency_mismatch. A field at its zero value is now left out of the
// hash, while one that is set, or a pointer to a zero value, counts.
func TestAFieldAddedToACommandKeepsItsHash(t *testing.T) {
	type before struct {
		Type string `json:"type"`
		Fee  Fen    `json:"fee_paid_fen"`
		On   Date   `json:"effective_on"`
	}
	type after struct {
		Type    string   `json:"type"`
		Fee     Fen      `json:"fee_paid_fen"`
		On      Date     `json:"effective_on"`
		Consent []string `json:"co_owner_consent"`
		Note    string   `json:"note"`
		Until   Date     `json:"ends_on"`
		Flag    *bool    `json:"flag"`
	}
	on := NewDate(2024, 3, 1)
	old := commandHash("grant_license", "ZL1", before{Type: "open", Fee: 5_000_000, On: on})
	same := commandHash("grant_license", "ZL1", after{Type: "open", Fee: 5_000_000, On: on})
	if same.current != old.current {
		t.Fatalf("a field added at its zero value changed the hash: %s, was %s", same.current, old.current)
	}
	if same.legacy() == old.legacy() {
		t.Fatal("the legacy hash ignores an added field; the test no longer shows what changed")
	}
	no := false
	for name, changed := range map[string]after{
		"co_owner_consent set":   {Type: "open", Fee: 5_000_000, On: on, Consent: []string{"o2"}},
		"co_owner_consent empty": {Type: "open", Fee: 5_000_000, On: on, Consent: []string{}},
		"note set":               {Type: "open", Fee: 5_000_000, On: on, Note: "x"},
		"ends_on set":            {Type: "open", Fee: 5_000_000, On: on, Until: NewDate(2025, 3, 1)},
		"flag false":             {Type: "open", Fee: 5_000_000, On: on, Flag: &no},
		"fee zero":               {Type: "open", On: on},
	} {
		if h := commandHash("grant_license", "ZL1", changed); h.current == old.current {
			t.Errorf("%s: the same hash as the request without it", name)
		}
	}
	if commandHash("grant_license", "ZL2", before{Type: "open"}).current == commandHash("grant_license", "ZL1", before{Type: "open"}).current {
		t.Error("another target, the same hash")
	}
}

// TestCanonicalFieldsLoseNothing is a property test: the canonical JSON of
// a command, with its zero fields left out, decodes to the same command,
// so two commands with the same canonical form are the same request. It
// runs over random licences, status changes, declarations and pledges,
// with each field zero or set at random (pointers to zero values too).
func TestCanonicalFieldsLoseNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 29))
	maybe := func(s string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return s
	}
	date := func() Date {
		if r.IntN(3) == 0 {
			return Date{}
		}
		return NewDate(2020+r.IntN(6), time.Month(1+r.IntN(12)), 1+r.IntN(28))
	}
	list := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{maybe("o1"), "o2"}[r.IntN(2):]
	}
	flag := func() *bool {
		if r.IntN(3) == 0 {
			return nil
		}
		b := r.IntN(2) == 0
		return &b
	}
	for range 2000 {
		status := PatentStatus(maybe("lapsed"))
		cases := []any{
			&GrantLicense{Type: LicenseType(maybe("open")), LicenseeID: maybe("o9"), EffectiveOn: date(), FeePaidFen: Fen(r.IntN(3)),
				DeclarationID: maybe("D1"), EndsOn: date(), CoOwnerConsent: list()},
			&ChangeStatus{Status: []*PatentStatus{nil, &status}[r.IntN(2)], Suspended: flag(), AnnualFeeOverdue: flag(),
				EffectiveOn: date(), Reason: maybe("fee unpaid")},
			&FileDeclaration{Fee: FeeTerms{Mode: FeeMode(maybe("lump_sum")), LumpSumFen: Fen(r.IntN(2)), Instalments: r.IntN(2)},
				TermMonths: r.IntN(2) * 36, DeclaredOn: date(), CoOwnerConsent: list(), OtherTerms: maybe("none")},
			&RegisterPledge{RegistrationNo: maybe("Y1"), Patents: list(), SecuredAmountFen: Fen(r.IntN(2)), RegisteredOn: date(),
				OpenLicenseConsent: r.IntN(2) == 0, CoOwnerConsent: list()},
		}
		for _, c := range cases {
			data := canonicalFields(reflect.ValueOf(c).Elem().Interface())
			back := reflect.New(reflect.TypeOf(c).Elem())
			if err := json.Unmarshal(data, back.Interface()); err != nil {
				t.Fatalf("%T: %s does not decode: %v", c, data, err)
			}
			if !reflect.DeepEqual(back.Interface(), c) {
				t.Fatalf("%T %+v: canonical %s decodes to %+v", c, c, data, back.Interface())
			}
		}
	}
}
