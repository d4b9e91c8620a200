package projections

import (
	"encoding/json"
	"slices"

	"github.com/patentledger/ledger/domain"
)

// Tallies is the read model of the regulators' tallies and the rankings:
// one row per fact (licence, payment, declaration, pledge, transfer,
// review) with its business date, and the organisations and patent
// attributes the filters need. Buckets are computed at query time.
type Tallies struct{}

var _ Projection = Tallies{}

// Name implements Projection.
func (Tallies) Name() string { return TalliesName }

// Tables implements Projection.
func (Tallies) Tables() []string {
	return []string{"tly_orgs", "tly_patents", "tly_patent_ipc", "tly_licenses", "tly_license_orgs", "tly_payments",
		"tly_declarations", "tly_declaration_orgs", "tly_pledges", "tly_pledge_patents", "tly_transfers",
		"tly_transfer_orgs", "tly_reviews", "tly_recordals", "tly_first_licences", "tly_patent_status"}
}

// Schema implements Projection. Payments are the fee paid on taking a
// licence (dated its effective date) and each royalty (dated paid_on); they
// repeat the licence's columns so that the deal filters apply to them
// without a join, and have the kind the fees tally splits them by (see
// Fees). A licence's instalments is 1 when it is an open licence under a
// declaration whose fee mode is instalment. The index on licences covers the tallies. A
// declaration's stop_on is the first day it is no longer in effect: the
// day after its term, or its withdrawal's effective date if earlier. The
// orgs of a licence are its licensors, of a declaration its patentees, of a
// transfer its assignors (role "from") and assignees ("to").
func (Tallies) Schema() []string {
	return []string{
		`CREATE TABLE tly_orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, region TEXT NOT NULL,
			sme INTEGER NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE TABLE tly_patents (number TEXT PRIMARY KEY, kind TEXT NOT NULL, granted_on TEXT NOT NULL,
			expires_on TEXT NOT NULL, owners TEXT NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE TABLE tly_patent_ipc (number TEXT NOT NULL, code TEXT NOT NULL, PRIMARY KEY (number, code)) STRICT, WITHOUT ROWID`,
		`CREATE TABLE tly_licenses (license_id TEXT PRIMARY KEY, number TEXT NOT NULL, type TEXT NOT NULL,
			licensee_id TEXT NOT NULL, effective_on TEXT NOT NULL, instalments INTEGER NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_licenses_on ON tly_licenses (effective_on, type, licensee_id, number, instalments)`,
		`CREATE INDEX tly_licenses_licensee ON tly_licenses (licensee_id, effective_on)`, // an organisation's own page
		`CREATE TABLE tly_license_orgs (license_id TEXT NOT NULL, org_id TEXT NOT NULL,
			PRIMARY KEY (license_id, org_id)) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_license_orgs_org ON tly_license_orgs (org_id)`,
		`CREATE TABLE tly_payments (id INTEGER PRIMARY KEY, license_id TEXT NOT NULL, number TEXT NOT NULL,
			type TEXT NOT NULL, licensee_id TEXT NOT NULL, paid_on TEXT NOT NULL, amount_fen INTEGER NOT NULL,
			kind TEXT NOT NULL) STRICT`,
		`CREATE INDEX tly_payments_on ON tly_payments (paid_on, amount_fen, kind)`,
		`CREATE TABLE tly_declarations (declaration_id TEXT PRIMARY KEY, number TEXT NOT NULL, declared_on TEXT NOT NULL,
			term_ends_on TEXT NOT NULL, withdrawn_on TEXT, stop_on TEXT NOT NULL, fee_mode TEXT NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_declarations_on ON tly_declarations (declared_on)`,
		`CREATE INDEX tly_declarations_withdrawn ON tly_declarations (withdrawn_on)`,
		`CREATE INDEX tly_declarations_stop ON tly_declarations (stop_on)`,
		`CREATE TABLE tly_declaration_orgs (declaration_id TEXT NOT NULL, org_id TEXT NOT NULL,
			PRIMARY KEY (declaration_id, org_id)) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_declaration_orgs_org ON tly_declaration_orgs (org_id)`,
		`CREATE TABLE tly_pledges (pledge_id TEXT PRIMARY KEY, pledgor_id TEXT NOT NULL, pledgee_id TEXT NOT NULL,
			secured_fen INTEGER NOT NULL, registered_on TEXT NOT NULL, released_on TEXT) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_pledges_on ON tly_pledges (registered_on)`,
		`CREATE INDEX tly_pledges_released ON tly_pledges (released_on)`,
		`CREATE INDEX tly_pledges_pledgee ON tly_pledges (pledgee_id, registered_on)`, // a bank's own page
		`CREATE TABLE tly_pledge_patents (pledge_id TEXT NOT NULL, number TEXT NOT NULL,
			PRIMARY KEY (pledge_id, number)) STRICT, WITHOUT ROWID`,
		`CREATE TABLE tly_transfers (transfer_id TEXT PRIMARY KEY, number TEXT NOT NULL, effective_on TEXT NOT NULL,
			price_fen INTEGER NOT NULL, seq INTEGER NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_transfers_on ON tly_transfers (effective_on)`,
		`CREATE TABLE tly_transfer_orgs (transfer_id TEXT NOT NULL, role TEXT NOT NULL, org_id TEXT NOT NULL,
			PRIMARY KEY (transfer_id, role, org_id)) STRICT, WITHOUT ROWID`,
		`CREATE TABLE tly_reviews (number TEXT NOT NULL, campaign TEXT NOT NULL, reviewer_id TEXT NOT NULL,
			reviewed_on TEXT NOT NULL, grade TEXT NOT NULL, disposition TEXT NOT NULL,
			PRIMARY KEY (number, campaign)) STRICT, WITHOUT ROWID`,
		`CREATE INDEX tly_reviews_on ON tly_reviews (reviewed_on)`,
		extraTallySchema[0], extraTallySchema[1], reviewCoverageSchema[0],
	}
}

