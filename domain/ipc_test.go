package domain_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

func TestParseIPC(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want domain.IPCCode
	}{
		{"H01M 10/0525", "H01M 10/0525"},
		{"H01M10/0525", "H01M 10/0525"},
		{"h01m 10/0525", "H01M 10/0525"},
		{"H01M 10/0525 (2006.01)", "H01M 10/0525"},
		{"H01M  10/0525(2010.01)", "H01M 10/0525"},
		{"H01M\u300010／0525", "H01M 10/0525"},
		{"Ｈ０１Ｍ １０／０５２５（２００６.０１）", "H01M 10/0525"},
		{"H01M 010/00", "H01M 10/00"},
		{"H01M 0010/00", "H01M 10/00"},
		{" A01B 1/00 ", "A01B 1/00"},
		{"G06F 16/00", "G06F 16/00"},
		{"G06F 16/953", "G06F 16/953"},
		{"C07D 487/04", "C07D 487/04"},
		{"A61K 9/0002", "A61K 9/0002"},
		{"H04L 9/32", "H04L 9/32"},
		{"B01J 9999/123456", "B01J 9999/123456"},
		{"H01M10/0525(2010.01)I", "H01M 10/0525"}, // CNIPA's form: I for invention information,
		{"H01M 4/36 (2006.01) N", "H01M 4/36"},    // N for additional information
	} {
		got, err := domain.ParseIPC(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseIPC(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseIPCRejects(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"  ", "empty"},
		{"(2006.01)", "empty"},
		{"I01M 10/0525", "section"},
		{"101M 10/0525", "section"},
		{"H01M", "malformed"},
		{"H01M 10", "malformed"},
		{"H01M 10/", "malformed"},
		{"H01M 10/5", "malformed"},
		{"H01M 10/1234567", "malformed"},
		{"H01M 12345/00", "malformed"},
		{"H1M 10/0525", "malformed"},
		{"H01 10/0525", "malformed"},
		{"H01MM 10/0525", "malformed"},
		{"H01M 10-0525", "malformed"},
		{"H01M 10/0525 (2006)", "malformed"},
		{"H01M 10/0525 2006.01", "malformed"},
		{"H01M 10/0525;H01M 4/13", "malformed"},
		{"H01M 0/00", "main group must not be 0"},
		{"H01M 000/00", "main group must not be 0"},
	} {
		_, err := domain.ParseIPC(tc.in)
		assertValueError(t, err)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseIPC(%q) error %q does not mention %q", tc.in, err, tc.msg)
		}
	}
}

// TestEmbeddedIPCList checks that every line of the embedded list is a
// normalised code that is known, and that it has the expected size.
func TestEmbeddedIPCList(t *testing.T) {
	f, err := os.Open("ipc_codes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		c, err := domain.ParseIPC(line)
		if err != nil || string(c) != line {
			t.Fatalf("line %q parses to %q, %v", line, c, err)
		}
		if !domain.KnownIPC(c) {
			t.Fatalf("%s is not known", c)
		}
	}
	if n < 70000 {
		t.Errorf("the list has %d codes, want the ~71,000 of IPC 2016.01", n)
	}
}

func TestKnownIPC(t *testing.T) {
	for c, want := range map[domain.IPCCode]bool{
		"H01M 10/0525": true,
		"A01B 1/00":    true,
		"G06F 17/30":   true,
		"G06F 16/00":   false, // added in IPC 2019.01
		"H10K 50/00":   false, // subclass added in IPC 2023.01
		"H01M 10/0526": false,
		"H01M10/0525":  false, // not normalised
		"":             false,
	} {
		if got := domain.KnownIPC(c); got != want {
			t.Errorf("KnownIPC(%q) = %v, want %v", c, got, want)
		}
	}
	if c, err := domain.ParseIPC("G06F 16/00"); err != nil || domain.KnownIPC(c) {
		t.Errorf("G06F 16/00 must parse (%v) but not be known", err)
	}
}

