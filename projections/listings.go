package projections

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// Listings is the read model of GET /v1/listings: every declaration with its
// dates (whether one is in effect is decided at query time, from the date),
// the patents ever declared in a full-text index, the patentees' regions,
// and the patents' register status changes: a patent that is not active
// on the day asked (lapsed, invalidated, abandoned) is not listed, since no
// one can take a licence of it (DOMAIN.md, patent_not_active).
type Listings struct{}

var _ Projection = Listings{}

// Name implements Projection.
func (Listings) Name() string { return ListingsName }

// Tables implements Projection.
func (Listings) Tables() []string {
	return []string{"lst_orgs", "lst_patents", "lst_patentees", "lst_declarations", "lst_search", "lst_patent_status", "lst_pledges",
		"lst_suspensions"}
}

// Schema implements Projection. A patent enters the search index on its
// first declaration; the index also holds the IPC codes (see CodeTokens),
// which the ipc filter searches by prefix. The contentless index keeps no
// text, so lst_patents keeps the abstract for the in-memory search index
// to load. last_day is the last day a declaration is in effect: the end of
// its term, or the day before its withdrawal takes effect. fee_fen is the
// fixed part of the fee (lump sum, every instalment, or entry fee; 0 for
// free and royalty-only terms).
func (Listings) Schema() []string {
	return []string{
		`CREATE TABLE lst_orgs (id TEXT PRIMARY KEY, region TEXT NOT NULL) STRICT, WITHOUT ROWID`,
		`CREATE TABLE lst_patents (
			id           INTEGER PRIMARY KEY,
			number       TEXT NOT NULL UNIQUE,
			kind         TEXT NOT NULL,
			title        TEXT NOT NULL,
			abstract     TEXT NOT NULL,
			ipc          TEXT NOT NULL,
			patentee_ids TEXT NOT NULL,
			locarno      TEXT NOT NULL DEFAULT '',
			indexed      INTEGER NOT NULL DEFAULT 0
		) STRICT`,
		`CREATE TABLE lst_patentees (number TEXT NOT NULL, org_id TEXT NOT NULL, PRIMARY KEY (number, org_id)) STRICT, WITHOUT ROWID`,
		`CREATE INDEX lst_patentees_org ON lst_patentees (org_id)`,
		`CREATE TABLE lst_declarations (
			number         TEXT NOT NULL,
			declaration_id TEXT NOT NULL,
			fee            TEXT NOT NULL,
			fee_mode       TEXT NOT NULL,
			fee_fen        INTEGER NOT NULL,
			declared_on    TEXT NOT NULL,
			term_ends_on   TEXT NOT NULL,
			last_day       TEXT NOT NULL,
			licenses       INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (number, declaration_id)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX lst_declarations_last_day ON lst_declarations (last_day)`,
		`CREATE VIRTUAL TABLE lst_search USING fts5(title, abstract, codes, content='', tokenize='ascii') ` + tokensVersion,
		`CREATE TABLE lst_patent_status (number TEXT NOT NULL, effective_on TEXT NOT NULL, seq INTEGER NOT NULL,
			active INTEGER NOT NULL, PRIMARY KEY (number, effective_on, seq)) STRICT, WITHOUT ROWID`,
		`CREATE TABLE lst_pledges (number TEXT NOT NULL, pledge_id TEXT NOT NULL, registered_on TEXT NOT NULL,
			consented_on TEXT, released_on TEXT, PRIMARY KEY (number, pledge_id)) STRICT, WITHOUT ROWID`,
		`CREATE TABLE lst_suspensions (number TEXT NOT NULL, effective_on TEXT NOT NULL, seq INTEGER NOT NULL,
			suspended INTEGER NOT NULL, PRIMARY KEY (number, effective_on, seq)) STRICT, WITHOUT ROWID`,
	}
}

// tokensVersion names, in the schema, how the search index's tokens are
// made (see tokenize.go): changing how texts are folded or split changes
// it, and with it the listings' fingerprint, so that an upgraded server
// rebuilds the index rather than match new query tokens against old ones.
const tokensVersion = "/* tokens: NFKC, traditional as simplified, CJK bigrams */"

// Apply implements Projection. A status or suspension change's seq is its
// position: of two changes effective on one day, the later recorded wins,
// as in the domain.
func (Listings) Apply(tx *Tx, e domain.RecordedEvent, ev domain.Event) error {
	switch ev.(type) {
	case domain.OrgRegistered, domain.PatentRegistered, domain.DeclarationFiled, domain.DeclarationWithdrawn, domain.PatentTransferred,
		domain.PatentStatusChanged:
		tx.listingEvents = append(tx.listingEvents, ev) // mirrored by the search index on commit
	}
	switch v := ev.(type) {
	case domain.OrgRegistered:
		return tx.Exec("INSERT INTO lst_orgs (id, region) VALUES (?, ?)", v.OrgID, string(v.RegionCode))
	case domain.PatentRegistered:
		return listPatent(tx, v)
	case domain.DeclarationFiled:
		return listDeclaration(tx, v)
	case domain.DeclarationWithdrawn:
		return tx.Exec("UPDATE lst_declarations SET last_day = min(last_day, ?) WHERE number = ? AND declaration_id = ?",
			v.EffectiveOn.AddDays(-1).String(), string(v.Number), v.DeclarationID)
	case domain.LicenseGranted:
		if v.Type != domain.LicenseOpen {
			return nil
		}
		return tx.Exec("UPDATE lst_declarations SET licenses = licenses + 1 WHERE number = ? AND declaration_id = ?",
			string(v.Number), v.DeclarationID)
	case domain.PatentTransferred:
		return setPatentees(tx, v.Number, v.ToIDs)
	case domain.PatentStatusChanged:
		return tx.Exec("INSERT INTO lst_patent_status (number, effective_on, seq, active) VALUES (?, ?, ?, ?)",
			string(v.Number), v.EffectiveOn.String(), e.Position, v.Status == domain.StatusActive)
	case domain.PatentSuspensionChanged:
		return tx.Exec("INSERT INTO lst_suspensions (number, effective_on, seq, suspended) VALUES (?, ?, ?, ?)",
			string(v.Number), v.EffectiveOn.String(), e.Position, v.Suspended)
	}
	return applyPledge(tx, ev)
}