// Apply implements Projection.
func (Tallies) Apply(tx *Tx, e domain.RecordedEvent, ev domain.Event) error {
	switch ev.(type) {
	case domain.OrgRegistered, domain.PatentRegistered, domain.LicenseGranted, domain.LicenseRecorded, domain.RoyaltyPaid,
		domain.DeclarationFiled, domain.DeclarationWithdrawn, domain.PatentTransferred, domain.ReviewRecorded,
		domain.ReviewCorrected, domain.PatentStatusChanged, domain.PledgeRegistered, domain.PledgeReleased:
		tx.tallyEvents = append(tx.tallyEvents, ev) // mirrored by the tally index on commit
	}
	if err := applyExtraTallies(tx, ev); err != nil {
		return err
	}
	switch v := ev.(type) {
	case domain.OrgRegistered:
		return tx.Exec("INSERT INTO tly_orgs (id, name, kind, region, sme) VALUES (?, ?, ?, ?, ?)",
			v.OrgID, v.Name, string(v.Kind), string(v.RegionCode), v.SME)
	case domain.PatentRegistered:
		return tallyPatent(tx, v)
	case domain.LicenseGranted:
		return tallyLicense(tx, v)
	case domain.RoyaltyPaid:
		return tx.Exec(`INSERT INTO tly_payments (license_id, number, type, licensee_id, paid_on, amount_fen, kind)
			SELECT license_id, number, type, licensee_id, ?, ?, iif(instalments, '`+paidInstalment+`', '`+paidRoyalty+`')
			FROM tly_licenses WHERE license_id = ?`, v.PaidOn.String(), int64(v.AmountFen), v.LicenseID)
	case domain.DeclarationFiled:
		return tallyDeclaration(tx, v)
	case domain.DeclarationWithdrawn:
		return tx.Exec("UPDATE tly_declarations SET withdrawn_on = ?1, stop_on = min(stop_on, ?1) WHERE declaration_id = ?2",
			v.EffectiveOn.String(), v.DeclarationID)
	case domain.PatentTransferred:
		return tallyTransfer(tx, v, e.Position)
	case domain.PatentStatusChanged:
		return tx.Exec("INSERT INTO tly_patent_status (number, effective_on, seq, status) VALUES (?, ?, ?, ?)",
			string(v.Number), v.EffectiveOn.String(), e.Position, string(v.Status))
	}
	return applyPledgeOrReview(tx, ev)
}

// applyPledgeOrReview applies the pledge and review events.
func applyPledgeOrReview(tx *Tx, ev domain.Event) error {
	switch v := ev.(type) {
	case domain.PledgeRegistered:
		err := tx.Exec(`INSERT OR IGNORE INTO tly_pledges (pledge_id, pledgor_id, pledgee_id, secured_fen, registered_on)
			VALUES (?, ?, ?, ?, ?)`, v.PledgeID, v.PledgorID, v.PledgeeID, int64(v.SecuredAmountFen), v.RegisteredOn.String())
		if err != nil {
			return err
		}
		return tx.Exec("INSERT INTO tly_pledge_patents (pledge_id, number) VALUES (?, ?)", v.PledgeID, string(v.Number))
	case domain.PledgeReleased:
		return tx.Exec("UPDATE tly_pledges SET released_on = ? WHERE pledge_id = ?", v.ReleasedOn.String(), v.PledgeID)
	case domain.ReviewRecorded:
		return tallyReview(tx, v)
	case domain.ReviewCorrected:
		return tallyReview(tx, domain.ReviewRecorded(v))
	}
	return nil
}

