package domain_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// olderBuild is a store as a build before 2026-11-29 wrote it: every event
// of a keyed command carries hash, the command hash of that build, in
// place of this build's.
type olderBuild struct {
	domain.EventStore
	hash string
}

func (o olderBuild) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	for i := range appends {
		for j := range appends[i].Events {
			if m := &appends[i].Events[j].Meta; m.IdempotencyKey != "" {
				m.CommandHash = o.hash
			}
		}
	}
	return o.EventStore.Append(ctx, appends...)
}

// TestAKeyRecordedByAnOlderBuildStillRepeats: a licence granted under an
// Idempotency-Key by a build that hashed the command's whole JSON is
// answered its first result when the same request is repeated after the
// upgrade, not 422; another request under the key is still refused.
func TestAKeyRecordedByAnOlderBuildStillRepeats(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	w := newWorld(t, newService(t, st))
	n, declID := w.declared("202010123456")
	req := as(w.sme)
	req.IdempotencyKey = "order-7731"
	grant := openLicense(w.sme, declID)
	fields, err := json.Marshal(grant)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("grant_license\x00" + string(n) + "\x00" + string(fields)))
	first, err := newService(t, olderBuild{EventStore: st, hash: hex.EncodeToString(sum[:])}).GrantLicense(ctx, req, n, grant)
	if err != nil {
		t.Fatal(err)
	}
	upgraded := newService(t, st)
	before := head(t, st)
	again, err := upgraded.GrantLicense(ctx, req, n, openLicense(w.sme, declID))
	if err != nil || !again.Repeat || again.ID != first.ID || again.Position != first.Position || head(t, st) != before {
		t.Fatalf("the repeat after the upgrade: %+v, %v; first %+v", again, err, first)
	}
	other := openLicense(w.sme, declID)
	other.FeePaidFen++
	if _, err := upgraded.GrantLicense(ctx, req, n, other); !errors.Is(err, domain.ErrIdempotencyMismatch) {
		t.Fatalf("another request under the key after the upgrade: %v, want idempotency_mismatch", err)
	}
}
