package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

const samplePath = "../../examples/patents-sample.csv"

// localLedger registers the organisations the sample file names in a new
// data folder, as `ledger serve` would have, and returns the folder and the
// university's ID.
func localLedger(t *testing.T) (data, uni string) {
	t.Helper()
	ctx := context.Background()
	data = t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(data, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: newID})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name, credit string
		kind         domain.OrgKind
	}{{"中山大学", "12100000425006117", domain.OrgUniversity}, {"广州星能电池科技有限公司", "91440101MA5CXXXX1", domain.OrgEnterprise}} {
		c, _ := domain.CreditCheckChar(o.credit)
		res, err := svc.RegisterOrg(ctx, domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{Name: o.name, Kind: o.kind,
			RegionCode: "440105", CreditCode: domain.CreditCode(o.credit + string(c))})
		if err != nil {
			t.Fatal(err)
		}
		if uni == "" {
			uni = res.ID
		}
	}
	return data, uni
}

// runCLI runs the binary's entry point and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func localHead(t *testing.T, data string) int64 {
	t.Helper()
	return storeHead(t, data).Position
}

// storeHead is the head of the SQLite store in the data folder data.
func storeHead(t *testing.T, data string) domain.Head {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "events.db"), sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestImportLocal(t *testing.T) {
	data, uni := localLedger(t)
	before := localHead(t, data)

	code, out, errOut := runCLI(t, "import", samplePath, "--data", data, "--dry-run")
	if code != 0 || !strings.Contains(out, "28 rows: 28 imported, 0 unchanged, 0 rejected (dry run: nothing written)") || localHead(t, data) != before {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	empty := filepath.Join(t.TempDir(), "none") // a dry run creates no folder and no store
	if code, _, errOut := runCLI(t, "import", samplePath, "--data", empty, "--dry-run"); code != 2 ||
		!strings.Contains(errOut, "no event store in "+empty) {
		t.Errorf("dry run without a store: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dry run made %s: %v", empty, err)
	}
	code, out, errOut = runCLI(t, "import", "--data", data, "--as", uni, samplePath)
	if code != 0 || !strings.Contains(out, "28 rows: 28 imported, 0 unchanged, 0 rejected; position") ||
		!strings.Contains(out, "warning: row 24: IPC code G16H 50/20") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	after := localHead(t, data)
	if after != before+46 {
		t.Fatalf("head %d, want %d", after, before+46)
	}

	code, out, _ = runCLI(t, "import", samplePath, "--data", data, "--json")
	var a api.ImportAnswer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Unchanged != 28 || a.Position != after || localHead(t, data) != after {
		t.Fatalf("import again: exit %d %s", code, out)
	}

	// A file with a bad row exits 1 and names the row and its column as the
	// file spells it; the good row is written.
	lines := strings.SplitN(string(must2(os.ReadFile(samplePath))), "\n", 3)
	bad := strings.Replace(lines[1], "2018-03-15", "2018-02-30", 1)
	bad = strings.Replace(bad, "ZL201810123401.4", "ZL201810123402.9", 1)
	good := strings.Replace(lines[1], "ZL201810123401.4", "ZL201810123403.3", 1)
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte(lines[0]+"\n"+bad+"\n"+good+"\n"), 0o600)
	code, out, errOut = runCLI(t, "import", path, "--data", data)
	if code != 1 || !strings.Contains(out, "2 rows: 1 imported, 0 unchanged, 1 rejected") ||
		!strings.Contains(out, "row 2\t申请日 (filed_on)\tinvalid_argument") {
		t.Fatalf("bad row: exit %d\n%s%s", code, out, errOut)
	}
}

