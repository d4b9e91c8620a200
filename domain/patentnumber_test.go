package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// realPatentNumbers are published CNIPA numbers with their check characters.
// 200310102344.5 is the worked example of CNIPA standard ZC 0006-2003;
// 201710601862.3 is the worked example of a Chinese patent FAQ
// (dfrtw.com/zhuanlichaxun/31487.html); the others are granted patents cited
// on researchers' and companies' web pages.
var realPatentNumbers = []string{
	"ZL200310102344.5",
	"ZL201710601862.3",
	"ZL201811564288.X",
	"ZL201910603565.1",
	"ZL202322865413.3",
	"ZL200510096239.4",
	"ZL201510958772.0",
	"ZL202010566088.9",
	"ZL201310699744.2",
}

func TestPatentCheckCharRealNumbers(t *testing.T) {
	for _, n := range realPatentNumbers {
		c, err := domain.PatentCheckChar(n[2:14])
		if err != nil || c != n[15] {
			t.Errorf("PatentCheckChar(%s) = %c, %v; want %c", n[2:14], c, err, n[15])
		}
		got, err := domain.ParsePatentNumber(n)
		if err != nil || string(got) != n {
			t.Errorf("ParsePatentNumber(%s) = %s, %v", n, got, err)
		}
	}
}

func TestParsePatentNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want domain.PatentNumber
		kind domain.PatentKind
	}{
		{"ZL201710601862.3", "ZL201710601862.3", domain.KindInvention},
		{"201710601862.3", "ZL201710601862.3", domain.KindInvention},
		{"2017106018623", "ZL201710601862.3", domain.KindInvention},
		{"CN201710601862.3", "ZL201710601862.3", domain.KindInvention},
		{"cn 2017 1 0601862.3", "ZL201710601862.3", domain.KindInvention},
		{"zl2017106018623", "ZL201710601862.3", domain.KindInvention},
		{"ZL 2017 1 060 1862 . 3", "ZL201710601862.3", domain.KindInvention},
		{" Zl201710601862.3\t", "ZL201710601862.3", domain.KindInvention},
		{"ZL201811564288.x", "ZL201811564288.X", domain.KindInvention},
		{"ZL 2018115642 88X", "ZL201811564288.X", domain.KindInvention},
		{"ZL202322865413.3", "ZL202322865413.3", domain.KindUtilityModel},
		{"ZL202010123456.2", "ZL202010123456.2", domain.KindInvention},
		{"ZL202030123456.3", "ZL202030123456.3", domain.KindDesign},
		{"ZL202080123456.0", "ZL202080123456.0", domain.KindInvention},
		{"ZL202090123456.6", "ZL202090123456.6", domain.KindUtilityModel},
		{"ZL198510000001.9", "ZL198510000001.9", domain.KindInvention},
		{"ZL209910000001.8", "ZL209910000001.8", domain.KindInvention},
	} {
		got, err := domain.ParsePatentNumber(tc.in)
		if err != nil || got != tc.want || got.Kind() != tc.kind || got.String() != string(tc.want) {
			t.Errorf("ParsePatentNumber(%q) = %q (%s), %v; want %q (%s)", tc.in, got, got.Kind(), err, tc.want, tc.kind)
		}
		if got.Digits() != string(tc.want[2:14]) {
			t.Errorf("Digits(%s) = %q", got, got.Digits())
		}
	}
}

func TestParsePatentNumberRejects(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"ZL", "empty"},
		{"   ", "empty"},
		{"ZL202010123456.7", "check character is 2, not 7"},
		{"ZL201710601862.4", "check character is 3, not 4"},
		{"ZL201811564288.0", "check character is X, not 0"},
		{"ZL201710601862", "no check character"},
		{"ZL201710601862.", "no check character"},
		{"ZL201710601862.33", "malformed"},
		{"ZL20171060186.3", "malformed"},
		{"ZL2017106018.623", "malformed"},
		{"ZL20171060186A.3", "malformed"},
		{"ZLZL201710601862.3", "malformed"},
		{"US201710601862.3", "malformed"},
		{"ZL201710601862.A", "check character must be a digit or X"},
		{"95115608.X", "malformed"},
		{"ZL202040123456.0", "5th digit 4"},
		{"ZL202000123456.0", "5th digit 0"},
		{"ZL198410000001.0", "year 1984"},
		{"ZL210010000001.0", "year 2100"},
		{"ZL２０１７10601862.3", "malformed"},
	} {
		_, err := domain.ParsePatentNumber(tc.in)
		assertValueError(t, err)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParsePatentNumber(%q) error %q does not mention %q", tc.in, err, tc.msg)
		}
	}
}

