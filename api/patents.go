package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

func (s *Server) registerPatent(c echo.Context) error {
	var cmd domain.RegisterPatent
	req, err := writeContext(c, &cmd)
	if err != nil {
		return err
	}
	res, err := s.svc.RegisterPatent(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	ev := res.Events[0].(domain.PatentRegistered)
	return written(c, http.StatusCreated, res, map[string]any{"number": ev.Number, "kind": ev.Kind, "expires_on": ev.ExpiresOn})
}

func (s *Server) changeStatus(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", onPatent(c, s.svc.ChangeStatus))
}

func (s *Server) fileDeclaration(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "declaration_id", onPatent(c, s.svc.FileDeclaration))
}

func (s *Server) withdrawDeclaration(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", onPatent(c, func(ctx context.Context, req domain.Request, n domain.PatentNumber, cmd domain.WithdrawDeclaration) (domain.Result, error) {
		cmd.DeclarationID = c.Param("declaration_id")
		return s.svc.WithdrawDeclaration(ctx, req, n, cmd)
	}))
}

func (s *Server) grantLicense(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "license_id", onPatent(c, s.svc.GrantLicense))
}

func (s *Server) transferPatent(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "transfer_id", onPatent(c, s.svc.TransferPatent))
}

func (s *Server) recordReview(c echo.Context) error {
	return runWrite(c, http.StatusCreated, "", onPatent(c, s.svc.RecordReview))
}

// correctReview takes the campaign from the path; a body that names another
// campaign is refused.
func (s *Server) correctReview(c echo.Context) error {
	return runWrite(c, http.StatusOK, "", onPatent(c, func(ctx context.Context, req domain.Request, n domain.PatentNumber, cmd domain.RecordReview) (domain.Result, error) {
		campaign := c.Param("campaign")
		if cmd.Campaign != "" && cmd.Campaign != campaign {
			return domain.Result{}, domain.Invalid("campaign", "the body names campaign %s, the path %s", domain.Quote(cmd.Campaign), domain.Quote(campaign))
		}
		cmd.Campaign = campaign
		return s.svc.CorrectReview(ctx, req, n, cmd)
	}))
}

// patentView is a patent as GET /v1/patents/{number} shows it.
type patentView struct {
	Number           domain.PatentNumber        `json:"number"`
	Kind             domain.PatentKind          `json:"kind"`
	Title            string                     `json:"title"`
	Abstract         string                     `json:"abstract"`
	IPC              []domain.IPCCode           `json:"ipc"`
	Locarno          string                     `json:"locarno,omitempty"`
	PatenteeIDs      []string                   `json:"patentee_ids"`
	FiledOn          domain.Date                `json:"filed_on"`
	GrantedOn        domain.Date                `json:"granted_on"`
	ExpiresOn        domain.Date                `json:"expires_on"`
	Status           domain.PatentStatus        `json:"status"`
	Suspended        bool                       `json:"suspended"`
	AnnualFeeOverdue bool                       `json:"annual_fee_overdue"`
	Declaration      *declarationView           `json:"declaration"`
	Declarations     []declarationView          `json:"declarations"`
	Licenses         []licenseView              `json:"licenses"`
	Pledges          []pledgeView               `json:"pledges"`
	Reviews          []domain.ReviewRecorded    `json:"reviews"`
	Transfers        []domain.PatentTransferred `json:"transfers"`
	FeeReductions    []domain.YearReduction     `json:"fee_reductions"`
	Version          int64                      `json:"version"`
}

type declarationView struct {
	DeclarationID       string          `json:"declaration_id"`
	Fee                 domain.FeeTerms `json:"fee"`
	FeeDescription      string          `json:"fee_description"`
	TermMonths          int             `json:"term_months"`
	DeclaredOn          domain.Date     `json:"declared_on"`
	TermEndsOn          domain.Date     `json:"term_ends_on"`
	EvaluationReportRef string          `json:"evaluation_report_ref,omitempty"`
	OtherTerms          string          `json:"other_terms,omitempty"`
	WithdrawnOn         domain.Date     `json:"withdrawn_on"`
	WithdrawalReason    string          `json:"withdrawal_reason,omitempty"`
}

