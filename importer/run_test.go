package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/importer"
)

// newLedgerWithUniversity opens a new ledger holding 中山大学 and returns
// its service and the university's ID.
func newLedgerWithUniversity(t *testing.T) (*domain.Service, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := domain.NewService(st, domain.ServiceOptions{NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := domain.CreditCheckChar("12100000425006117")
	uni, err := svc.RegisterOrg(ctx, domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{Name: "中山大学",
		Kind: domain.OrgUniversity, RegionCode: "440105", CreditCode: domain.CreditCode("12100000425006117" + string(c))})
	if err != nil {
		t.Fatal(err)
	}
	return svc, uni.ID
}

// importedWith imports a CSV file into a new ledger holding 中山大学 and
// returns the report.
func importedWith(t *testing.T, csv string) domain.ImportReport {
	t.Helper()
	ctx := context.Background()
	svc, _ := newLedgerWithUniversity(t)
	admin := domain.Request{Actor: domain.AdminActor}
	rd, err := importer.NewReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	im, err := svc.NewImport(ctx, admin, domain.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := importer.Run(ctx, rd, im, nil); err != nil {
		t.Fatal(err)
	}
	return im.Report()
}

// TestProblemsOfContinuingRowsNameTheirRow: an unknown co-owner or a
// malformed IPC code on a row that continues a patent is rejected on the
// patent's row, naming the row that holds it (the audit found only the
// first row named, where the value is valid).
func TestProblemsOfContinuingRowsNameTheirRow(t *testing.T) {
	rep := importedWith(t, "专利号,专利名称,专利权人,IPC分类号,申请日,授权公告日\n"+
		number(t, "202010000001")+",续行,中山大学,G06F 17/00,2020-01-04,2022-01-01\n"+
		",,不存在的公司,BADIPC,,\n")
	if rep.RejectedRows != 1 || len(rep.Rejected) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Rejected {
		if r.Row != 2 || !strings.HasPrefix(r.Message, "row 3, which continues this patent: ") {
			t.Errorf("rejection %+v does not name row 3", r)
		}
	}
}

// TestRunReportsTheBytesOfTheRowsHandedOver: the progress of an import
// follows the rows handed to the import, not the reader's read-ahead of
// the next chunk, which made a terminal's bar jump to a third of a file
// before a row was written: each report's byte count covers the rows
// handed over and at most the readers' buffers beyond them.
func TestRunReportsTheBytesOfTheRowsHandedOver(t *testing.T) {
	ctx := context.Background()
	svc, uni := newLedgerWithUniversity(t)
	admin := domain.Request{Actor: domain.AdminActor}
	var file bytes.Buffer
	file.WriteString("number,title,abstract,patentees,ipc,filed_on,granted_on\n")
	const rows = 4 * importer.ChunkRows
	ends := make([]int64, rows) // the offset after each row
	abstract := strings.Repeat("一种固态电解质的制备方法，", 30)
	for i := range rows {
		fmt.Fprintf(&file, "%s,一种电池%d,%s,%s,H01M 10/0562,2020-03-15,2022-01-10\n", number(t, fmt.Sprintf("20201%07d", i+1)), i, abstract, uni)
		ends[i] = int64(file.Len())
	}
	rd, err := importer.NewReader(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	im, err := svc.NewImport(ctx, admin, domain.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const readAhead = 2 * 64 << 10 // the readers' buffers
	reports := 0
	err = importer.Run(ctx, rd, im, func(handed int, bytesRead int64) {
		reports++
		if handed < 1 || handed > rows || bytesRead < ends[handed-1] || bytesRead > ends[handed-1]+readAhead {
			t.Errorf("%d rows handed over (%d bytes), reported with %d bytes read", handed, ends[max(handed, 1)-1], bytesRead)
		}
	})
	if err != nil || reports != rows/importer.ChunkRows || im.Report().Imported != rows {
		rep := im.Report()
		t.Fatalf("import: %v, %d reports, %d rows imported, %d rejected", err, reports, rep.Imported, rep.RejectedRows)
	}
}
