package importer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// TestTimestampsGiveTheirShanghaiDate: a random instant, written with a
// random offset in each form of zone the importer reads, gives its date
// in Asia/Shanghai; written without a zone, the date written.
func TestTimestampsGiveTheirShanghaiDate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	layouts := []string{"2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05-07", "2006-01-02 15:04:05 -0700", "2006/1/2 15:04:05.000 UTC-07:00",
		"2006-01-02T15:04Z0700", "2006年1月2日 15:04:05 -07:00", "2006-01-02 3:04:05 PM -0700 MST", "2006-01-02T15:04:05Z07:00[UTC]"}
	for range 4000 {
		at := time.Unix(rng.Int64N(5_000_000_000)+631_152_000, 0) // 1990–2148
		offset := (rng.IntN(26*4+1) - 12*4) * 15 * 60             // -12:00 to +14:00 by quarter hours
		if offset%3600 != 0 {
			offset -= offset % 3600 // the -07 layout writes whole hours only
		}
		local := at.In(time.FixedZone("LCL", offset)) // MST writes its name
		layout := layouts[rng.IntN(len(layouts))]
		cell := local.Format(layout)
		if strings.HasSuffix(layout, "[UTC]") && offset != 0 {
			continue // the offset names another zone than the suffix
		}
		d, err := parseDate(cell, cell, false, false)
		if want := domain.DateOf(at); err != nil || d != want {
			t.Fatalf("%q: %s, %v; want %s", cell, d, err, want)
		}
		wall := local.Format("2006-01-02 15:04:05")
		if d, err := parseDate(wall, wall, false, false); err != nil || d.String() != local.Format(time.DateOnly) {
			t.Fatalf("%q: %s, %v; want the date written", wall, d, err)
		}
	}
}

// TestSerial60IsRefused: Excel's 1900-02-29, serial 60 of the 1900 date
// system, never existed and is refused; 59 and 61 are its neighbours, and
// 60 of the 1904 system is an ordinary day.
func TestSerial60IsRefused(t *testing.T) {
	for serial, want := range map[string]string{"59": "1900-02-28", "61": "1900-03-01", "60.5": "", "60": ""} {
		d, err := parseDate(serial, serial, true, false)
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), "1900-02-29, a day that did not exist")):
			t.Errorf("serial %s: %s, %v; want refused", serial, d, err)
		case want != "" && (err != nil || d.String() != want):
			t.Errorf("serial %s: %s, %v; want %s", serial, d, err, want)
		}
	}
	if d, err := parseDate("60", "60", true, true); err != nil || d.String() != "1904-03-01" {
		t.Errorf("serial 60 of the 1904 system: %s, %v", d, err)
	}
}

// FuzzParseDate: no cell makes the date parser panic, a refusal quotes
// the cell from its start (as sent, cut to 60 characters), and an
// accepted cell gives a date that reads back as itself.
func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{"2024-03-05", "2023-01-04 16:00:00+00", "2023/1/5 星期四", "2023-01-04T25:00:00Z", "45351", "60",
		"2023年1月4日 16:00:00 +0000 UTC[Asia/Shanghai]", "2023-01-04 12:00 AM", "Jan 5, 2023"} {
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, cell string, serials bool) {
		d, err := parseDate(cell, cell, serials, false)
		if err != nil {
			quoted := strings.TrimSuffix(domain.Quote(cell), "…")
			quoted = strings.TrimSuffix(quoted, `"`)
			if !strings.HasPrefix(err.Error(), quoted) {
				t.Fatalf("%q: the problem %q does not quote the cell", cell, err)
			}
			return
		}
		if again, err := parseDate(d.String(), d.String(), false, false); err != nil || again != d {
			t.Fatalf("%q gave %s, which reads back as %s, %v", cell, d, again, err)
		}
	})
}
