package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/patentledger/ledger/importer"
)

// lockFileName is the file of the data folder that `ledger serve` and
// `ledger rebuild` lock while they use the folder.
const lockFileName = "ledger.lock"

// errFolderLocked is what tryLock returns when another process holds the
// lock.
var errFolderLocked = errors.New("locked by another process")

// lockDataFolder prepares the data folder and takes it for this process
// alone until release is called or the process ends, however it ends: two
// processes writing one folder's read models undo each other's checkpoints
// and stop each other's projections. It returns an error naming the
// process that holds the folder when another `ledger serve` or `ledger
// rebuild` does. command is this process's, recorded for such a message.
func (c *config) lockDataFolder(command string) (release func() error, err error) {
	if err := c.prepareDataFolder(); err != nil {
		return nil, err
	}
	path := filepath.Join(c.data, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	if err := tryLock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errFolderLocked) {
			return nil, fmt.Errorf("the data folder %s is in use by %s; stop it first, or give another --data",
				c.data, cmp.Or(strings.TrimSpace(string(holder)), "another ledger process"))
		}
		return nil, fmt.Errorf("lock the data folder %s: %w", c.data, err)
	}
	holder := fmt.Sprintf("ledger %s (pid %d)\n", command, os.Getpid())
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(holder), 0) // only for the message of a refused process
	}
	return f.Close, nil // closing the file releases the lock
}

// tempFolderName is the folder of the data folder that holds a server's
// temporary files: imports' uploads spooled to disk and the sheets of
// their workbooks unzipped there (api.Config.TempDir).
const tempFolderName = "tmp"

// writeCheckPrefix starts the name of the file checkWritable makes.
const writeCheckPrefix = ".write-check-"

// serverTempPrefixes start the names of the files a server makes in its
// temporary folder: spooled uploads and workbook copies
// (importer.TempFilePrefix), the sheets the workbook library unzips (its
// own "excelize-") and write checks (writeCheckPrefix).
var serverTempPrefixes = []string{importer.TempFilePrefix, "excelize-", writeCheckPrefix}

// emptyTempFolder creates the data folder's temporary folder, or removes
// from it what a server that did not end cleanly (killed, or stopped while
// an import it could not cut went on) left there: only files a server
// names so (serverTempPrefixes), never anything else a tmp of the folder
// held before the ledger used it. It returns the folder's path, once it
// has checked that a file can be created there. Call it only while holding
// the data folder's lock: the files of a running server are in use. A tmp
// that is not a folder of its own, but a link (to a folder other programs
// or servers use, or back to the data folder itself) or a file, is
// refused.
func (c *config) emptyTempFolder(log *slog.Logger) (string, error) {
	dir := filepath.Join(c.data, tempFolderName)
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create the data folder's temporary folder: %w", err)
	}
	if err == nil {
		return dir, writableTempFolder(dir)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("the data folder's temporary folder: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("%s is not a folder but a link or a file: a server removes its leftovers from that folder when it starts, "+
			"so it must be the data folder's own; remove it and start again", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("the data folder's temporary folder: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if !slices.ContainsFunc(serverTempPrefixes, func(p string) bool { return strings.HasPrefix(e.Name(), p) }) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return "", fmt.Errorf("remove what an earlier run left in the data folder's temporary folder: %w", err)
		}
		removed++
	}
	if removed > 0 {
		log.Info("removed the temporary files an earlier run left", "folder", dir, "files", removed)
	}
	if others := len(entries) - removed; others > 0 {
		log.Info("the data folder's temporary folder holds files the ledger did not make; they are left as they are", "folder", dir, "files", others)
	}
	return dir, writableTempFolder(dir)
}

// writableTempFolder checks that the temporary folder dir takes files:
// without it, every import that spools its upload would fail.
func writableTempFolder(dir string) error {
	if err := checkWritable(dir); err != nil {
		return fmt.Errorf("the data folder's temporary folder %s is not writable: %w", dir, err)
	}
	return nil
}
