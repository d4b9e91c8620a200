package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openTerminal opens a pseudo-terminal: the terminal a command writes to,
// and the master side that reads what it wrote.
func openTerminal(t *testing.T) (terminal, master *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock, n uint32
	for _, ioctl := range []struct {
		req uintptr
		arg *uint32
	}{{syscall.TIOCSPTLCK, &unlock}, {syscall.TIOCGPTN, &n}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), ioctl.req, uintptr(unsafe.Pointer(ioctl.arg))); errno != 0 {
			t.Skipf("no pseudo-terminal: %v", errno)
		}
	}
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { terminal.Close() })
	return terminal, master
}

// TestImportDrawsAProgressBarOnATerminal: CONTRACT.md's `ledger import`
// "prints a progress bar and the same report": on a terminal, a list that
// takes a while shows the bar before the report; written to a file or a
// pipe, the output is the report alone.
func TestImportDrawsAProgressBarOnATerminal(t *testing.T) {
	const rows = 3_000
	data := t.TempDir()
	benchLedger(t, data)
	list := filepath.Join(t.TempDir(), "patents.csv")
	writeBenchCSV(t, list, rows)
	summary := fmt.Sprintf("%d rows: %d imported", rows, rows)
	terminal, master := openTerminal(t)
	var shown bytes.Buffer
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(&shown, master) // ends when the terminal closes
		close(copied)
	}()
	code := run(context.Background(), []string{"import", "--data", data, "--dry-run", list}, terminal, io.Discard)
	terminal.Close()
	<-copied
	out := shown.String()
	bar, report := strings.Index(out, "importing"), strings.Index(out, summary)
	if code != 0 || bar < 0 || report < bar {
		t.Fatalf("exit %d; the terminal showed %q, want the bar (importing) and then the report", code, out)
	}
	if code, out, _ := runCLI(t, "import", "--data", data, "--dry-run", list); code != 0 || strings.Contains(out, "importing") ||
		!strings.HasPrefix(out, summary) {
		t.Fatalf("not on a terminal: exit %d, output %q, want the report alone", code, out)
	}
}
