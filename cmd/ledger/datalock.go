package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
