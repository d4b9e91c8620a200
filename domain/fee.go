package domain

import (
	"fmt"
	"slices"
	"strings"
)

// FeeMode is the fee payment method of an open-licence declaration.
type FeeMode string

// The fee modes of DOMAIN.md.
const (
	FeeFree             FeeMode = "free"
	FeeLumpSum          FeeMode = "lump_sum"
	FeeInstalment       FeeMode = "instalment"
	FeeRoyalty          FeeMode = "royalty"
	FeeEntryPlusRoyalty FeeMode = "entry_plus_royalty"
)

// feeModes lists every FeeMode.
var feeModes = []FeeMode{FeeFree, FeeLumpSum, FeeInstalment, FeeRoyalty, FeeEntryPlusRoyalty}

// ParseFeeMode parses a fee mode (surrounding spaces and case ignored). It
// returns an invalid_argument *Error for an unknown mode.
func ParseFeeMode(s string) (FeeMode, error) {
	m := FeeMode(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(feeModes, m) {
		return "", invalidValue("unknown fee mode %s; want free, lump_sum, instalment, royalty or entry_plus_royalty", Quote(s))
	}
	return m, nil
}

// RoyaltyBase is what a royalty rate applies to.
type RoyaltyBase string

// The royalty bases of DOMAIN.md.
const (
	BaseNetSales RoyaltyBase = "net_sales"
	BaseProfit   RoyaltyBase = "profit"
)

// Limits of fee terms: the highest royalty rate in basis points (1% = 100
// bp), the most instalments (one a week over a patent's 20 years comes to
// about 1,040), and the fixed total above which Warnings speaks up.
const (
	maxRoyaltyBP       = 10_000
	maxInstalments     = 1_200
	warnFixedTotal Fen = 2_000_000_000 // ¥20,000,000
)

// royaltyWarnBP are the guidance ceilings of CNIPA notice 19 per base.
var royaltyWarnBP = map[RoyaltyBase]int{BaseNetSales: 2000, BaseProfit: 4000}

// royaltyBaseWords names each base in Chinese and English.
var royaltyBaseWords = map[RoyaltyBase][2]string{
	BaseNetSales: {"净销售额", "net sales"},
	BaseProfit:   {"利润", "profit"},
}

// FeeTerms are the fee payment method and standard of an open-licence
// declaration.
type FeeTerms struct {
	Mode          FeeMode     `json:"mode"`
	LumpSumFen    Fen         `json:"lump_sum_fen,omitempty"`
	InstalmentFen Fen         `json:"instalment_fen,omitempty"`
	Instalments   int         `json:"instalments,omitempty"`
	EntryFeeFen   Fen         `json:"entry_fee_fen,omitempty"`
	RoyaltyBP     int         `json:"royalty_bp,omitempty"`
	RoyaltyBase   RoyaltyBase `json:"royalty_base,omitempty"`
}

// feeFieldUse says which fields a mode uses; each used field is required.
type feeFieldUse struct{ lumpSum, instalment, entryFee, royalty bool }

// feeModeUses maps each mode to the fields it uses.
var feeModeUses = map[FeeMode]feeFieldUse{
	FeeFree:             {},
	FeeLumpSum:          {lumpSum: true},
	FeeInstalment:       {instalment: true},
	FeeRoyalty:          {royalty: true},
	FeeEntryPlusRoyalty: {entryFee: true, royalty: true},
}

// Validate checks t. An empty or unknown Mode, or an unknown non-empty
// RoyaltyBase, is an invalid_argument *Error naming "mode" or
// "royalty_base". Otherwise a missing required field, a negative amount, an
// amount above MaxFen, a rate outside 1–10000 bp, fewer than 2 instalments or
// a field the mode does not use is a rule_violation *Error with rule
// invalid_fee_terms whose Fields name every offending field.
func (t FeeTerms) Validate() error {
	if err := t.checkNames(); err != nil {
		return err
	}
	problems := t.ruleProblems()
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Message
	}
	e := Violation(RuleInvalidFeeTerms, "invalid %s fee terms: %s", t.Mode, strings.Join(msgs, "; "))
	e.Fields = problems
	return e
}

