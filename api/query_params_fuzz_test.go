package api

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzUnreadableQuery checks that unreadableQuery refuses exactly the raw
// queries the standard library's parser finds an error in (which echo's
// parser would then silently drop a part or the whole of), and those of
// more than maxQueryParameters, so that every query a route reads is read
// whole. The fuzzer's queries may repeat a seed up to 10,001 times.
func FuzzUnreadableQuery(f *testing.F) {
	for _, seed := range []string{"", "a=1", "dry_run=true%", "ipc=H01M%", "a=1;b=2", "%zz=1", "a=%E7%94%B5", "a=1&&b", "=x", "a=%2", "q=+x+", "&"} {
		f.Add(seed, uint16(1))
	}
	f.Add("dry_run=true", uint16(10_001))
	f.Add("&", uint16(maxQueryParameters))
	f.Fuzz(func(t *testing.T, part string, times uint16) {
		raw := strings.Repeat(part, int(min(max(times, 1), 10_001)))
		_, parseErr := url.ParseQuery(raw)
		tooMany := strings.Count(raw, "&")+1 > maxQueryParameters
		if err := unreadableQuery(raw); (err == nil) != (parseErr == nil && !tooMany) {
			t.Fatalf("%.80q…: unreadableQuery says %v, url.ParseQuery %v, %d parameters", raw, err, parseErr, strings.Count(raw, "&")+1)
		}
	})
}
