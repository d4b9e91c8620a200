package api

import (
	"net/http/httptest"
	"testing"
)

// TestSentFromHere: a form is taken as sent from this server's pages only
// when the browser says so, by Sec-Fetch-Site or, without it, by Origin.
func TestSentFromHere(t *testing.T) {
	for _, c := range []struct {
		header map[string]string
		want   bool
	}{
		{map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://ledger.example"}, false},
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{map[string]string{"Origin": "http://ledger.example"}, true},
		{map[string]string{"Origin": "https://ledger.example"}, true},
		{map[string]string{"Origin": "http://evil.example"}, false},
		{map[string]string{"Origin": "null"}, false},
		{map[string]string{}, false},
	} {
		r := httptest.NewRequest("POST", "http://ledger.example/patents/ZL202010123456.2/declare", nil)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		if got := sentFromHere(r); got != c.want {
			t.Errorf("%v: %v, want %v", c.header, got, c.want)
		}
	}
}

// TestSealedValuesKeepTheirPurpose: a session sealed by the server does not
// open as a draft, nor a draft as a session, though one key seals both.
func TestSealedValuesKeepTheirPurpose(t *testing.T) {
	s := newSealer([]byte("secret"))
	for _, c := range []struct{ sealedFor, openedAs string }{{sealedSession, sealedDraft}, {sealedDraft, sealedSession}} {
		sealed := s.seal(c.sealedFor, `{"values":{}}`)
		if _, err := s.open(c.openedAs, sealed); err == nil {
			t.Errorf("a value sealed as a %s opens as a %s", c.sealedFor, c.openedAs)
		}
		if plain, err := s.open(c.sealedFor, sealed); err != nil || plain != `{"values":{}}` {
			t.Errorf("a %s does not open as itself: %q, %v", c.sealedFor, plain, err)
		}
	}
}
