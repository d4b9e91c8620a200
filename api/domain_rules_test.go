package api

// Rules of DOMAIN.md that the domain once got wrong, driven through the
// HTTP API: each refusal answers 409 rule_violation with its rule and
// writes nothing; the boundary day next to it is accepted.

import (
	"testing"
)

// rulesWorld is a university holding one invention (filed 2020-03-15,
// granted 2022-01-10) declared on 2024-01-01 for 36 months at a lump sum
// of 5,000,000 fen, a firm, two SMEs and a bank.
type rulesWorld struct {
	h                     *oasHarness
	uni, firm, sme, sme2  oasOrg
	bank                  oasOrg
	number, declarationID string
}

func newRulesWorld(t *testing.T) *rulesWorld {
	h := oasNewHarness(t, nil)
	w := &rulesWorld{h: h,
		uni:  h.org("华南理工大学", "university", "440106", "12440000455416125", false),
		firm: h.org("广州星能电池科技有限公司", "enterprise", "440113", "91440101MA5CXXXX1", false),
		sme:  h.org("广州芯海微电子有限公司", "enterprise", "440105", "91440101MA5CYYYY2", true),
		sme2: h.org("广州启明光电有限公司", "enterprise", "440106", "91440101MA5CWWWW3", true),
		bank: h.org("中国工商银行广州分行", "bank", "440104", "91440101190452347", false)}
	w.number, _ = oasNumber(t, "202010123456")
	h.do(oasCall{method: "POST", path: "/v1/patents", key: w.uni.key, want: 201, body: map[string]any{
		"number": w.number, "title": "一种固态锂电池电解质", "patentee_ids": []string{w.uni.id}, "ipc": []string{"H01M 10/0562"},
		"filed_on": "2020-03-15", "granted_on": "2022-01-10"}})
	w.declarationID = w.declare("2024-01-01", 36)
	return w
}

// declare files a lump-sum declaration by the university and returns its ID.
func (w *rulesWorld) declare(on string, months int) string {
	return w.h.do(oasCall{method: "POST", path: "/v1/patents/" + w.number + "/declarations", key: w.uni.key, want: 201,
		body: map[string]any{"fee": map[string]any{"mode": "lump_sum", "lump_sum_fen": 5_000_000},
			"term_months": months, "declared_on": on}}).str("declaration_id")
}

// transferToFirm assigns the patent to the firm effective on.
func (w *rulesWorld) transferToFirm(on string) {
	w.h.do(oasCall{method: "POST", path: "/v1/patents/" + w.number + "/transfers", key: w.uni.key, want: 201,
		body: map[string]any{"to_ids": []string{w.firm.id}, "effective_on": on, "price_fen": 0}})
}

// openLicence sends an open licence under declaration taken by licensee.
func (w *rulesWorld) openLicence(licensee oasOrg, declaration, on string, want int, rule string) oasReply {
	c := oasCall{method: "POST", path: "/v1/patents/" + w.number + "/licenses", key: licensee.key, want: want,
		body: map[string]any{"type": "open", "licensee_id": licensee.id, "effective_on": on, "fee_paid_fen": 5_000_000,
			"declaration_id": declaration}}
	return w.refusedOr(c, rule)
}

// refusedOr sends c; when rule is set it must answer 409 with that rule
// and leave the ledger's head where it was.
func (w *rulesWorld) refusedOr(c oasCall, rule string) oasReply {
	if rule == "" {
		return w.h.do(c)
	}
	before := inputHead(w.h)
	c.code, c.rule = "rule_violation", rule
	r := w.h.do(c)
	if after := inputHead(w.h); after != before {
		w.h.t.Errorf("%s: the head moved from %d to %d", c.name(), before, after)
	}
	return r
}

// TestAPISelfLicenseOnTheEffectiveDate: the former patentee cannot take an
// open licence dated when it still held the patent.
func TestAPISelfLicenseOnTheEffectiveDate(t *testing.T) {
	w := newRulesWorld(t)
	w.transferToFirm("2024-06-01")
	w.openLicence(w.uni, w.declarationID, "2024-05-31", 409, "self_license")
	w.openLicence(w.uni, w.declarationID, "2024-06-01", 201, "")
}

// TestAPIPledgorIsAPatenteeOnTheRegistrationDate: a pledge cannot be
// registered before its pledgor became a patentee.
func TestAPIPledgorIsAPatenteeOnTheRegistrationDate(t *testing.T) {
	w := newRulesWorld(t)
	w.transferToFirm("2024-06-01")
	pledge := func(on string, want int, rule string) {
		w.refusedOr(oasCall{method: "POST", path: "/v1/pledges", key: w.bank.key, want: want, body: map[string]any{
			"pledgor_id": w.firm.id, "pledgee_id": w.bank.id, "patents": []string{w.number}, "secured_amount_fen": 100_000_000,
			"registered_on": on, "debt_due_on": "2027-06-01", "open_license_consent": true}}, rule)
	}
	pledge("2024-05-31", 409, "not_patentee")
	pledge("2024-06-01", 201, "")
}

// TestAPIOpenLicencesSurvivingAWithdrawal: after a withdrawal, an open
// licence taken before it keeps sole and exclusive licences out until it
// ends.
func TestAPIOpenLicencesSurvivingAWithdrawal(t *testing.T) {
	w := newRulesWorld(t)
	w.openLicence(w.sme, w.declarationID, "2024-03-01", 201, "")
	w.h.do(oasCall{method: "POST", path: "/v1/patents/" + w.number + "/declarations/" + w.declarationID + "/withdrawal",
		key: w.uni.key, want: 200, body: map[string]any{"effective_on": "2024-06-01", "reason": "改为独占许可"}})
	exclusive := func(from, to string, want int, rule string) {
		w.refusedOr(oasCall{method: "POST", path: "/v1/patents/" + w.number + "/licenses", key: w.uni.key, want: want,
			body: map[string]any{"type": "exclusive", "licensee_id": w.sme2.id, "effective_on": from, "ends_on": to,
				"fee_paid_fen": 0}}, rule)
	}
	exclusive("2024-06-01", "2025-05-31", 409, "open_license_active")
	exclusive("2026-12-31", "2027-06-30", 409, "open_license_active")
	exclusive("2027-01-01", "2027-06-30", 201, "")
}

// TestAPITermEndsOnTheMonthsLastDay: a one-month declaration from
// 2024-03-31 is in effect on 2024-04-30 and not on 2024-05-01.
func TestAPITermEndsOnTheMonthsLastDay(t *testing.T) {
	w := newRulesWorld(t)
	w.h.do(oasCall{method: "POST", path: "/v1/patents/" + w.number + "/declarations/" + w.declarationID + "/withdrawal",
		key: w.uni.key, want: 200, body: map[string]any{"effective_on": "2024-03-01", "reason": "改按月声明"}})
	monthly := w.declare("2024-03-31", 1)
	w.openLicence(w.sme, monthly, "2024-05-01", 409, "declaration_not_in_effect")
	w.openLicence(w.sme, monthly, "2024-04-30", 201, "")
}
