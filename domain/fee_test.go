package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestParseFeeMode(t *testing.T) {
	for in, want := range map[string]domain.FeeMode{
		"free": domain.FeeFree, "lump_sum": domain.FeeLumpSum, "instalment": domain.FeeInstalment,
		"royalty": domain.FeeRoyalty, "entry_plus_royalty": domain.FeeEntryPlusRoyalty, " Lump_Sum ": domain.FeeLumpSum,
	} {
		if got, err := domain.ParseFeeMode(in); err != nil || got != want {
			t.Errorf("ParseFeeMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "lump sum", "installment", "免费"} {
		_, err := domain.ParseFeeMode(in)
		assertValueError(t, err)
	}
}

func TestFeeTermsValid(t *testing.T) {
	for _, tc := range []struct {
		terms        domain.FeeTerms
		first, total domain.Fen
		zh, en       string
	}{
		{domain.FeeTerms{Mode: domain.FeeFree}, 0, 0, "免费", "Free"},
		{domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 5_000_000}, 5_000_000, 5_000_000,
			"一次性支付 ¥50,000.00", "Lump sum ¥50,000.00"},
		{domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 1_000_000, Instalments: 5}, 1_000_000, 5_000_000,
			"分期支付 ¥10,000.00 × 5 期", "5 instalments of ¥10,000.00"},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales}, 0, 0,
			"按净销售额的 3.00% 提成", "3.00% royalty on net sales"},
		{domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 2_000_000, RoyaltyBP: 500, RoyaltyBase: domain.BaseProfit}, 2_000_000, 2_000_000,
			"入门费 ¥20,000.00 + 按利润的 5.00% 提成", "Entry fee ¥20,000.00 + 5.00% royalty on profit"},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 10_000, RoyaltyBase: domain.BaseProfit}, 0, 0,
			"按利润的 100.00% 提成", "100.00% royalty on profit"},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 1, RoyaltyBase: domain.BaseNetSales}, 0, 0,
			"按净销售额的 0.01% 提成", "0.01% royalty on net sales"},
		{domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: domain.MaxFen}, domain.MaxFen, domain.MaxFen,
			"一次性支付 ¥1,000,000,000,000.00", "Lump sum ¥1,000,000,000,000.00"},
		{domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: domain.MaxFen / 4, Instalments: 4}, domain.MaxFen / 4, domain.MaxFen,
			"分期支付 ¥250,000,000,000.00 × 4 期", "4 instalments of ¥250,000,000,000.00"},
	} {
		if err := tc.terms.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", tc.terms, err)
		}
		if got := tc.terms.FirstPayment(); got != tc.first {
			t.Errorf("FirstPayment(%+v) = %d, want %d", tc.terms, got, tc.first)
		}
		if got := tc.terms.FixedTotal(); got != tc.total {
			t.Errorf("FixedTotal(%+v) = %d, want %d", tc.terms, got, tc.total)
		}
		if got := tc.terms.Describe("zh"); got != tc.zh || tc.terms.Describe("") != tc.zh {
			t.Errorf("Describe(zh) = %q, want %q", got, tc.zh)
		}
		if got := tc.terms.Describe("en"); got != tc.en || tc.terms.Describe("en-GB") != tc.en {
			t.Errorf("Describe(en) = %q, want %q", got, tc.en)
		}
	}
}

func TestFeeTermsInvalidNames(t *testing.T) {
	for _, tc := range []struct {
		terms  domain.FeeTerms
		fields []string
	}{
		{domain.FeeTerms{}, []string{"mode"}},
		{domain.FeeTerms{Mode: "Free"}, []string{"mode"}},
		{domain.FeeTerms{Mode: "monthly", LumpSumFen: 100}, []string{"mode"}},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: "revenue"}, []string{"royalty_base"}},
		{domain.FeeTerms{Mode: "x", RoyaltyBase: "y"}, []string{"mode", "royalty_base"}},
	} {
		err := tc.terms.Validate()
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.CodeInvalidArgument || e.Rule != "" {
			t.Errorf("Validate(%+v) = %v, want invalid_argument", tc.terms, err)
			continue
		}
		if got := fieldNames(e); !slices.Equal(got, tc.fields) {
			t.Errorf("Validate(%+v) fields = %v, want %v", tc.terms, got, tc.fields)
		}
	}
}

func TestFeeTermsRuleViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		terms  domain.FeeTerms
		fields []string
		msg    string
	}{
		{"free with an amount", domain.FeeTerms{Mode: domain.FeeFree, LumpSumFen: 100}, []string{"lump_sum_fen"}, "not used by fee mode free"},
		{"free with everything", domain.FeeTerms{Mode: domain.FeeFree, LumpSumFen: 1, InstalmentFen: 1, Instalments: 2, EntryFeeFen: 1, RoyaltyBP: 1, RoyaltyBase: domain.BaseProfit},
			[]string{"lump_sum_fen", "instalment_fen", "instalments", "entry_fee_fen", "royalty_bp", "royalty_base"}, "not used"},
		{"free with negative amount", domain.FeeTerms{Mode: domain.FeeFree, EntryFeeFen: -1}, []string{"entry_fee_fen"}, "not used"},
		{"lump sum missing", domain.FeeTerms{Mode: domain.FeeLumpSum}, []string{"lump_sum_fen"}, "required"},
		{"lump sum negative", domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: -100}, []string{"lump_sum_fen"}, "negative"},
		{"lump sum above ceiling", domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: domain.MaxFen + 1}, []string{"lump_sum_fen"}, "ceiling"},
		{"lump sum with royalty", domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 100, RoyaltyBP: 300}, []string{"royalty_bp"}, "not used by fee mode lump_sum"},
		{"instalment count 1", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100, Instalments: 1}, []string{"instalments"}, "at least 2 for fee mode instalment, got 1"},
		{"instalment count missing", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100}, []string{"instalments"}, "is missing or 0: fee mode instalment needs at least 2"},
		{"instalment count beyond int32", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 1, Instalments: 1 << 31}, []string{"instalments"}, "at most 1200"},
		{"instalment count 1201", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100, Instalments: 1201}, []string{"instalments"}, "at most 1200"},
		{"instalment count negative", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100, Instalments: -3}, []string{"instalments"}, "at least 2"},
		{"instalment amount missing", domain.FeeTerms{Mode: domain.FeeInstalment, Instalments: 3}, []string{"instalment_fen"}, "required"},
		{"instalment total far above ceiling", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: domain.MaxFen, Instalments: 1200}, []string{"instalments"}, "ceiling"},
		{"instalment total above ceiling", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: domain.MaxFen/4 + 1, Instalments: 4}, []string{"instalments"}, "ceiling"},
		{"instalment with lump sum", domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 100, Instalments: 2, LumpSumFen: 100}, []string{"lump_sum_fen"}, "not used"},
		{"royalty missing rate and base", domain.FeeTerms{Mode: domain.FeeRoyalty}, []string{"royalty_bp", "royalty_base"}, "required"},
		{"royalty rate above 100%", domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 10_001, RoyaltyBase: domain.BaseNetSales}, []string{"royalty_bp"}, "1–10000 bp"},
		{"royalty rate negative", domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: -1, RoyaltyBase: domain.BaseNetSales}, []string{"royalty_bp"}, "1–10000 bp"},
		{"royalty base missing", domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 300}, []string{"royalty_base"}, "required"},
		{"royalty with entry fee", domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseProfit, EntryFeeFen: 5}, []string{"entry_fee_fen"}, "not used"},
		{"entry fee missing", domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseProfit}, []string{"entry_fee_fen"}, "required"},
		{"entry plus royalty bare", domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty}, []string{"entry_fee_fen", "royalty_bp", "royalty_base"}, "required"},
	} {
		err := tc.terms.Validate()
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.CodeRuleViolation || e.Rule != domain.RuleInvalidFeeTerms {
			t.Errorf("%s: Validate = %v, want rule_violation invalid_fee_terms", tc.name, err)
			continue
		}
		if got := fieldNames(e); !slices.Equal(got, tc.fields) {
			t.Errorf("%s: fields = %v, want %v", tc.name, got, tc.fields)
		}
		if !strings.Contains(e.Message, tc.msg) || !strings.HasPrefix(e.Fields[0].Message, e.Fields[0].Field+" ") {
			t.Errorf("%s: message %q (fields %+v) does not mention %q", tc.name, e.Message, e.Fields, tc.msg)
		}
	}
}

func TestFeeTermsWarnings(t *testing.T) {
	for _, tc := range []struct {
		terms domain.FeeTerms
		want  []string
	}{
		{domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 2_000_000_000}, nil},
		{domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 2_000_000_001}, []string{"¥20,000,000.01 is above the guidance ceiling of ¥20,000,000.00"}},
		{domain.FeeTerms{Mode: domain.FeeInstalment, InstalmentFen: 500_000_001, Instalments: 4}, []string{"fixed fee of ¥20,000,000.04"}},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 2000, RoyaltyBase: domain.BaseNetSales}, nil},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 2001, RoyaltyBase: domain.BaseNetSales}, []string{"royalty of 20.01% on net sales is above the guidance ceiling of 20.00%"}},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 4000, RoyaltyBase: domain.BaseProfit}, nil},
		{domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: 4500, RoyaltyBase: domain.BaseProfit}, []string{"royalty of 45.00% on profit is above the guidance ceiling of 40.00%"}},
		{domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 3_000_000_000, RoyaltyBP: 2500, RoyaltyBase: domain.BaseNetSales},
			[]string{"fixed fee of ¥30,000,000.00", "royalty of 25.00% on net sales"}},
		{domain.FeeTerms{Mode: domain.FeeFree}, nil},
	} {
		if err := tc.terms.Validate(); err != nil {
			t.Fatalf("Validate(%+v) = %v", tc.terms, err)
		}
		got := tc.terms.Warnings()
		if len(got) != len(tc.want) {
			t.Errorf("Warnings(%+v) = %q, want %d", tc.terms, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("Warnings(%+v)[%d] = %q, want it to mention %q", tc.terms, i, got[i], w)
			}
		}
	}
}

