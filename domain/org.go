package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// OrgStream returns the stream name of an organisation.
func OrgStream(id string) string { return "org-" + id }

// CreditCodeStream returns the stream name of a unified social credit
// code (see CreditCodeClaimed).
func CreditCodeStream(code CreditCode) string { return "credit-" + string(code) }

// creditCodeClaim is the aggregate of a credit code's stream: the
// organisation registered under the code, if any.
type creditCodeClaim struct {
	orgID string
	aggregateBase
}

// Apply folds one event of the code's stream into the state.
func (c *creditCodeClaim) Apply(e Event) {
	if v, ok := e.(CreditCodeClaimed); ok {
		c.orgID = v.OrgID
	}
}

// Org is the organisation aggregate: identity, kind, region and API keys.
type Org struct {
	ID         string
	Name       string
	Kind       OrgKind
	RegionCode RegionCode
	CreditCode CreditCode
	SME        bool
	// KeyHashes maps key IDs to the hex SHA-256 of the key's secret.
	KeyHashes map[string]string
	// revoked holds the IDs of the keys revoked, for the refusal of a
	// second revocation to say so.
	revoked map[string]bool
	aggregateBase
}

// Registered reports whether the organisation exists.
func (o *Org) Registered() bool { return o.ID != "" }

// Apply folds one event of the organisation's stream into the state.
func (o *Org) Apply(e Event) {
	switch v := e.(type) {
	case OrgRegistered:
		o.ID, o.Name, o.Kind = v.OrgID, v.Name, v.Kind
		o.RegionCode, o.CreditCode, o.SME = v.RegionCode, v.CreditCode, v.SME
	case OrgKeyIssued:
		if o.KeyHashes == nil {
			o.KeyHashes = map[string]string{}
		}
		o.KeyHashes[v.KeyID] = v.KeyHash
	case OrgKeyRevoked:
		delete(o.KeyHashes, v.KeyID)
		if o.revoked == nil {
			o.revoked = map[string]bool{}
		}
		o.revoked[v.KeyID] = true
	}
}

// RegisterOrg is the command that registers an organisation.
type RegisterOrg struct {
	Name       string     `json:"name"`
	Kind       OrgKind    `json:"kind"`
	RegionCode RegionCode `json:"region_code"`
	CreditCode CreditCode `json:"credit_code"`
	SME        bool       `json:"sme"`
}

// maxNameRunes bounds organisation names and patent titles.
const maxNameRunes = 200

// Validate checks every field, returning one invalid_argument error that
// names each offending field.
func (c RegisterOrg) Validate() error {
	var fe FieldErrors
	fe.Add("name", checkLine(c.Name, true, maxNameRunes))
	if _, err := ParseEnum(string(c.Kind), OrgKinds); err != nil {
		fe.Add("kind", err)
	}
	if _, err := ParseRegionCode(string(c.RegionCode)); err != nil {
		fe.Add("region_code", err)
	}
	if _, err := ParseCreditCode(string(c.CreditCode)); err != nil {
		fe.Add("credit_code", err)
	}
	if c.SME && c.Kind != OrgEnterprise {
		fe.Addf("sme", "only an enterprise can be an SME")
	}
	return fe.Err()
}

// Register decides the registration of an organisation with the given ID.
// It fails with RuleOrgAlreadyRegistered when the stream already holds one.
func (o *Org) Register(id string, c RegisterOrg) ([]Event, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if o.Registered() {
		return nil, Violation(RuleOrgAlreadyRegistered, "organisation %s is already registered", o.ID)
	}
	region, _ := ParseRegionCode(string(c.RegionCode))
	credit, _ := ParseCreditCode(string(c.CreditCode))
	return []Event{OrgRegistered{OrgID: id, Name: strings.TrimSpace(c.Name), Kind: c.Kind,
		RegionCode: region, CreditCode: credit, SME: c.SME}}, nil
}

// IssueKey decides the issue of an API key whose secret hashes to keyHash.
func (o *Org) IssueKey(keyID, keyHash string) ([]Event, error) {
	if !o.Registered() {
		return nil, NotFound("id", "no such organisation")
	}
	return []Event{OrgKeyIssued{OrgID: o.ID, KeyID: keyID, KeyHash: keyHash}}, nil
}

// RevokeKey decides the revocation of the key keyID: from then on it
// authenticates nothing. It fails with ErrNotFound when the organisation
// has no such key, saying so of a key revoked already.
func (o *Org) RevokeKey(keyID string) ([]Event, error) {
	if !o.Registered() {
		return nil, NotFound("id", "no such organisation")
	}
	if o.revoked[keyID] {
		return nil, NotFound("key_id", "key %s of organisation %s is revoked already", Quote(keyID), o.ID)
	}
	if _, ok := o.KeyHashes[keyID]; !ok {
		return nil, NotFound("key_id", "organisation %s has no key %s", o.ID, Quote(keyID))
	}
	return []Event{OrgKeyRevoked{OrgID: o.ID, KeyID: keyID}}, nil
}

// HashKeySecret returns the hex SHA-256 of an API key secret, the only form
// in which keys are stored.
func HashKeySecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeyMatches reports, in constant time, whether secret is the key keyID of
// the organisation.
func (o *Org) KeyMatches(keyID, secret string) bool {
	want, ok := o.KeyHashes[keyID]
	got := HashKeySecret(secret)
	if !ok {
		want = strings.Repeat("0", len(got))
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 && ok
}
