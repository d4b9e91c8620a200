package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/patentledger/ledger/domain"
)

// TestServerSecretIsDrawnSlowlyFromTheAdminKey: the server's secret, the
// root of its session and form tokens, which a sign-in page hands anyone,
// is scrypt's of the admin key, not a SHA-256 that let a visitor test
// 140,000 guesses a second offline; it is the same for one admin key (every
// node and restart) and differs between keys.
func TestServerSecretIsDrawnSlowlyFromTheAdminKey(t *testing.T) {
	key := "adminkey-XYZ-123"
	secret := keyDerivationSecret(key)
	want, err := scrypt.Key([]byte(key), []byte("patent-ledger api key derivation"), 1<<15, 8, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	fast := sha256.Sum256([]byte("patent-ledger api key derivation\x00" + key))
	if !bytes.Equal(secret, want) || bytes.Equal(secret, fast[:]) {
		t.Fatalf("the secret of %q is %x, want scrypt's %x", key, secret, want)
	}
	if !bytes.Equal(keyDerivationSecret(key), secret) || bytes.Equal(keyDerivationSecret(key+"!"), secret) {
		t.Fatal("the secret is not one per admin key")
	}
	if a, b := keyDerivationSecret(""), keyDerivationSecret(""); bytes.Equal(a, b) || len(a) != 32 {
		t.Fatal("without an admin key the secret is not random")
	}
}

// TestSignOutsAreBoundedPerKey: a key signed in and out again and again
// keeps at most maxSignOutsPerKey session IDs apart, yet every session
// it signed out stays ended; a session started after the last sign-out,
// and the sessions of another key, stay signed in; sign-outs of sessions
// that have expired anyway are forgotten.
func TestSignOutsAreBoundedPerKey(t *testing.T) {
	var so signedOut
	start := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	var ended []session
	for i := range 5 * maxSignOutsPerKey {
		ss := session{id: fmt.Sprintf("s%d", i), started: start.Add(time.Duration(i) * time.Second), key: "uni-key"}
		so.add(ss, ss.started.Add(time.Second))
		ended = append(ended, ss)
	}
	if n := len(so.byKeys[sha256.Sum256([]byte("uni-key"))].ids); n != maxSignOutsPerKey {
		t.Errorf("%d session IDs kept for one key after %d sign-outs, want %d", n, len(ended), maxSignOutsPerKey)
	}
	for _, ss := range ended {
		if !so.has(ss) {
			t.Fatalf("session %s was signed out but is not ended", ss.id)
		}
	}
	last := ended[len(ended)-1].started
	for _, live := range []session{
		{id: "after", started: last.Add(time.Second), key: "uni-key"},
		{id: "other", started: start, key: "sme-key"},
		{id: "s0", started: start, key: "sme-key"}, // another key's session of the same ID
	} {
		if so.has(live) {
			t.Errorf("session %s of %s started %s is ended, but was never signed out", live.id, live.key, live.started)
		}
	}
	late := session{id: "late", started: last.Add(sessionLifetime), key: "uni-key"}
	so.add(late, late.started.Add(time.Second))
	if n := len(so.byKeys[sha256.Sum256([]byte("uni-key"))].ids); n != 1 {
		t.Errorf("%d session IDs kept after every earlier one expired, want 1", n)
	}
}

// unreachableOrgs looks organisations up as while the event store cannot
// be read.
type unreachableOrgs struct{}

func (unreachableOrgs) Org(context.Context, string) (domain.Org, error) {
	return domain.Org{}, domain.Unavailable("the event store cannot be read")
}

// TestSigninWhileTheStoreIsDownIsNoWrongKey: a key the sign-in cannot
// check because the store is unreachable answers 503, the page saying the
// ledger is unavailable, each time: not "the key is invalid", and not
// counted as a wrong guess until the address is refused with 429; once the
// store is back the same key signs in.
func TestSigninWhileTheStoreIsDownIsNoWrongKey(t *testing.T) {
	f := newWebFixture(t)
	c := browser(t)
	f.svc.orgs = unreachableOrgs{}
	for i := range 25 {
		if status, page, _ := signIn(t, c, f.url+"/signin", f.uniKey); status != http.StatusServiceUnavailable || strings.Contains(page, "密钥无效") {
			t.Fatalf("sign-in %d while the store is down: %d\n%s", i+1, status, page)
		}
	}
	f.svc.orgs = f.svc.svc
	if status, _, h := signIn(t, c, f.url+"/signin", f.uniKey); status != http.StatusSeeOther || h.Get("Location") != "/me" {
		t.Fatalf("sign-in once the store is back: %d to %q", status, h.Get("Location"))
	}
}