func TestSplitIPCList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"H01M 10/0525;H01M 4/13；G06F 16/00", []string{"H01M 10/0525", "H01M 4/13", "G06F 16/00"}},
		{" H01M 10/0525 , H01M 4/13，G06F 16/00 ", []string{"H01M 10/0525", "H01M 4/13", "G06F 16/00"}},
		{";; ;H01M 4/13;\u3000;", []string{"H01M 4/13"}},
		{"", nil},
		{" ; ", nil},
		{"H01M 10/0525、H01M 4/13\nG06F 16/00\r\nG06N 3/04", []string{"H01M 10/0525", "H01M 4/13", "G06F 16/00", "G06N 3/04"}},
		{"H01M 10/0525 H01M 4/13  G06F16/00", []string{"H01M 10/0525", "H01M 4/13", "G06F16/00"}},
		{"H01M 10/0525 (2010.01) I h01m 4/13(2006.01)N", []string{"H01M 10/0525 (2010.01) I", "h01m 4/13(2006.01)N"}},
		{"H01M 10/0525 X01M 4/13", []string{"H01M 10/0525 X01M 4/13"}}, // left for ParseIPC to refuse
	} {
		if got := domain.SplitIPCList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SplitIPCList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIPCParts(t *testing.T) {
	c := domain.IPCCode("H01M 10/0525")
	if c.Section() != "H" || c.Class() != "H01" || c.Subclass() != "H01M" {
		t.Errorf("parts of %s = %s %s %s", c, c.Section(), c.Class(), c.Subclass())
	}
	var z domain.IPCCode
	if z.Section() != "" || z.Class() != "" || z.Subclass() != "" {
		t.Error("parts of the empty code are not empty")
	}
}

func TestIPCHasPrefix(t *testing.T) {
	c := domain.IPCCode("H01M 10/0525")
	for prefix, want := range map[string]bool{
		"": true, "H": true, "H01": true, "H01M": true, "h01m": true, "H01M10": true,
		"H01M 10/": true, "H01M 10/05": true, "H01M 10/0525": true,
		"H01M 1": true, "H01M 1/": false, "H01M 4": false, "H02": false, "H01M 10/0526": false,
	} {
		if got := c.HasPrefix(prefix); got != want {
			t.Errorf("HasPrefix(%q) = %v, want %v", prefix, got, want)
		}
	}
}

func TestNormalizeIPCPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"h": "H", "H01": "H01", "h01m": "H01M", "H01M10": "H01M 10/", "H01M 010": "H01M 10/", "G06F 3": "G06F 3/",
		"H01M 10/": "H01M 10/", "h01m10/05": "H01M 10/05", "H01M 10/0525": "H01M 10/0525", "Ｈ０１Ｍ": "H01M",
	} {
		if got, err := domain.NormalizeIPCPrefix(in); err != nil || got != want {
			t.Errorf("NormalizeIPCPrefix(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "I", "H0", "H01MM", "H01M 12345", "H01M 0", "H01M /00", "H01M 10/1234567", "H01M 10//", "10/0525"} {
		_, err := domain.NormalizeIPCPrefix(in)
		assertValueError(t, err)
	}
}

// TestNormalizedPrefixMatches checks that a normalised prefix of a code's
// own text matches the code.
func TestNormalizedPrefixMatches(t *testing.T) {
	c := domain.IPCCode("C07D 487/04")
	for _, p := range []string{"C", "C07", "C07D", "C07D487", "C07D 487/", "C07D 487/0"} {
		n, err := domain.NormalizeIPCPrefix(p)
		if err != nil || !c.HasPrefix(n) || !strings.HasPrefix(string(c), n) {
			t.Errorf("NormalizeIPCPrefix(%q) = %q, %v; does not prefix %s", p, n, err, c)
		}
	}
}

func FuzzParseIPC(f *testing.F) {
	for _, s := range []string{"H01M 10/0525", "h01m10/0525(2006.01)", "H01M 010/00", "Ｈ０１Ｍ １０／０５２５", "G06F 16/00",
		"", "(2006.01)", "H01M 0/00", "I01M 1/00", "H01M 10/0525 (2006.01)(2006.01)", "\xff", "H01M\u00a010/0525"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := domain.ParseIPC(s)
		if err != nil {
			assertValueError(t, err)
			return
		}
		again, err := domain.ParseIPC(string(c))
		if err != nil || again != c {
			t.Fatalf("ParseIPC(%q) = %q, which re-parses to %q, %v", s, c, again, err)
		}
		if strings.Count(string(c), " ") != 1 || c.Subclass() != string(c[:4]) || !c.HasPrefix(c.Subclass()) {
			t.Fatalf("ParseIPC(%q) = %q is not normalised", s, c)
		}
		if p, err := domain.NormalizeIPCPrefix(string(c)); err != nil || p != string(c) {
			t.Fatalf("NormalizeIPCPrefix(%q) = %q, %v", c, p, err)
		}
		domain.KnownIPC(c)
		domain.SplitIPCList(s)
	})
}