func TestPatentCheckCharRejects(t *testing.T) {
	for _, in := range []string{"", "20171060186", "2017106018623", "20171060186a", "２０１７１０６０１８６２"} {
		_, err := domain.PatentCheckChar(in)
		assertValueError(t, err)
	}
}

func TestPatentNumberMalformedValues(t *testing.T) {
	for _, n := range []domain.PatentNumber{"", "ZL", "201710601862.3", "XX201710601862.3", "ZL2017106018623"} {
		if n.Kind() != "" || n.Digits() != "" {
			t.Errorf("%q: Kind %q, Digits %q; want empty", n, n.Kind(), n.Digits())
		}
	}
}

func TestParsePatentKind(t *testing.T) {
	for in, want := range map[string]domain.PatentKind{
		"invention": domain.KindInvention, "utility_model": domain.KindUtilityModel,
		"design": domain.KindDesign, " Design ": domain.KindDesign,
	} {
		if got, err := domain.ParsePatentKind(in); err != nil || got != want {
			t.Errorf("ParsePatentKind(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "utility model", "patent", "发明"} {
		_, err := domain.ParsePatentKind(in)
		assertValueError(t, err)
	}
}

// TestPatentCheckCharProperty computes the check character of random
// numbers, parses them back in several spellings, and checks that changing
// any one digit is caught.
func TestPatentCheckCharProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := "12389"
	for range 5000 {
		digits := fmt.Sprintf("%04d%c%07d", 1985+r.IntN(115), kinds[r.IntN(len(kinds))], r.IntN(10_000_000))
		c, err := domain.PatentCheckChar(digits)
		if err != nil {
			t.Fatal(err)
		}
		want := domain.PatentNumber("ZL" + digits + "." + string(c))
		for _, in := range []string{string(want), "CN" + digits + string(c), strings.ToLower(digits + string(c))} {
			if got, err := domain.ParsePatentNumber(in); err != nil || got != want {
				t.Fatalf("ParsePatentNumber(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		i := 5 + r.IntN(7)
		wrong := digits[:i] + string('0'+(digits[i]-'0'+1+byte(r.IntN(9)))%10) + digits[i+1:]
		if _, err := domain.ParsePatentNumber(wrong + "." + string(c)); err == nil {
			t.Fatalf("single-digit change %s.%c of %s passed", wrong, c, want)
		}
	}
}

func FuzzParsePatentNumber(f *testing.F) {
	for _, s := range append(realPatentNumbers, "", "ZL202010123456.7", "cn 2017 1 0601862 3", "zl201811564288x",
		"ZL201710601862", "95115608.X", "ZL..", "ZL201710601862.\xff", "ZL\u3000201710601862.3") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := domain.ParsePatentNumber(s)
		if err != nil {
			assertValueError(t, err)
			return
		}
		again, err := domain.ParsePatentNumber(string(n))
		if err != nil || again != n {
			t.Fatalf("ParsePatentNumber(%q) = %q, which re-parses to %q, %v", s, n, again, err)
		}
		if len(n) != 16 || n.Kind() == "" || len(n.Digits()) != 12 {
			t.Fatalf("ParsePatentNumber(%q) = %q is not normalised", s, n)
		}
		if c, _ := domain.PatentCheckChar(n.Digits()); c != n[15] {
			t.Fatalf("%q has check character %c, want %c", n, n[15], c)
		}
	})
}
