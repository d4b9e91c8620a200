package api

import (
	"net/url"
	"testing"
)

// FuzzUnreadableQuery checks that unreadableQuery refuses exactly the raw
// queries the standard library's parser finds an error in (which echo's
// parser would then silently drop a part of), so that every query a route
// reads is read whole.
func FuzzUnreadableQuery(f *testing.F) {
	for _, seed := range []string{"", "a=1", "dry_run=true%", "ipc=H01M%", "a=1;b=2", "%zz=1", "a=%E7%94%B5", "a=1&&b", "=x", "a=%2", "q=+x+"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, parseErr := url.ParseQuery(raw)
		if err := unreadableQuery(raw); (err == nil) != (parseErr == nil) {
			t.Fatalf("%q: unreadableQuery says %v, url.ParseQuery %v", raw, err, parseErr)
		}
	})
}