// FirstPayment returns what a licensee pays on taking the licence: the lump
// sum, the first instalment or the entry fee; 0 for free and royalty terms.
func (t FeeTerms) FirstPayment() Fen {
	switch t.Mode {
	case FeeLumpSum:
		return t.LumpSumFen
	case FeeInstalment:
		return t.InstalmentFen
	case FeeEntryPlusRoyalty:
		return t.EntryFeeFen
	}
	return 0
}

// FixedTotal returns the fixed part of the fee: the lump sum, instalment ×
// count, or the entry fee; 0 otherwise. It is meaningful for valid terms.
func (t FeeTerms) FixedTotal() Fen {
	if t.Mode == FeeInstalment {
		return t.InstalmentFen * Fen(t.Instalments)
	}
	return t.FirstPayment()
}

// Warnings returns the soft limits t exceeds (CNIPA notice 19 guidance): a
// fixed fee above ¥20,000,000, a royalty above 20% of net sales or above 40%
// of profit. They are warnings, not refusals; nil when there are none.
func (t FeeTerms) Warnings() []string { return t.WarningsIn("en") }

// WarningsIn is Warnings in lang: "en" for English, Chinese otherwise.
func (t FeeTerms) WarningsIn(lang string) []string {
	en := strings.HasPrefix(strings.ToLower(lang), "en")
	var w []string
	if total := t.FixedTotal(); total > warnFixedTotal && en {
		w = append(w, fmt.Sprintf("the fixed fee of %s is above the guidance ceiling of %s; check the amount", total, warnFixedTotal))
	} else if total > warnFixedTotal {
		w = append(w, fmt.Sprintf("固定费用 %s 高于指导上限 %s，请核对金额", total, warnFixedTotal))
	}
	if limit, ok := royaltyWarnBP[t.RoyaltyBase]; ok && t.RoyaltyBP > limit && en {
		w = append(w, fmt.Sprintf("a royalty of %s on %s is above the guidance ceiling of %s",
			percent(t.RoyaltyBP), t.baseWord(1), percent(limit)))
	} else if ok && t.RoyaltyBP > limit {
		w = append(w, fmt.Sprintf("按%s %s 的提成高于指导上限 %s", t.baseWord(0), percent(t.RoyaltyBP), percent(limit)))
	}
	return w
}

// Describe puts t in words in lang: "en" for English, Chinese otherwise, e.g.
// "分期支付 ¥10,000.00 × 5 期" or "5 instalments of ¥10,000.00".
func (t FeeTerms) Describe(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return t.describeEnglish()
	}
	return t.describeChinese()
}

// describeChinese puts t in Chinese words.
func (t FeeTerms) describeChinese() string {
	royalty := fmt.Sprintf("按%s的 %s 提成", t.baseWord(0), percent(t.RoyaltyBP))
	switch t.Mode {
	case FeeFree:
		return "免费"
	case FeeLumpSum:
		return "一次性支付 " + t.LumpSumFen.String()
	case FeeInstalment:
		return fmt.Sprintf("分期支付 %s × %d 期", t.InstalmentFen, t.Instalments)
	case FeeRoyalty:
		return royalty
	case FeeEntryPlusRoyalty:
		return "入门费 " + t.EntryFeeFen.String() + " + " + royalty
	}
	return string(t.Mode)
}

// describeEnglish puts t in English words.
func (t FeeTerms) describeEnglish() string {
	royalty := fmt.Sprintf("%s royalty on %s", percent(t.RoyaltyBP), t.baseWord(1))
	switch t.Mode {
	case FeeFree:
		return "Free"
	case FeeLumpSum:
		return "Lump sum " + t.LumpSumFen.String()
	case FeeInstalment:
		return fmt.Sprintf("%d instalments of %s", t.Instalments, t.InstalmentFen)
	case FeeRoyalty:
		return royalty
	case FeeEntryPlusRoyalty:
		return "Entry fee " + t.EntryFeeFen.String() + " + " + royalty
	}
	return string(t.Mode)
}

// baseWord names the royalty base in language i (0 Chinese, 1 English).
func (t FeeTerms) baseWord(i int) string {
	if w, ok := royaltyBaseWords[t.RoyaltyBase]; ok {
		return w[i]
	}
	return string(t.RoyaltyBase)
}