func must2[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestImportLocalFailures(t *testing.T) {
	data, _ := localLedger(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "usage: ledger import FILE"},
		{[]string{"import", "a.csv", "b.csv"}, "usage: ledger import FILE"},
		{[]string{"import", filepath.Join(data, "missing.csv"), "--data", data}, "no such file"},
		{[]string{"import", samplePath, "--server", "http://127.0.0.1:1"}, "--server needs --key"},
		{[]string{"import", samplePath, "--server", "localhost:8080", "--key", "k"}, "want http://HOST:PORT"},
		{[]string{"import", samplePath, "--server", "ftp://example.org", "--key", "k"}, "want http://HOST:PORT"},
		{[]string{"import", samplePath, "--server", "http://", "--key", "k"}, "want http://HOST:PORT"},
		{[]string{"import", samplePath, "--data", data, "--idempotency-key", "k"}, "--idempotency-key is for imports through a server"},
		{[]string{"import", "--data", data, "--as", "7f1f0e8e-0000-7000-8000-000000000000", samplePath}, "forbidden"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
	notAList := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(notAList, []byte("name,value\na,1\n"), 0o600)
	if code, _, errOut := runCLI(t, "import", notAList, "--data", data); code != 2 || !strings.Contains(errOut, "no header row") {
		t.Fatalf("not a list: exit %d %s", code, errOut)
	}
}

func TestImportThroughServer(t *testing.T) {
	s := startServer(t)
	_, uniKey := s.org(t, "中山大学", "university", "440105", "12100000425006117", false)
	s.org(t, "广州星能电池科技有限公司", "enterprise", "440113", "91440101MA5CXXXX1", true)
	before := s.head(t)

	code, out, errOut := runCLI(t, "import", samplePath, "--server", s.base, "--key", uniKey)
	if code != 0 || !strings.Contains(out, "28 rows: 28 imported, 0 unchanged, 0 rejected; position") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if s.head(t) != before+46 {
		t.Fatalf("head %d, want %d", s.head(t), before+46)
	}
	code, out, _ = runCLI(t, "import", samplePath, "--server", s.base+"/", "--key", uniKey, "--dry-run", "--json")
	var a api.ImportAnswer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Unchanged != 28 {
		t.Fatalf("again: exit %d %s", code, out)
	}
	// With an idempotency key, running the import again answers its first report.
	// A first keyed import records its receipt (two events); the repeat
	// writes nothing.
	headAfterKeyed := int64(0)
	for range 2 {
		code, out, errOut = runCLI(t, "import", samplePath, "--server", s.base, "--key", uniKey, "--idempotency-key", "list-2024-07", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Unchanged != 28 || a.Imported != 0 {
			t.Fatalf("keyed import: exit %d %s%s", code, out, errOut)
		}
		if headAfterKeyed == 0 {
			headAfterKeyed = s.head(t)
		}
		if s.head(t) != headAfterKeyed || headAfterKeyed != before+48 {
			t.Fatalf("head %d after the keyed imports, want %d", s.head(t), before+48)
		}
	}
	code, _, errOut = runCLI(t, "import", filepath.Join("..", "..", "README.md"), "--server", s.base, "--key", uniKey, "--idempotency-key", "list-2024-07")
	if code != 2 || !strings.Contains(errOut, "idempotency_mismatch") || s.head(t) != headAfterKeyed {
		t.Fatalf("another file under the key: exit %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "import", samplePath, "--server", s.base, "--key", "lk_nobody_x_y")
	if code != 2 || !strings.Contains(errOut, "401 unauthenticated") {
		t.Fatalf("bad key: exit %d %s", code, errOut)
	}
	// A bad row is reported as a local import reports it, naming the
	// column as the file spells it.
	lines := strings.SplitN(string(must2(os.ReadFile(samplePath))), "\n", 3)
	bad := strings.Replace(strings.Replace(lines[1], "2018-03-15", "2018-02-30", 1), "ZL201810123401.4", "ZL201810123402.9", 1)
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte(lines[0]+"\n"+bad+"\n"), 0o600)
	code, out, errOut = runCLI(t, "import", path, "--server", s.base, "--key", uniKey, "--dry-run")
	if code != 1 || !strings.Contains(out, "row 2\t申请日 (filed_on)\tinvalid_argument") {
		t.Fatalf("bad row: exit %d\n%s%s", code, out, errOut)
	}
}

func TestImportManyRejectedRows(t *testing.T) {
	// The report lists the first 10,000 problems; the counts cover every
	// row, and the JSON says the list is cut short.
	data, _ := localLedger(t)
	var b strings.Builder
	b.WriteString("number,title,patentees,ipc,filed_on,granted_on\n")
	const rows = 10_005
	for i := range rows {
		digits := fmt.Sprintf("20201%07d", i)
		c, _ := domain.PatentCheckChar(digits)
		fmt.Fprintf(&b, "ZL%s.%c,一种电池,中山大学,H01M 10/42,2020-02-30,2022-01-10\n", digits, c)
	}
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", path, "--data", data, "--dry-run")
	if code != 1 || !strings.HasPrefix(out, "10005 rows: 0 imported, 0 unchanged, 10005 rejected (dry run: nothing written); the first 10000 problems are listed\n") {
		t.Fatalf("exit %d\n%.300s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "import", path, "--data", data, "--dry-run", "--json")
	var a api.ImportAnswer
	if code != 1 || json.Unmarshal([]byte(out), &a) != nil || a.RejectedRows != rows || !a.Truncated || len(a.Rejected) != 10_000 {
		t.Fatalf("exit %d, answer rows %d rejected_rows %d truncated %v listed %d", code, a.Rows, a.RejectedRows, a.Truncated, len(a.Rejected))
	}
}

// TestImportReportOfOneRow: the report of a one-row list reads "1 row: …",
// not "1 rows: …".
func TestImportReportOfOneRow(t *testing.T) {
	data, _ := localLedger(t)
	lines := strings.SplitN(string(must2(os.ReadFile(samplePath))), "\n", 3)
	path := filepath.Join(t.TempDir(), "one.csv")
	if err := os.WriteFile(path, []byte(lines[0]+"\n"+lines[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", path, "--data", data, "--dry-run")
	if want := "1 row: 1 imported, 0 unchanged, 0 rejected (dry run: nothing written)\n"; code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("exit %d, %q%s; want %q", code, out, errOut, want)
	}
	var b strings.Builder
	printImportReport(&b, api.ImportAnswer{Rows: 2, Imported: 1, RejectedRows: 1, Position: 9}, importFlags{})
	if want := "2 rows: 1 imported, 0 unchanged, 1 rejected; position 9\n"; b.String() != want {
		t.Fatalf("%q, want %q", b.String(), want)
	}
}

// TestInterruptedImportSaysWhatItLeft: an import stopped by a signal says
// what it wrote and that the same import finishes it, instead of "context
// canceled" after a report whose rows do not add up (rows read but never
// written were counted).
func TestInterruptedImportSaysWhatItLeft(t *testing.T) {
	data, _ := localLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"import", samplePath, "--data", data}, &out, &errOut)
	if want := "ledger import: interrupted; no row was imported; run the same import again to finish it"; code != 2 || out.Len() != 0 || !strings.HasPrefix(errOut.String(), want) {
		t.Fatalf("exit %d, %q %q; want exit 2 and %q", code, out.String(), errOut.String(), want)
	}
	for _, tc := range []struct {
		answer api.ImportAnswer
		f      importFlags
		want   string
	}{
		{api.ImportAnswer{Rows: 1008, Imported: 252, Unchanged: 3, RejectedRows: 1, Position: 12615}, importFlags{},
			"252 rows were imported before it (up to position 12615), and 3 unchanged, 1 rejected; the rest of the file was not: run the same import again"},
		{api.ImportAnswer{}, importFlags{remote: remote{server: "http://127.0.0.1:1"}},
			"the server may have imported the first rows of the file before the upload was cut"},
		{api.ImportAnswer{Rows: 9, Imported: 9}, importFlags{dryRun: true}, "a dry run writes nothing"},
	} {
		if got := interruptedImport(tc.answer, tc.f); !strings.HasPrefix(got, tc.want) {
			t.Errorf("interruptedImport(%+v, %+v) = %q, want it to start %q", tc.answer, tc.f, got, tc.want)
		}
	}
}

// TestImportLocalNeedsAStore: a local import into a data folder that holds
// no event store (a mistyped --data, or ./data seen from the wrong working
// directory) is refused as the dry run is, and creates nothing there:
// it created an empty ledger, then rejected every row for naming an
// unknown organisation.
func TestImportLocalNeedsAStore(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo-folder")
	empty := t.TempDir()
	for _, data := range []string{missing, empty} {
		code, out, errOut := runCLI(t, "import", samplePath, "--data", data)
		if want := "no event store in " + data + " (no events.db there; is --data right?)"; code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("--data %s: exit %d, %.200q %q; want exit 2 and %q", data, code, out, errOut, want)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the import made %s: %v", missing, err)
	}
	if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
		t.Errorf("the import left %v in the empty folder (%v)", entries, err)
	}
}

// TestImportSummarySaysWhichListWasCut: the summary says "the first N
// problems are listed" only when the rejections were cut short, and says
// so of the warnings when they were (it said "the first 0 problems are
// listed"); a warning on many rows is printed once, with its rows.
func TestImportSummarySaysWhichListWasCut(t *testing.T) {
	warnings := func(n int, msg string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("row %d: %s", i+2, msg)
		}
		return out
	}
	ipc := "IPC code C01B 32/05 is not in IPC 2016.01"
	for _, tc := range []struct {
		answer api.ImportAnswer
		want   string
	}{
		{api.ImportAnswer{Rows: 6000, Imported: 6000, Warnings: warnings(domain.MaxListedWarnings, ipc), Truncated: true},
			"6000 rows: 6000 imported, 0 unchanged, 0 rejected (dry run: nothing written); the first 1000 warnings are listed\n" +
				"warning: rows 2, 3, 4, 5, 6, … (1000 rows): " + ipc + "\n"},
		{api.ImportAnswer{Rows: 10005, RejectedRows: 10005, Rejected: make([]api.ImportRejected, domain.MaxListedRejected),
			Warnings: []string{"row 2: a", "row 3: b", "row 4: a"}, Truncated: true},
			"10005 rows: 0 imported, 0 unchanged, 10005 rejected (dry run: nothing written); the first 10000 problems are listed\n"},
		{api.ImportAnswer{Rows: 3, Imported: 3, Warnings: []string{"row 2: a", "row 3: b", "row 4: a"}},
			"3 rows: 3 imported, 0 unchanged, 0 rejected (dry run: nothing written)\nwarning: rows 2, 4: a\nwarning: row 3: b\n"},
	} {
		var b strings.Builder
		printImportReport(&b, tc.answer, importFlags{dryRun: true})
		got := b.String()
		if first, _, _ := strings.Cut(tc.want, "\n"); !strings.HasPrefix(got, first+"\n") || !strings.HasSuffix(got, tc.want[len(first)+1:]) {
			t.Errorf("got\n%.500s\nwant\n%s", got, tc.want)
		}
	}
}