// TestFeeTermsWarningsInChinese: the same warnings in Chinese, one per
// limit exceeded, for the web pages.
func TestFeeTermsWarningsInChinese(t *testing.T) {
	terms := domain.FeeTerms{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 3_000_000_000, RoyaltyBP: 2500, RoyaltyBase: domain.BaseNetSales}
	want := []string{"固定费用 ¥30,000,000.00 高于指导上限 ¥20,000,000.00，请核对金额", "按净销售额 25.00% 的提成高于指导上限 20.00%"}
	if got := terms.WarningsIn("zh"); !slices.Equal(got, want) {
		t.Errorf("WarningsIn(zh) = %q, want %q", got, want)
	}
	if got := terms.WarningsIn("en"); !slices.Equal(got, terms.Warnings()) || len(got) != 2 {
		t.Errorf("WarningsIn(en) = %q, Warnings() = %q", got, terms.Warnings())
	}
	if got := (domain.FeeTerms{Mode: domain.FeeFree}).WarningsIn("zh"); got != nil {
		t.Errorf("free terms warn %q", got)
	}
}

func TestFeeTermsJSON(t *testing.T) {
	in := `{"mode":"entry_plus_royalty","entry_fee_fen":2000000,"royalty_bp":500,"royalty_base":"profit"}`
	var terms domain.FeeTerms
	if err := json.Unmarshal([]byte(in), &terms); err != nil || terms.Validate() != nil {
		t.Fatalf("Unmarshal = %+v, %v", terms, err)
	}
	out, err := json.Marshal(terms)
	if err != nil || string(out) != in {
		t.Errorf("Marshal = %s, %v; want %s", out, err, in)
	}
	if out, _ := json.Marshal(domain.FeeTerms{Mode: domain.FeeFree}); string(out) != `{"mode":"free"}` {
		t.Errorf("free terms marshal to %s", out)
	}
}

func TestFeeDescribeInvalidTermsDoesNotPanic(t *testing.T) {
	for _, terms := range []domain.FeeTerms{{}, {Mode: "weird"}, {Mode: domain.FeeRoyalty, RoyaltyBP: -150, RoyaltyBase: "x"}} {
		for _, lang := range []string{"zh", "en"} {
			_ = terms.Describe(lang)
		}
		_ = terms.Warnings()
	}
	if got := (domain.FeeTerms{Mode: domain.FeeRoyalty, RoyaltyBP: -150}).Describe("en"); got != "-1.50% royalty on " {
		t.Errorf("Describe of a negative rate = %q", got)
	}
}

func FuzzFeeTermsJSON(f *testing.F) {
	for _, s := range []string{
		`{"mode":"free"}`,
		`{"mode":"lump_sum","lump_sum_fen":5000000}`,
		`{"mode":"instalment","instalment_fen":1000000,"instalments":5}`,
		`{"mode":"instalment","instalment_fen":100000000000000,"instalments":9223372036854775807}`,
		`{"mode":"royalty","royalty_bp":300,"royalty_base":"net_sales"}`,
		`{"mode":"entry_plus_royalty","entry_fee_fen":2000000,"royalty_bp":500,"royalty_base":"profit"}`,
		`{"mode":"lump_sum","lump_sum_fen":-1}`,
		`{"mode":"royalty","royalty_bp":-9223372036854775808,"royalty_base":"profit"}`,
		`{"mode":"free","lump_sum_fen":1e3}`,
		`{}`, `null`, `[]`, `{"mode":1}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var terms domain.FeeTerms
		if json.Unmarshal(b, &terms) != nil {
			return
		}
		err := terms.Validate()
		_ = terms.Describe("zh") + terms.Describe("en")
		_ = terms.Warnings()
		if err != nil {
			if c := domain.ErrorCode(err); c != domain.CodeInvalidArgument && c != domain.CodeRuleViolation {
				t.Fatalf("Validate(%+v) = %v", terms, err)
			}
			return
		}
		first, total := terms.FirstPayment(), terms.FixedTotal()
		if first < 0 || total < 0 || first > total || total > domain.MaxFen {
			t.Fatalf("valid %+v: first payment %d, fixed total %d", terms, first, total)
		}
		if (terms.Mode == domain.FeeFree || terms.Mode == domain.FeeRoyalty) != (total == 0) {
			t.Fatalf("valid %+v has fixed total %d", terms, total)
		}
		if terms.RoyaltyBP < 0 || terms.RoyaltyBP > 10_000 {
			t.Fatalf("valid %+v has rate %d", terms, terms.RoyaltyBP)
		}
		var back domain.FeeTerms
		out, _ := json.Marshal(terms)
		if json.Unmarshal(out, &back) != nil || back != terms {
			t.Fatalf("JSON round trip of %+v gave %+v", terms, back)
		}
	})
}

// fieldNames lists the Field of each FieldError of e.
func fieldNames(e *domain.Error) []string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Field
	}
	return names
}