type licenseView struct {
	LicenseID     string             `json:"license_id"`
	Type          domain.LicenseType `json:"type"`
	LicenseeID    string             `json:"licensee_id"`
	EffectiveOn   domain.Date        `json:"effective_on"`
	EndsOn        domain.Date        `json:"ends_on"`
	FeePaidFen    domain.Fen         `json:"fee_paid_fen"`
	DeclarationID string             `json:"declaration_id,omitempty"`
	RecordNo      string             `json:"record_no,omitempty"`
	RecordedOn    domain.Date        `json:"recorded_on"`
	RoyaltiesFen  domain.Fen         `json:"royalties_fen"`
}

type pledgeView struct {
	PledgeID           string                `json:"pledge_id"`
	RegistrationNo     string                `json:"registration_no,omitempty"`
	PledgorID          string                `json:"pledgor_id"`
	PledgeeID          string                `json:"pledgee_id"`
	Patents            []domain.PatentNumber `json:"patents"`
	SecuredAmountFen   domain.Fen            `json:"secured_amount_fen"`
	RegisteredOn       domain.Date           `json:"registered_on"`
	DebtDueOn          domain.Date           `json:"debt_due_on"`
	OpenLicenseConsent bool                  `json:"open_license_consent"`
	ConsentedOn        domain.Date           `json:"consented_on"`
	ReleasedOn         domain.Date           `json:"released_on"`
	ReleaseReason      domain.ReleaseReason  `json:"release_reason,omitempty"`
}

func (s *Server) getPatent(c echo.Context) error {
	n, err := patentParam(c)
	if err != nil {
		return err
	}
	if err := s.waitForStore(c); err != nil {
		return err
	}
	p, err := s.svc.LoadPatent(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, viewPatent(p, s.svc.Today()))
}

// viewPatent renders the state of a patent as of today.
func viewPatent(p *domain.Patent, today domain.Date) patentView {
	v := patentView{Number: p.Number, Kind: p.Kind, Title: p.Title, Abstract: p.Abstract, IPC: p.IPC,
		Locarno: p.Locarno, PatenteeIDs: p.PatenteeIDs, FiledOn: p.FiledOn, GrantedOn: p.GrantedOn,
		ExpiresOn: p.ExpiresOn, Status: p.StatusOn(today), Suspended: p.SuspendedOn(today),
		AnnualFeeOverdue: p.AnnualFeeOverdueOn(today), Version: p.Version(),
		Declarations: []declarationView{}, Licenses: []licenseView{}, Pledges: []pledgeView{},
		Reviews: []domain.ReviewRecorded{}, Transfers: p.Transfers}
	if v.Transfers == nil {
		v.Transfers = []domain.PatentTransferred{}
	}
	if v.FeeReductions = p.FeeReductions(); v.FeeReductions == nil {
		v.FeeReductions = []domain.YearReduction{}
	}
	if v.IPC == nil {
		v.IPC = []domain.IPCCode{}
	}
	for _, d := range p.Declarations {
		v.Declarations = append(v.Declarations, viewDeclaration(d))
	}
	if d := p.DeclarationInEffect(today); d != nil && v.Status == domain.StatusActive {
		dv := viewDeclaration(d) // a patent not active offers nothing, as the listings say
		v.Declaration = &dv
	}
	for _, l := range p.Licenses {
		v.Licenses = append(v.Licenses, licenseView{LicenseID: l.LicenseID, Type: l.Type, LicenseeID: l.LicenseeID,
			EffectiveOn: l.EffectiveOn, EndsOn: l.EndsOn, FeePaidFen: l.FeePaidFen, DeclarationID: l.DeclarationID,
			RecordNo: l.RecordNo, RecordedOn: l.RecordedOn, RoyaltiesFen: l.RoyaltiesFen})
	}
	for _, pl := range p.Pledges {
		v.Pledges = append(v.Pledges, pledgeView{PledgeID: pl.PledgeID, RegistrationNo: pl.RegistrationNo,
			PledgorID: pl.PledgorID, PledgeeID: pl.PledgeeID, Patents: pl.Patents, SecuredAmountFen: pl.SecuredAmountFen,
			RegisteredOn: pl.RegisteredOn, DebtDueOn: pl.DebtDueOn, OpenLicenseConsent: pl.OpenLicenseConsent,
			ConsentedOn: pl.ConsentedOn, ReleasedOn: pl.ReleasedOn, ReleaseReason: pl.ReleaseReason})
	}
	for _, r := range p.Reviews {
		v.Reviews = append(v.Reviews, *r)
	}
	sort.Slice(v.Reviews, func(i, j int) bool { return v.Reviews[i].Campaign < v.Reviews[j].Campaign })
	return v
}