// checkNames rejects an empty or unknown mode and an unknown royalty base.
func (t FeeTerms) checkNames() error {
	var fe FieldErrors
	switch {
	case t.Mode == "":
		fe.Addf("mode", "fee mode is required; want free, lump_sum, instalment, royalty or entry_plus_royalty")
	case !slices.Contains(feeModes, t.Mode):
		fe.Addf("mode", "unknown fee mode %s; want free, lump_sum, instalment, royalty or entry_plus_royalty", Quote(string(t.Mode)))
	}
	if _, ok := royaltyBaseWords[t.RoyaltyBase]; t.RoyaltyBase != "" && !ok {
		fe.Addf("royalty_base", "unknown royalty base %s; want net_sales or profit", Quote(string(t.RoyaltyBase)))
	}
	return fe.Err()
}

// ruleProblems lists the fields of t that break the rules of its mode.
func (t FeeTerms) ruleProblems() []FieldError {
	use := feeModeUses[t.Mode]
	var p feeProblems
	p.amount("lump_sum_fen", t.LumpSumFen, use.lumpSum, t.Mode)
	p.amount("instalment_fen", t.InstalmentFen, use.instalment, t.Mode)
	p.instalments(t, use.instalment)
	p.amount("entry_fee_fen", t.EntryFeeFen, use.entryFee, t.Mode)
	p.rate(t.RoyaltyBP, use.royalty, t.Mode)
	p.base(t.RoyaltyBase, use.royalty, t.Mode)
	return p
}

// feeProblems collects the rule problems of fee terms, one per field.
type feeProblems []FieldError

// add records a problem with field; the message starts with the field name.
func (p *feeProblems) add(field, format string, args ...any) {
	fe := fieldError(field, format, args...)
	fe.Message = field + " " + fe.Message
	*p = append(*p, fe)
}

// unused records field when it is set although mode does not use it.
func (p *feeProblems) unused(field string, set bool, mode FeeMode) {
	if set {
		p.add(field, "is not used by fee mode %s; leave it out", mode)
	}
}

// amount checks an amount field.
func (p *feeProblems) amount(field string, v Fen, used bool, mode FeeMode) {
	switch {
	case !used:
		p.unused(field, v != 0, mode)
	case v < 0:
		p.add(field, "must not be negative, got %d", v)
	case v == 0:
		p.add(field, "is required for fee mode %s and must be greater than 0", mode)
	case v > MaxFen:
		p.add(field, "is above the ceiling of %s", MaxFen)
	}
}

// instalments checks the number of instalments and their total.
func (p *feeProblems) instalments(t FeeTerms, used bool) {
	switch {
	case !used:
		p.unused("instalments", t.Instalments != 0, t.Mode)
	case t.Instalments == 0: // left out, 0, or blank on a form
		p.add("instalments", "is missing or 0: fee mode %s needs at least 2", t.Mode)
	case t.Instalments < 2:
		p.add("instalments", "must be at least 2 for fee mode %s, got %d", t.Mode, t.Instalments)
	case t.Instalments > maxInstalments:
		p.add("instalments", "must be at most %d, got %d", maxInstalments, t.Instalments)
	case t.InstalmentFen > 0 && t.InstalmentFen <= MaxFen && Fen(t.Instalments) > MaxFen/t.InstalmentFen:
		p.add("instalments", "multiplied by instalment_fen is above the ceiling of %s", MaxFen)
	}
}

// rate checks royalty_bp.
func (p *feeProblems) rate(bp int, used bool, mode FeeMode) {
	switch {
	case !used:
		p.unused("royalty_bp", bp != 0, mode)
	case bp < 0 || bp > maxRoyaltyBP:
		p.add("royalty_bp", "must be within 1–10000 bp (0.01%%–100%%), got %d", bp)
	case bp == 0:
		p.add("royalty_bp", "is required for fee mode %s and must be 1–10000 bp; for no royalty at all, declare fee mode free", mode)
	}
}

// base checks royalty_base.
func (p *feeProblems) base(b RoyaltyBase, used bool, mode FeeMode) {
	switch {
	case !used:
		p.unused("royalty_base", b != "", mode)
	case b == "":
		p.add("royalty_base", "is required for fee mode %s (net_sales or profit)", mode)
	}
}

// percent formats basis points as a percentage, e.g. 300 as "3.00%".
func percent(bp int) string {
	sign, u := "", uint64(bp)
	if bp < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, u/100, u%100)
}
