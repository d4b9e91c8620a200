package domain_test

import (
	"os"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestParseRegionCode(t *testing.T) {
	for _, tc := range []struct {
		in, want, city, province, level string
	}{
		{"440106", "440106", "440100", "440000", "district"}, // 天河区
		{"440105", "440105", "440100", "440000", "district"}, // 海珠区
		{" 440113 ", "440113", "440100", "440000", "district"},
		{"440100", "440100", "440100", "440000", "city"},
		{"440000", "440000", "440000", "440000", "province"},
		{"110108", "110108", "110100", "110000", "district"},
		{"820000", "820000", "820000", "820000", "province"},
		{"710000", "710000", "710000", "710000", "province"},
	} {
		r, err := domain.ParseRegionCode(tc.in)
		if err != nil || string(r) != tc.want {
			t.Errorf("ParseRegionCode(%q) = %q, %v; want %q", tc.in, r, err, tc.want)
			continue
		}
		if string(r.City()) != tc.city || string(r.Province()) != tc.province || r.Level() != tc.level {
			t.Errorf("%s: City %s, Province %s, Level %s; want %s %s %s", r, r.City(), r.Province(), r.Level(), tc.city, tc.province, tc.level)
		}
	}
}

func TestParseRegionCodeRejects(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "6 digits"},
		{"44010", "6 digits"},
		{"4401060", "6 digits"},
		{"44010a", "6 digits"},
		{"４４０１０６", "6 digits"},
		{"-44010", "6 digits"},
		{"000000", "province 00"},
		{"100000", "province 10"},
		{"830000", "province 83"},
		{"200000", "province 20"},
		{"990000", "province 99"},
		{"440006", "city part 00"},
	} {
		_, err := domain.ParseRegionCode(tc.in)
		assertValueError(t, err)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseRegionCode(%q) error %q does not mention %q", tc.in, err, tc.msg)
		}
	}
}

func TestRegionHasPrefix(t *testing.T) {
	r := domain.RegionCode("440106")
	for prefix, want := range map[string]bool{"": true, "44": true, "4401": true, "440106": true, "4402": false, "4401060": false} {
		if got := r.HasPrefix(prefix); got != want {
			t.Errorf("HasPrefix(%q) = %v, want %v", prefix, got, want)
		}
	}
}

func TestRegionMalformedValues(t *testing.T) {
	r := domain.RegionCode("4401")
	if r.City() != "" || r.Province() != "" {
		t.Errorf("City/Province of %q = %q/%q, want empty", r, r.City(), r.Province())
	}
}

func FuzzParseRegionCode(f *testing.F) {
	for _, s := range []string{"440106", "440100", "440000", "000000", "440006", " 110101\n", "", "12345", "８２００００"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := domain.ParseRegionCode(s)
		if err != nil {
			assertValueError(t, err)
			return
		}
		if again, err := domain.ParseRegionCode(string(r)); err != nil || again != r {
			t.Fatalf("ParseRegionCode(%q) = %q, which re-parses to %q, %v", s, r, again, err)
		}
		for _, up := range []domain.RegionCode{r.City(), r.Province()} {
			if _, err := domain.ParseRegionCode(string(up)); err != nil || !r.HasPrefix(string(up[:2])) {
				t.Fatalf("parent %q of %q does not parse: %v", up, r, err)
			}
		}
	})
}

// TestRegionName: districts, cities and provinces are named by their
// codes or the starts of them; a municipality's city code by the
// municipality; a code the list lacks, no code, or a start that is no
// city's (4400, which a filter matches to the province's own code alone),
// by nothing.
func TestRegionName(t *testing.T) {
	for code, want := range map[string]string{
		"440106": "天河区", "440113": "番禺区", "4401": "广州市", "440100": "广州市", "44": "广东省", "440000": "广东省",
		"110100": "北京市", "500100": "重庆市", "441900": "东莞市", "659000": "新疆维吾尔自治区直辖县级行政区划", "429000": "湖北省直辖县级行政区划",
		"810000": "香港特别行政区",
	} {
		if got, ok := domain.RegionName(code); !ok || got != want {
			t.Errorf("RegionName(%q) = %q, %v; want %q", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "4", "440", "440199", "449999", "990000", "44010", "4401060", "# Nam", "4400", "1100"} {
		if got, ok := domain.RegionName(code); ok {
			t.Errorf("RegionName(%q) = %q, want none", code, got)
		}
	}
}

// TestRegionNamesTable: every code of the embedded list is a region code
// ParseRegionCode accepts, given once and in order, with the name
// RegionName gives it; the list holds every province and about 3,000
// districts and counties.
func TestRegionNamesTable(t *testing.T) {
	text, err := os.ReadFile("region_names.txt")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	levels := map[string]int{}
	for line := range strings.Lines(string(text)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		code, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if _, err := domain.ParseRegionCode(code); !ok || err != nil || strings.TrimSpace(name) != name || name == "" {
			t.Fatalf("line %q: code %v, name %q", line, err, name)
		}
		if got, _ := domain.RegionName(code); got != name {
			t.Errorf("RegionName(%s) = %q, the list says %q", code, got, name)
		}
		if len(codes) > 0 && code <= codes[len(codes)-1] {
			t.Fatalf("code %s comes after %s", code, codes[len(codes)-1])
		}
		codes = append(codes, code)
		levels[domain.RegionCode(code).Level()]++
	}
	if levels["province"] != 34 || levels["city"] < 330 || levels["district"] < 2900 {
		t.Errorf("levels %v: want 34 provinces, 330 cities or more, 2,900 districts or more", levels)
	}
}
