package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/projections"
)

// heldListings is the listings projection held at its first event until
// release is closed: a long first catch-up.
type heldListings struct {
	projections.Listings
	release chan struct{}
}

func (p heldListings) Apply(tx *projections.Tx, e domain.RecordedEvent, ev domain.Event) error {
	<-p.release
	return p.Listings.Apply(tx, e, ev)
}

// TestReadyOnlyOnceCaughtUp: while a projection replays the log the store
// held at the start, /healthz answers 200 and shows it catching up, and
// /readyz answers 503 with Retry-After naming it; once it has caught up,
// both answer 200 and nothing is catching up.
func TestReadyOnlyOnceCaughtUp(t *testing.T) {
	release := make(chan struct{})
	h := newReadsHarness(t, readsOptions{projections: []projections.Projection{heldListings{release: release}, projections.Tallies{}},
		beforeStart: func(svc *domain.Service) {
			_, err := svc.RegisterOrg(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{
				Name: "华南农业大学", Kind: domain.OrgUniversity, RegionCode: "440106", CreditCode: "12440000455416370G"})
			if err != nil {
				t.Fatal(err)
			}
		}})
	resp, body := h.getAny("/healthz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"catching_up":true,"checkpoint":0,"healthy":true,"lag":`) {
		t.Errorf("/healthz while the listings catch up: %d %s", resp.StatusCode, body)
	}
	resp, body = h.getAny("/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "listings at position 0 of ") {
		t.Errorf("/readyz while the listings catch up: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body = h.getAny("/readyz")
		if resp.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"catching_up":true`) {
		t.Errorf("/readyz once caught up: %d %s", resp.StatusCode, body)
	}
}