// tallyPatent records a patent, its registered patentees as a JSON array
// (each once: one statement per patent rather than per patentee keeps
// rebuilds fast) and its IPC codes.
func tallyPatent(tx *Tx, v domain.PatentRegistered) error {
	owners := slices.Clone(v.PatenteeIDs)
	slices.Sort(owners)
	owners = slices.Compact(owners)
	ownersJSON, err := json.Marshal(owners)
	if err != nil {
		return err
	}
	err = tx.Exec("INSERT INTO tly_patents (number, kind, granted_on, expires_on, owners) VALUES (?, ?, ?, ?, ?)",
		string(v.Number), string(v.Kind), v.GrantedOn.String(), v.ExpiresOn.String(), string(ownersJSON))
	if err != nil {
		return err
	}
	for _, c := range v.IPC {
		if err := tx.Exec("INSERT OR IGNORE INTO tly_patent_ipc (number, code) VALUES (?, ?)", string(v.Number), compactIPC(c)); err != nil {
			return err
		}
	}
	return nil
}

func tallyLicense(tx *Tx, v domain.LicenseGranted) error {
	declaration := ""
	if v.Type == domain.LicenseOpen {
		declaration = v.DeclarationID
	}
	err := tx.Exec(`INSERT INTO tly_licenses (license_id, number, type, licensee_id, effective_on, instalments)
		VALUES (?, ?, ?, ?, ?, EXISTS (SELECT 1 FROM tly_declarations WHERE declaration_id = ? AND fee_mode = ?))`,
		v.LicenseID, string(v.Number), string(v.Type), v.LicenseeID, v.EffectiveOn.String(), declaration,
		string(domain.FeeInstalment))
	if err != nil {
		return err
	}
	if err := insertOrgs(tx, "INSERT OR IGNORE INTO tly_license_orgs (license_id, org_id) VALUES (?, ?)", v.LicenseID, v.LicensorIDs); err != nil {
		return err
	}
	if v.FeePaidFen == 0 {
		return nil
	}
	return tx.Exec(`INSERT INTO tly_payments (license_id, number, type, licensee_id, paid_on, amount_fen, kind)
		SELECT license_id, number, type, licensee_id, effective_on, ?, iif(instalments, '`+paidInstalment+`', '`+paidLumpSum+`')
		FROM tly_licenses WHERE license_id = ?`, int64(v.FeePaidFen), v.LicenseID)
}

func tallyDeclaration(tx *Tx, v domain.DeclarationFiled) error {
	err := tx.Exec(`INSERT INTO tly_declarations (declaration_id, number, declared_on, term_ends_on, stop_on, fee_mode)
		VALUES (?, ?, ?, ?, ?, ?)`, v.DeclarationID, string(v.Number), v.DeclaredOn.String(), v.TermEndsOn.String(),
		v.TermEndsOn.AddDays(1).String(), string(v.Fee.Mode))
	if err != nil {
		return err
	}
	return insertOrgs(tx, "INSERT OR IGNORE INTO tly_declaration_orgs (declaration_id, org_id) VALUES (?, ?)", v.DeclarationID, v.PatenteeIDs)
}

func tallyTransfer(tx *Tx, v domain.PatentTransferred, position int64) error {
	err := tx.Exec("INSERT INTO tly_transfers (transfer_id, number, effective_on, price_fen, seq) VALUES (?, ?, ?, ?, ?)",
		v.TransferID, string(v.Number), v.EffectiveOn.String(), int64(v.PriceFen), position)
	if err != nil {
		return err
	}
	if err := insertOrgs(tx, "INSERT OR IGNORE INTO tly_transfer_orgs (transfer_id, role, org_id) VALUES (?, 'from', ?)", v.TransferID, v.FromIDs); err != nil {
		return err
	}
	return insertOrgs(tx, "INSERT OR IGNORE INTO tly_transfer_orgs (transfer_id, role, org_id) VALUES (?, 'to', ?)", v.TransferID, v.ToIDs)
}

// tallyReview records a review or replaces it with its correction.
func tallyReview(tx *Tx, v domain.ReviewRecorded) error {
	return tx.Exec(`INSERT OR REPLACE INTO tly_reviews (number, campaign, reviewer_id, reviewed_on, grade, disposition)
		VALUES (?, ?, ?, ?, ?, ?)`, string(v.Number), v.Campaign, v.ReviewerID, v.ReviewedOn.String(),
		string(v.Grade), string(v.Disposition))
}

// insertOrgs runs an insert of (key, org) for each org.
func insertOrgs(tx *Tx, query, key string, orgs []string) error {
	for _, o := range orgs {
		if err := tx.Exec(query, key, o); err != nil {
			return err
		}
	}
	return nil
}
