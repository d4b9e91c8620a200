package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// loadClients is how many concurrent HTTP clients the load benchmarks run.
const loadClients = 64

// loadWorld is a served ledger with declared patents and licensees whose
// keys are known.
type loadWorld struct {
	url       string
	svc       *domain.Service
	numbers   []domain.PatentNumber
	decls     []string
	licensees []string
	keys      []string
}

func newLoadWorld(b *testing.B, patents, licensees int) *loadWorld {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Config{Service: svc, Store: st, AdminKey: "bench-admin", RateLimit: 1e9,
		Logger: discardLogger()})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	w := &loadWorld{url: ts.URL, svc: svc}
	uni := w.org(b, "华南理工大学", domain.OrgUniversity, "12440000455416125", false)
	for i := range licensees {
		id := w.org(b, fmt.Sprintf("广州企业%03d科技有限公司", i), domain.OrgEnterprise, fmt.Sprintf("91440101MA5F%05d", i), true)
		w.licensees = append(w.licensees, id)
		w.keys = append(w.keys, w.key(b, id))
	}
	w.numbers, w.decls = make([]domain.PatentNumber, patents), make([]string, patents)
	parallel(patents, func(i int) {
		w.numbers[i], w.decls[i] = w.declaredPatent(b, uni, i)
	})
	return w
}

func (w *loadWorld) org(b *testing.B, name string, kind domain.OrgKind, credit string, sme bool) string {
	c, err := domain.CreditCheckChar(credit)
	if err != nil {
		b.Fatal(err)
	}
	res, err := w.svc.RegisterOrg(context.Background(), domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{
		Name: name, Kind: kind, RegionCode: "440106", CreditCode: domain.CreditCode(credit + string(c)), SME: sme})
	if err != nil {
		b.Fatal(err)
	}
	return res.ID
}

// key issues a key through the HTTP API, as a client would get it.
func (w *loadWorld) key(b *testing.B, org string) string {
	req, _ := http.NewRequest("POST", w.url+"/v1/orgs/"+org+"/keys", nil)
	req.Header.Set("Authorization", "Bearer bench-admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Key string }
	if err := decodeJSON(resp.Body, &out); err != nil || out.Key == "" {
		b.Fatalf("key: %v %+v", err, out)
	}
	return out.Key
}

func (w *loadWorld) declaredPatent(b *testing.B, uni string, i int) (domain.PatentNumber, string) {
	ctx, admin := context.Background(), domain.Request{Actor: domain.AdminActor}
	digits := fmt.Sprintf("20201%07d", i)
	c, _ := domain.PatentCheckChar(digits)
	n := domain.PatentNumber("ZL" + digits + "." + string(c))
	_, err := w.svc.RegisterPatent(ctx, admin, domain.RegisterPatent{Number: string(n), Title: "一种储能电池管理方法",
		PatenteeIDs: []string{uni}, IPC: []string{"H01M 10/42"}, FiledOn: date("2020-03-15"), GrantedOn: date("2022-01-10")})
	if err != nil {
		b.Error(err)
		return n, ""
	}
	res, err := w.svc.FileDeclaration(ctx, admin, n, domain.FileDeclaration{Fee: domain.FeeTerms{Mode: domain.FeeLumpSum, LumpSumFen: 5_000_000},
		TermMonths: 36, DeclaredOn: date("2024-01-02")})
	if err != nil {
		b.Error(err)
	}
	return n, res.ID
}

// latencies collects request durations from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.all = append(l.all, d); l.mu.Unlock() }

func (l *latencies) p99() time.Duration {
	slices.Sort(l.all)
	if len(l.all) == 0 {
		return 0
	}
	return l.all[len(l.all)*99/100]
}

// runLoad sends n requests from loadClients goroutines, each built by
// request(i), and reports requests/s and p99 latency.
func runLoad(b *testing.B, n int, want int, request func(i int) *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients}}
	var next atomic.Int64
	var lat latencies
	b.ResetTimer()
	start := time.Now()
	parallelClients(func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			t0 := time.Now()
			resp, err := client.Do(request(i))
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat.add(time.Since(t0))
			if resp.StatusCode != want {
				b.Errorf("request %d: %d %s", i, resp.StatusCode, body)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "requests/s")
	b.ReportMetric(float64(lat.p99().Microseconds())/1000, "p99-ms")
}

// BenchmarkHTTPTakeOpenLicense: 64 concurrent SME clients each take open
// licences over loopback; b.N requests in all.
func BenchmarkHTTPTakeOpenLicense(b *testing.B) {
	const patents = 5000
	w := newLoadWorld(b, patents, b.N/patents+1)
	runLoad(b, b.N, http.StatusCreated, func(i int) *http.Request {
		l := i / patents
		body := fmt.Sprintf(`{"type":"open","licensee_id":%q,"effective_on":"2024-03-01","fee_paid_fen":5000000,"declaration_id":%q}`,
			w.licensees[l], w.decls[i%patents])
		req, _ := http.NewRequest("POST", w.url+"/v1/patents/"+string(w.numbers[i%patents])+"/licenses", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+w.keys[l])
		return req
	})
}

// BenchmarkHTTPGetPatent: 64 concurrent anonymous clients read patents.
func BenchmarkHTTPGetPatent(b *testing.B) {
	const patents = 2000
	w := newLoadWorld(b, patents, 1)
	runLoad(b, b.N, http.StatusOK, func(i int) *http.Request {
		req, _ := http.NewRequest("GET", w.url+"/v1/patents/"+string(w.numbers[i%patents]), nil)
		return req
	})
}
