package domain_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// realCreditCodes are published unified social credit codes. The first is the
// worked example of GB 32100-2015; the next two are the valid examples of
// hutool's CreditCodeUtilTest; the universities' codes appear on their own
// tender notices and invoices.
var realCreditCodes = []struct {
	code   string
	region domain.RegionCode
}{
	{"91350100M000100Y43", "350100"}, // GB 32100-2015 example
	{"91310115591693856A", "310115"}, // hutool test
	{"91310110666007217T", "310110"}, // hutool test
	{"12100000470095016Q", "100000"}, // 浙江大学 (Zhejiang University)
	{"12100000425006117P", "100000"}, // 复旦大学 (Fudan University)
	{"12100000400000624D", "100000"}, // 清华大学 (Tsinghua University)
}

func TestCreditCheckCharRealCodes(t *testing.T) {
	for _, tc := range realCreditCodes {
		c, err := domain.CreditCheckChar(tc.code[:17])
		if err != nil || c != tc.code[17] {
			t.Errorf("CreditCheckChar(%s) = %c, %v; want %c", tc.code[:17], c, err, tc.code[17])
		}
		got, err := domain.ParseCreditCode(tc.code)
		if err != nil || string(got) != tc.code || got.RegionCode() != tc.region {
			t.Errorf("ParseCreditCode(%s) = %s (region %s), %v", tc.code, got, got.RegionCode(), err)
		}
	}
}

func TestParseCreditCodeNormalises(t *testing.T) {
	for in, want := range map[string]domain.CreditCode{
		"91350100m000100y43":     "91350100M000100Y43",
		"  91350100M000100Y43\t": "91350100M000100Y43",
		"91310115591693856a":     "91310115591693856A",
	} {
		if got, err := domain.ParseCreditCode(in); err != nil || got != want {
			t.Errorf("ParseCreditCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseCreditCodeRejects(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"91350100M000100Y4Z", `character 18 ('Z') is not allowed`},
		{"91350100M000100Y42", "check character is 3, not 2"},
		{"91350211M00013FA1N", "check character is 3, not N"},
		{"91350100M000100Y4", "17 characters"},
		{"91350100M000100Y433", "19 characters"},
		{"91350100 M000100Y43", "19 characters"},
		{"9135010OM000100Y43", `character 8 ('O') is not allowed`},
		{"I1350100M000100Y43", `character 1 ('I') is not allowed`},
		{"91350100S000100Y43", `character 9 ('S') is not allowed`},
		{"91350100V000100Y43", `character 9 ('V') is not allowed`},
		{"913501A0M000100Y43", "characters 3–8 must be digits"},
		{"91350100M000100Y4３", "18 characters"},
		{"91350100M000100Y4-", `character 18 ('-') is not allowed`},
	} {
		_, err := domain.ParseCreditCode(tc.in)
		assertValueError(t, err)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseCreditCode(%q) error %q does not mention %q", tc.in, err, tc.msg)
		}
	}
}

func TestCreditCheckCharRejects(t *testing.T) {
	for _, in := range []string{"", "91350100M000100Y", "91350100M000100Y43", "91350100m000100Y4", "91350100O000100Y4"} {
		_, err := domain.CreditCheckChar(in)
		assertValueError(t, err)
	}
}

func TestCreditCodeRegionOfMalformed(t *testing.T) {
	if got := domain.CreditCode("9135").RegionCode(); got != "" {
		t.Errorf("RegionCode of a short code = %q", got)
	}
}

// TestCreditCheckCharProperty builds random codes, checks they parse back,
// and that any single-character change is caught.
func TestCreditCheckCharProperty(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	r := rand.New(rand.NewPCG(5, 6))
	randomChars := func(n int, from string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = from[r.IntN(len(from))]
		}
		return string(b)
	}
	for range 5000 {
		first17 := randomChars(2, alphabet) + randomChars(6, "0123456789") + randomChars(9, alphabet)
		c, err := domain.CreditCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		code := first17 + string(c)
		if got, err := domain.ParseCreditCode(strings.ToLower(code)); err != nil || string(got) != code {
			t.Fatalf("ParseCreditCode(%q) = %q, %v", code, got, err)
		}
		i := r.IntN(17)
		if i >= 2 && i < 8 {
			continue // a region digit; the alphabet below is not all digits
		}
		other := alphabet[(strings.IndexByte(alphabet, code[i])+1+r.IntN(30))%31]
		wrong := code[:i] + string(other) + code[i+1:]
		if _, err := domain.ParseCreditCode(wrong); err == nil {
			t.Fatalf("single-character change %s of %s passed", wrong, code)
		}
	}
}

func FuzzParseCreditCode(f *testing.F) {
	for _, tc := range realCreditCodes {
		f.Add(tc.code)
	}
	for _, s := range []string{"", "91350100M000100Y4Z", "91350211M00013FA1N", " 91350100m000100y43 ", "ıııııııııııııııııı", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := domain.ParseCreditCode(s)
		if err != nil {
			assertValueError(t, err)
			return
		}
		again, err := domain.ParseCreditCode(string(c))
		if err != nil || again != c || len(c) != 18 {
			t.Fatalf("ParseCreditCode(%q) = %q, which re-parses to %q, %v", s, c, again, err)
		}
		if len(c.RegionCode()) != 6 {
			t.Fatalf("RegionCode(%s) = %q", c, c.RegionCode())
		}
	})
}
