package shard

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Modes of everything a store creates on disk: the data is the users' and
// nobody else on the machine may read it.
const (
	privateFileMode os.FileMode = 0o600
	privateDirMode  os.FileMode = 0o700
)

// privateFS is the OS's file system as Pebble sees it, except that every
// file it creates is 0600 and every directory 0700, whatever the umask.
// Pebble creates all its files (tables, WALs, MANIFEST, OPTIONS, LOCK,
// markers) through its vfs.FS, so this is the one place that guarantees it.
//
// vfs.Default creates files with mode 0666 (less the umask); changing the
// mode right after creation leaves a moment where a file is 0644, which is
// harmless because its directory is 0700 and nobody else can reach it.
type privateFS struct {
	vfs.FS
}

var _ vfs.FS = privateFS{}

func (fs privateFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil {
		return nil, err
	}
	return f, closeOnError(f, os.Chmod(name, privateFileMode))
}

func (fs privateFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, category, opts...)
	if err != nil {
		return nil, err
	}
	return f, closeOnError(f, os.Chmod(name, privateFileMode))
}

func (fs privateFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil {
		return nil, err
	}
	return f, closeOnError(f, os.Chmod(newname, privateFileMode))
}

func (fs privateFS) Lock(name string) (io.Closer, error) {
	l, err := fs.FS.Lock(name)
	if err != nil {
		return nil, err
	}
	return l, closeOnError(l, os.Chmod(name, privateFileMode))
}

func (fs privateFS) MkdirAll(dir string, _ os.FileMode) error {
	return fs.FS.MkdirAll(dir, privateDirMode)
}

func closeOnError(c io.Closer, err error) error {
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("make private: %w", err)
	}
	return nil
}

// tightenDir makes dir 0700 and the files in it 0600: a data directory
// written by an older version (0755, 0644) or created by hand is closed to
// other users when the store opens. Subdirectories are left alone: Pebble
// keeps none, and anything else there is not the store's.
func tightenDir(dir string) error {
	fi, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return os.MkdirAll(dir, privateDirMode)
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != privateDirMode {
		if err := os.Chmod(dir, privateDirMode); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if info.Mode().Perm()&^privateFileMode != 0 {
			if err := os.Chmod(filepath.Join(dir, e.Name()), privateFileMode); err != nil {
				return err
			}
		}
	}
	return nil
}