// applyPledge records the dates of a pledge of a patent: registered,
// consented to open licensing (on registration when the pledgee consented
// then), released. Listings read them to say whether a pledge without
// consent blocks licences on the day asked (DOMAIN.md, pledged_without_consent).
func applyPledge(tx *Tx, ev domain.Event) error {
	switch v := ev.(type) {
	case domain.PledgeRegistered:
		var consented *string
		if v.OpenLicenseConsent {
			on := v.RegisteredOn.String()
			consented = &on
		}
		return tx.Exec("INSERT INTO lst_pledges (number, pledge_id, registered_on, consented_on) VALUES (?, ?, ?, ?)",
			string(v.Number), v.PledgeID, v.RegisteredOn.String(), consented)
	case domain.PledgeConsented:
		return tx.Exec("UPDATE lst_pledges SET consented_on = ? WHERE number = ? AND pledge_id = ?",
			v.ConsentedOn.String(), string(v.Number), v.PledgeID)
	case domain.PledgeReleased:
		return tx.Exec("UPDATE lst_pledges SET released_on = ? WHERE number = ? AND pledge_id = ?",
			v.ReleasedOn.String(), string(v.Number), v.PledgeID)
	}
	return nil
}

// listPatent records a registered patent and its IPC codes and patentees.
func listPatent(tx *Tx, v domain.PatentRegistered) error {
	ipc, err := json.Marshal(ipcStrings(v.IPC))
	if err != nil {
		return err
	}
	owners, err := json.Marshal(v.PatenteeIDs)
	if err != nil {
		return err
	}
	err = tx.Exec(`INSERT INTO lst_patents (number, kind, title, abstract, ipc, patentee_ids, locarno) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(v.Number), string(v.Kind), v.Title, v.Abstract, string(ipc), string(owners), v.Locarno)
	if err != nil {
		return err
	}
	return insertPatentees(tx, v.Number, v.PatenteeIDs)
}

// insertPatentees records the patentees of a patent.
func insertPatentees(tx *Tx, number domain.PatentNumber, ids []string) error {
	for _, id := range ids {
		if err := tx.Exec("INSERT OR IGNORE INTO lst_patentees (number, org_id) VALUES (?, ?)", string(number), id); err != nil {
			return err
		}
	}
	return nil
}

// setPatentees replaces the patentees of a patent after a transfer.
func setPatentees(tx *Tx, number domain.PatentNumber, ids []string) error {
	if err := tx.Exec("DELETE FROM lst_patentees WHERE number = ?", string(number)); err != nil {
		return err
	}
	if err := insertPatentees(tx, number, ids); err != nil {
		return err
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return tx.Exec("UPDATE lst_patents SET patentee_ids = ? WHERE number = ?", string(list), string(number))
}

// listDeclaration records a declaration and puts its patent in the search
// index if it is not there yet.
func listDeclaration(tx *Tx, v domain.DeclarationFiled) error {
	fee, err := json.Marshal(v.Fee)
	if err != nil {
		return err
	}
	err = tx.Exec(`INSERT INTO lst_declarations (declaration_id, number, fee, fee_mode, fee_fen, declared_on, term_ends_on, last_day)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.DeclarationID, string(v.Number), string(fee), string(v.Fee.Mode),
		int64(v.Fee.FixedTotal()), v.DeclaredOn.String(), v.TermEndsOn.String(), v.TermEndsOn.String())
	if err != nil {
		return err
	}
	return indexPatent(tx, v.Number)
}

// indexPatent adds a patent's title, abstract, IPC codes and Locarno
// class to the search index, once.
func indexPatent(tx *Tx, number domain.PatentNumber) error {
	var id int64
	var title, abstract, ipc, locarno string
	var indexed bool
	err := tx.QueryRow("SELECT id, title, abstract, ipc, locarno, indexed FROM lst_patents WHERE number = ?", string(number)).
		Scan(&id, &title, &abstract, &ipc, &locarno, &indexed)
	if err != nil {
		return fmt.Errorf("patent %s: %w", number, err)
	}
	if indexed {
		return nil
	}
	var codes []domain.IPCCode
	if err := json.Unmarshal([]byte(ipc), &codes); err != nil {
		return err
	}
	err = tx.Exec("INSERT INTO lst_search (rowid, title, abstract, codes) VALUES (?, ?, ?, ?)",
		id, IndexTokens(title), IndexTokens(abstract), CodeTokens(codes, locarno))
	if err != nil {
		return err
	}
	return tx.Exec("UPDATE lst_patents SET indexed = 1 WHERE id = ?", id)
}

// ipcStrings returns codes as strings, an empty list rather than nil.
func ipcStrings(codes []domain.IPCCode) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return out
}

// compactIPC drops the spaces of an IPC code or prefix: "H01M 10/0525"
// becomes "H01M10/0525", so that a prefix is a range of an index.
func compactIPC[S ~string](c S) string { return strings.ReplaceAll(string(c), " ", "") }
