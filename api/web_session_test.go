package api

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"golang.org/x/crypto/scrypt"
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
