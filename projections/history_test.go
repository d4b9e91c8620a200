package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// history writes a random but valid history through the real command
// service: organisations, patents, declarations and withdrawals, open and
// negotiated licences, royalties, transfers, pledges with releases, and
// reviews with corrections. Dates favour month, quarter, year and ISO-week
// boundaries. Commands the domain refuses are simply not recorded.
type history struct {
	t        testing.TB
	svc      *domain.Service
	rng      *rand.Rand
	unis     []string
	firms    []string
	banks    []string
	patents  []histPatent
	decls    []histDecl
	licenses []histLicense
	pledges  []string
	reviews  [][2]string // number, campaign
	accepted int
	refused  int
}

type histPatent struct {
	number    domain.PatentNumber
	granted   domain.Date
	patentees []string
}

type histDecl struct {
	number domain.PatentNumber
	id     string
	on     domain.Date
	fee    domain.FeeTerms
}

type histLicense struct {
	id string
	on domain.Date
}

var (
	histIPC    = []string{"H01M 10/0562", "H01M 4/13", "H01L 23/367", "G06F 17/30", "A61K 31/00", "C12N 15/10"}
	histTitles = []string{"一种固态锂电池电解质", "锂离子电池正极材料及其制备方法", "芯片散热装置", "基于深度学习的图像识别方法",
		"LED芯片封装结构", "一种抗肿瘤药物组合物", "基因编辑载体的构建方法", "电池管理系统"}
	histRegions = []string{"440106", "440105", "440113", "440305", "110108", "310104"}
)

// boundaryDates are the first and last days of every month of 2021–2025
// and the days around ISO week-year changes.
func boundaryDates() []domain.Date {
	var out []domain.Date
	for y := 2021; y <= 2025; y++ {
		for m := 1; m <= 12; m++ {
			first := domain.NewDate(y, time.Month(m), 1)
			out = append(out, first, first.AddMonths(1).AddDays(-1))
		}
	}
	for _, s := range []string{"2021-01-03", "2021-01-04", "2022-01-02", "2022-01-03", "2023-01-01", "2023-01-02",
		"2024-12-29", "2024-12-30", "2025-12-28", "2025-12-29", "2024-02-29"} {
		out = append(out, date(s))
	}
	return out
}

