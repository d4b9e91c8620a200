package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// benchImportRows is the size of the generated file; LEDGER_BENCH_IMPORT_ROWS
// overrides it (the target is stated for 100,000 rows).
func benchImportRows() int {
	if n, err := strconv.Atoi(os.Getenv("LEDGER_BENCH_IMPORT_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchImportFile writes the generated patent list of n rows into dir: a
// CSV file, or an .xlsx workbook when LEDGER_BENCH_IMPORT_FORMAT is xlsx.
// It returns its path and size.
func benchImportFile(b *testing.B, dir string, n int) (string, int64) {
	b.Helper()
	if os.Getenv("LEDGER_BENCH_IMPORT_FORMAT") == "xlsx" {
		path := filepath.Join(dir, "patents.xlsx")
		return path, writeBenchXLSX(b, path, n)
	}
	path := filepath.Join(dir, "patents.csv")
	return path, writeBenchCSV(b, path, n)
}

// benchHeader is the header row of the generated patent list.
var benchHeader = []string{"专利号", "专利名称", "专利权人", "IPC分类号", "申请日", "授权公告日", "摘要", "许可费支付方式", "lump_sum_fen", "许可期限(月)", "declared_on"}

// benchRow returns the cells of row i of the generated patent list: every
// row a new invention of 中山大学, every other one declared for a lump sum.
func benchRow(i int) []string {
	ipc := []string{"H01M 10/0562", "G06T 7/00; G06N 3/04", "A61K 36/00", "C02F 1/44", "H04L 9/32 (2006.01)"}
	year := 2010 + i%12
	digits := fmt.Sprintf("%d1%07d", year, i)
	c, _ := domain.PatentCheckChar(digits)
	row := []string{fmt.Sprintf("ZL%s.%c", digits, c), fmt.Sprintf("一种储能电池管理系统及其控制方法%d", i), "中山大学", ipc[i%len(ipc)],
		fmt.Sprintf("%d-03-15", year), fmt.Sprintf("%d-06-01", year+2), "本发明公开了一种储能电池管理系统，通过多传感器融合估计电池荷电状态，提高了储能系统的安全性与循环寿命。",
		"", "", "", ""}
	if i%2 == 0 {
		copy(row[7:], []string{"一次性支付", "5000000", "36", "2024-03-01"})
	}
	return row
}

// writeBenchCSV writes the generated patent list of n rows as a CSV file.
func writeBenchCSV(b testing.TB, path string, n int) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(strings.Join(benchHeader, ",") + "\n")
	for i := range n {
		w.WriteString(strings.Join(benchRow(i), ",") + "\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	info, _ := f.Stat()
	f.Close()
	return info.Size()
}

// writeBenchXLSX writes the generated patent list of n rows as a workbook
// of text cells, streamed row by row.
func writeBenchXLSX(b *testing.B, path string, n int) int64 {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	for i := -1; i < n; i++ {
		cells := benchHeader
		if i >= 0 {
			cells = benchRow(i)
		}
		row := make([]any, len(cells))
		for j, v := range cells {
			row[j] = v
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// heapPeak samples the heap while a benchmark runs and keeps its peak.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak.Load() {
				h.peak.Store(ms.HeapInuse)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkImportCSV imports a generated CSV (or workbook, see
// benchImportFile) end to end through `ledger import` into a fresh SQLite
// data folder: reading, parsing, deciding and appending (fsync'd) in
// batches of 500 rows. It reports rows/s and the peak heap in use.
func BenchmarkImportCSV(b *testing.B) {
	n := benchImportRows()
	dir := b.TempDir()
	path, size := benchImportFile(b, dir, n)
	b.SetBytes(size)
	var peak uint64
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		data := filepath.Join(dir, fmt.Sprintf("data%d", i))
		benchLedger(b, data)
		runtime.GC()
		b.StartTimer()
		h := startHeapPeak()
		start, cpuStart := time.Now(), cpuTime()
		var stdout, stderr bytesCounter
		if code := run(context.Background(), []string{"import", path, "--data", data}, &stdout, &stderr); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.tail)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpuStart
		peak = max(peak, h.done())
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "rows/s")
	// The machine is shared: rows per CPU-second (all threads) says what
	// the import costs whatever else runs.
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImportCSVAgain imports the same generated CSV a second time:
// every row is read, checked against its patent's stored state and found
// unchanged; nothing is written.
func BenchmarkImportCSVAgain(b *testing.B) {
	n := benchImportRows()
	dir := b.TempDir()
	path := filepath.Join(dir, "patents.csv")
	b.SetBytes(writeBenchCSV(b, path, n))
	data := filepath.Join(dir, "data")
	benchLedger(b, data)
	var stdout, stderr bytesCounter
	if code := run(context.Background(), []string{"import", path, "--data", data}, &stdout, &stderr); code != 0 {
		b.Fatalf("exit %d: %s", code, stderr.tail)
	}
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for range b.N {
		start, cpuStart := time.Now(), cpuTime()
		stdout.tail = ""
		if code := run(context.Background(), []string{"import", path, "--data", data}, &stdout, &stderr); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.tail)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpuStart
	}
	if want := fmt.Sprintf("%d rows: 0 imported, %d unchanged", n, n); !strings.Contains(stdout.tail, want) {
		b.Fatalf("want %q, got %s", want, stdout.tail)
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "rows/cpu-s")
}

// benchLedger registers 中山大学 in a new data folder.
func benchLedger(b testing.TB, data string) {
	ctx := context.Background()
	if err := os.MkdirAll(data, 0o750); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(data, "events.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, _ := domain.NewService(st, domain.ServiceOptions{NewID: newID})
	c, _ := domain.CreditCheckChar("12100000425006117")
	if _, err := svc.RegisterOrg(ctx, domain.Request{Actor: domain.AdminActor}, domain.RegisterOrg{Name: "中山大学",
		Kind: domain.OrgUniversity, RegionCode: "440105", CreditCode: domain.CreditCode("12100000425006117" + string(c))}); err != nil {
		b.Fatal(err)
	}
}

// bytesCounter keeps the end of what is written to it.
type bytesCounter struct{ tail string }

func (c *bytesCounter) Write(p []byte) (int, error) {
	c.tail += string(p)
	if len(c.tail) > 4096 {
		c.tail = c.tail[len(c.tail)-4096:]
	}
	return len(p), nil
}