func viewDeclaration(d *domain.Declaration) declarationView {
	return declarationView{DeclarationID: d.DeclarationID, Fee: d.Fee, FeeDescription: d.Fee.Describe("zh"),
		TermMonths: d.TermMonths, DeclaredOn: d.DeclaredOn, TermEndsOn: d.TermEndsOn,
		EvaluationReportRef: d.EvaluationReportRef, OtherTerms: d.OtherTerms,
		WithdrawnOn: d.WithdrawnOn, WithdrawalReason: d.WithdrawalReason}
}

// historyEntry is one event of a patent's history.
type historyEntry struct {
	Position   int64           `json:"position"`
	Version    int64           `json:"version"`
	Type       string          `json:"type"`
	RecordedAt string          `json:"recorded_at"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
}

// maxHistory bounds one page of history; after_version pages on.
const maxHistory = 1000

// setNextPageLink tells the client that more follows the page that ends at
// last (a version or a position, the value of the query parameter after):
// a Link header (RFC 8288) with rel="next" to the next page of the same size.
func setNextPageLink(c echo.Context, after string, last, limit int64) {
	next := url.URL{Path: c.Request().URL.Path, RawQuery: url.Values{
		after: {strconv.FormatInt(last, 10)}, "limit": {strconv.FormatInt(limit, 10)}}.Encode()}
	c.Response().Header().Set("Link", "<"+next.String()+`>; rel="next"`)
}

// historyPage reads a page of a patent's events: at most limit after
// version after, and the version after which the next page starts (0 when
// none follows).
func (s *Server) historyPage(ctx context.Context, n domain.PatentNumber, after int64, limit int) ([]domain.RecordedEvent, int64, error) {
	events, err := s.store.ReadStream(ctx, domain.PatentStream(n), after, limit+1)
	if err != nil || len(events) <= limit {
		return events, 0, err
	}
	return events[:limit], events[limit-1].Version, nil
}

func (s *Server) patentHistory(c echo.Context) error {
	if _, err := requireReader(c); err != nil {
		return err
	}
	n, err := patentParam(c)
	if err != nil {
		return err
	}
	if err := s.waitForStore(c); err != nil {
		return err
	}
	after, err := intQuery(c, "after_version", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", maxHistory, 1, maxHistory)
	if err != nil {
		return err
	}
	events, next, err := s.historyPage(c.Request().Context(), n, after, int(limit))
	if err != nil {
		return err
	}
	if len(events) == 0 && after == 0 {
		return domain.NotFound("number", "no patent %s", n)
	}
	if next > 0 {
		setNextPageLink(c, "after_version", next, limit)
	}
	out := make([]historyEntry, len(events))
	for i, e := range events {
		out[i] = historyEntry{Position: e.Position, Version: e.Version, Type: e.Type,
			RecordedAt: e.Meta.RecordedAt.UTC().Format(LogTimeLayout), Actor: e.Meta.Actor, Data: json.RawMessage(e.Data)}
	}
	return writeJSON(c, http.StatusOK, out)
}