func newHistory(t testing.TB, svc *domain.Service, seed uint64) *history {
	h := &history{t: t, svc: svc, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	serial := 0
	org := func(name string, kind domain.OrgKind, sme bool) string {
		serial++
		region := histRegions[h.rng.IntN(len(histRegions))]
		return registerOrg(t, svc, serial, orgSpec{fmt.Sprintf("%s%d", name, serial), kind, region, sme})
	}
	for range 4 {
		h.unis = append(h.unis, org("大学", domain.OrgUniversity, false))
	}
	for i := range 5 {
		h.firms = append(h.firms, org("企业", domain.OrgEnterprise, i%2 == 0))
	}
	for range 2 {
		h.banks = append(h.banks, org("银行", domain.OrgBank, false))
	}
	return h
}

// run issues steps random commands.
func (h *history) run(steps int) {
	bounds := boundaryDates()
	for range steps {
		if len(h.patents) < 6 || h.rng.IntN(10) == 0 {
			h.record(h.registerPatent())
			continue
		}
		on := h.date(bounds)
		var err error
		switch h.rng.IntN(13) {
		case 0, 1, 2:
			err = h.declare(on)
		case 3:
			err = h.withdraw(on)
		case 4, 5, 6:
			err = h.openLicense(on)
		case 7:
			err = h.negotiatedLicense(on)
		case 8:
			err = h.royalty(on)
		case 9:
			err = h.transfer(on)
		case 10:
			err = h.pledge(on)
		case 11:
			err = h.changeStatus(on)
		default:
			err = h.review(on)
		}
		h.record(err)
	}
}

// date picks a boundary date most of the time, else any day of 2021–2025.
func (h *history) date(bounds []domain.Date) domain.Date {
	if h.rng.IntN(3) > 0 {
		return bounds[h.rng.IntN(len(bounds))]
	}
	return date("2021-01-01").AddDays(h.rng.IntN(5 * 365))
}

func (h *history) record(err error) {
	if err == nil {
		h.accepted++
		return
	}
	if domain.ErrorCode(err) == domain.CodeInternal {
		h.t.Fatalf("command failed: %v", err)
	}
	h.refused++
}

func (h *history) pick(list []string) string { return list[h.rng.IntN(len(list))] }

func (h *history) registerPatent() error {
	kind := []int{1, 1, 1, 2, 3}[h.rng.IntN(5)]
	year := 2019 + h.rng.IntN(2)
	n := patentNumber(h.t, year, kind, len(h.patents)+1)
	filed := domain.NewDate(year, time.Month(1+h.rng.IntN(12)), 1+h.rng.IntN(28))
	owners := []string{h.pick(h.unis)}
	if h.rng.IntN(5) == 0 {
		owners = append(owners, h.pick(h.firms))
	}
	cmd := domain.RegisterPatent{Number: string(n), Title: h.pick(histTitles), Abstract: h.pick(histTitles),
		PatenteeIDs: dedupe(owners), FiledOn: filed, GrantedOn: filed.AddDays(200 + h.rng.IntN(200))}
	if kind == 3 {
		cmd.Locarno = "14-03"
	} else {
		cmd.IPC = []string{h.pick(histIPC), h.pick(histIPC)}
	}
	if _, err := h.svc.RegisterPatent(context.Background(), admin, cmd); err != nil {
		return err
	}
	h.patents = append(h.patents, histPatent{number: n, granted: cmd.GrantedOn, patentees: cmd.PatenteeIDs})
	return nil
}

func (h *history) patent() *histPatent { return &h.patents[h.rng.IntN(len(h.patents))] }

func (h *history) declare(on domain.Date) error {
	p := h.patent()
	fees := []domain.FeeTerms{{Mode: domain.FeeFree}, lumpSum(domain.Fen(1+h.rng.IntN(9)) * 100_000),
		{Mode: domain.FeeInstalment, InstalmentFen: 50_000, Instalments: 3},
		{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales},
		{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 200_000, RoyaltyBP: 100, RoyaltyBase: domain.BaseProfit}}
	fee := fees[h.rng.IntN(len(fees))]
	res, err := h.svc.FileDeclaration(context.Background(), admin, p.number, domain.FileDeclaration{Fee: fee,
		TermMonths: []int{1, 3, 12, 24, 36}[h.rng.IntN(5)], DeclaredOn: on, EvaluationReportRef: "PJ-2021-001",
		CoOwnerConsent: p.patentees})
	if err == nil {
		h.decls = append(h.decls, histDecl{number: p.number, id: res.ID, on: on, fee: fee})
	}
	return err
}

// changeStatus lapses a patent, invalidates it, or makes it active again.
func (h *history) changeStatus(on domain.Date) error {
	status := []domain.PatentStatus{domain.StatusLapsed, domain.StatusLapsed, domain.StatusActive, domain.StatusActive,
		domain.StatusInvalidated}[h.rng.IntN(5)]
	_, err := h.svc.ChangeStatus(context.Background(), admin, h.patent().number, domain.ChangeStatus{Status: &status,
		EffectiveOn: on, Reason: "登记簿变更"})
	return err
}

func (h *history) withdraw(on domain.Date) error {
	if len(h.decls) == 0 {
		return domain.ErrNotFound
	}
	d := h.decls[h.rng.IntN(len(h.decls))]
	p := h.find(d.number)
	_, err := h.svc.WithdrawDeclaration(context.Background(), admin, d.number, domain.WithdrawDeclaration{
		DeclarationID: d.id, EffectiveOn: on, Reason: "调整许可条件", CoOwnerConsent: p.patentees})
	return err
}

func (h *history) openLicense(on domain.Date) error {
	if len(h.decls) == 0 {
		return domain.ErrNotFound
	}
	d := h.decls[h.rng.IntN(len(h.decls))]
	if h.rng.IntN(2) == 0 {
		on = d.on.AddDays(h.rng.IntN(60))
	}
	res, err := h.svc.GrantLicense(context.Background(), admin, d.number, domain.GrantLicense{Type: domain.LicenseOpen,
		LicenseeID: h.pick(h.firms), EffectiveOn: on, FeePaidFen: d.fee.FirstPayment(), DeclarationID: d.id})
	if err == nil {
		h.licenses = append(h.licenses, histLicense{id: res.ID, on: on})
	}
	return err
}

func (h *history) negotiatedLicense(on domain.Date) error {
	p := h.patent()
	typ := []domain.LicenseType{domain.LicenseOrdinary, domain.LicenseOrdinary, domain.LicenseSole, domain.LicenseExclusive}[h.rng.IntN(4)]
	res, err := h.svc.GrantLicense(context.Background(), admin, p.number, domain.GrantLicense{Type: typ,
		LicenseeID: h.pick(h.firms), EffectiveOn: on, EndsOn: on.AddDays(30 + h.rng.IntN(400)),
		FeePaidFen: domain.Fen(h.rng.IntN(3) * 70_000)})
	if err == nil {
		h.licenses = append(h.licenses, histLicense{id: res.ID, on: on})
	}
	return err
}

func (h *history) royalty(on domain.Date) error {
	if len(h.licenses) == 0 {
		return domain.ErrNotFound
	}
	l := h.licenses[h.rng.IntN(len(h.licenses))]
	if on.Before(l.on) {
		on = l.on.AddDays(h.rng.IntN(400))
	}
	_, err := h.svc.PayRoyalty(context.Background(), admin, domain.PayRoyalty{LicenseID: l.id, PaidOn: on,
		AmountFen: domain.Fen(1 + h.rng.IntN(50_000))})
	return err
}

func (h *history) transfer(on domain.Date) error { return h.transferPatent(h.patent(), on) }

// transferPatent transfers p to a random firm or university.
func (h *history) transferPatent(p *histPatent, on domain.Date) error {
	to := []string{h.pick(append(h.firms, h.unis...))}
	_, err := h.svc.TransferPatent(context.Background(), admin, p.number, domain.TransferPatent{ToIDs: to,
		EffectiveOn: on, PriceFen: domain.Fen(h.rng.IntN(4) * 1_000_000), CoOwnerConsent: p.patentees})
	if err == nil {
		p.patentees = to
	}
	return err
}

func (h *history) pledge(on domain.Date) error {
	if len(h.pledges) > 0 && h.rng.IntN(2) == 0 {
		id := h.pledges[h.rng.IntN(len(h.pledges))]
		reason := domain.ReleaseReasons[h.rng.IntN(len(domain.ReleaseReasons))]
		_, err := h.svc.ReleasePledge(context.Background(), admin, domain.ReleasePledge{PledgeID: id, ReleasedOn: on, Reason: reason})
		return err
	}
	p := h.patent()
	numbers := []string{string(p.number)}
	for _, q := range h.patents {
		if q.number != p.number && len(numbers) < 3 && len(q.patentees) == 1 && q.patentees[0] == p.patentees[0] && h.rng.IntN(3) == 0 {
			numbers = append(numbers, string(q.number))
		}
	}
	res, err := h.svc.RegisterPledge(context.Background(), admin, domain.RegisterPledge{PledgorID: p.patentees[0],
		PledgeeID: h.pick(h.banks), Patents: numbers, SecuredAmountFen: domain.Fen(1+h.rng.IntN(100)) * 1_000_000,
		RegisteredOn: on, DebtDueOn: on.AddDays(365), OpenLicenseConsent: h.rng.IntN(2) == 0})
	if err == nil {
		h.pledges = append(h.pledges, res.ID)
	}
	return err
}

func (h *history) review(on domain.Date) error {
	grade := domain.Grades[h.rng.IntN(len(domain.Grades))]
	disposition := domain.Dispositions[h.rng.IntN(len(domain.Dispositions))]
	if len(h.reviews) > 0 && h.rng.IntN(3) == 0 {
		r := h.reviews[h.rng.IntN(len(h.reviews))]
		p := h.find(domain.PatentNumber(r[0]))
		_, err := h.svc.CorrectReview(context.Background(), admin, p.number, domain.RecordReview{Campaign: r[1],
			ReviewedOn: on, Grade: grade, Disposition: disposition, ReviewerID: p.patentees[0]})
		return err
	}
	p := h.patent()
	campaign := []string{"2024", "2025"}[h.rng.IntN(2)]
	_, err := h.svc.RecordReview(context.Background(), admin, p.number, domain.RecordReview{Campaign: campaign,
		ReviewedOn: on, Grade: grade, Disposition: disposition, ReviewerID: p.patentees[0]})
	if err == nil {
		h.reviews = append(h.reviews, [2]string{string(p.number), campaign})
	}
	return err
}

func (h *history) find(n domain.PatentNumber) *histPatent {
	for i := range h.patents {
		if h.patents[i].number == n {
			return &h.patents[i]
		}
	}
	h.t.Fatalf("no patent %s", n)
	return nil
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
