package functions

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spatehq/spate/apierr"
)

// errBadZip is Lambda's own message for a zip it cannot read.
const errBadZip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// checkZip checks that zip can be unpacked within the limits, without
// writing anything (UpdateFunctionCode's DryRun).
func checkZip(data []byte, lim zipLimits) error {
	_, err := unpack(data, "", lim)
	return err
}

// unzip unpacks data into dir, which must not exist, and returns the bytes
// written. On an error nothing is left behind. Entries must be regular
// files or directories with local names (no absolute path, no "..": zip
// slip); symbolic links are refused rather than followed. The limits are
// AWS's (MaxUnzippedBytes in all) and Spate's (MaxZipFiles), counted on the
// bytes actually inflated, not on what the zip's headers claim, so a zip
// bomb stops at the limit.
func unzip(data []byte, dir string, lim zipLimits) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return 0, fmt.Errorf("create code directory: %w", err)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return 0, fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return 0, fmt.Errorf("create code directory: %w", err)
	}
	n, err := unpack(data, tmp, lim)
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return 0, err
	}
	return n, nil
}

// unpack checks every entry of data and, when dir is not "", writes it
// under dir through an os.Root, which refuses any path that would leave
// dir (a second guard behind the name checks).
func unpack(data []byte, dir string, lim zipLimits) (int64, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, apierr.New(apierr.InvalidParameterValue, "%s (%v)", errBadZip, err)
	}
	if len(zr.File) > lim.files {
		return 0, apierr.New(apierr.InvalidParameterValue,
			"the zip holds %d entries; Spate unpacks at most %d", len(zr.File), lim.files)
	}
	// What the headers declare is checked first (a cheap refusal of an
	// honest bomb); the bytes inflated are counted below, and archive/zip
	// refuses an entry longer than its header says.
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(lim.bytes) {
			return 0, tooBig(lim)
		}
	}
	var root *os.Root
	if dir != "" {
		if root, err = os.OpenRoot(dir); err != nil {
			return 0, fmt.Errorf("open code directory: %w", err)
		}
		defer root.Close()
	}
	seen := make(map[string]bool, len(zr.File))
	var total int64
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if name == "" || strings.Contains(f.Name, `\`) || !filepath.IsLocal(name) || path.Clean(name) != name {
			return 0, apierr.New(apierr.InvalidParameterValue,
				"zip entry %q has an unsafe name: entries must be relative paths without '..', '\\' or '.' parts", clip(f.Name))
		}
		if seen[name] {
			return 0, apierr.New(apierr.InvalidParameterValue, "zip entry %q appears twice", clip(name))
		}
		seen[name] = true
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if root != nil {
				if err := root.MkdirAll(name, 0o755); err != nil {
					return 0, fmt.Errorf("unzip %s: %w", name, err)
				}
			}
			continue
		case mode&fs.ModeSymlink != 0:
			return 0, apierr.New(apierr.InvalidParameterValue,
				"zip entry %q is a symbolic link; Spate does not unpack links: zip the file it points to instead", clip(name))
		case !mode.IsRegular():
			return 0, apierr.New(apierr.InvalidParameterValue, "zip entry %q is not a regular file or directory", clip(name))
		}
		n, err := unpackFile(f, root, name, mode, lim.bytes-total, lim)
		total += n
		if err != nil {
			return 0, err
		}
	}
	return total, nil
}

// zipLimits bound what a zip may unpack to.
type zipLimits struct {
	bytes int64 // in all
	files int
}

var awsZipLimits = zipLimits{bytes: MaxUnzippedBytes, files: MaxZipFiles}

// tooBig is Lambda's error for code over the unzipped limit.
func tooBig(lim zipLimits) error {
	return apierr.New(apierr.InvalidParameterValue, "Unzipped size must be smaller than %d bytes", lim.bytes)
}

// errTooBig is unpackFile's sign that the budget ran out.
var errTooBig = errors.New("over budget")

// unpackFile inflates f (into root, unless root is nil) within budget
// bytes, and returns how many it inflated.
func unpackFile(f *zip.File, root *os.Root, name string, mode fs.FileMode, budget int64, lim zipLimits) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, apierr.New(apierr.InvalidParameterValue, "%s (entry %q: %v)", errBadZip, clip(name), err)
	}
	defer rc.Close()
	var w io.Writer = io.Discard
	if root != nil {
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil { // a file of that name, mostly
				return 0, apierr.New(apierr.InvalidParameterValue, "zip entry %q cannot be unpacked: %v", clip(name), err)
			}
		}
		perm := fs.FileMode(0o644)
		if mode&0o111 != 0 {
			perm = 0o755
		}
		out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return 0, apierr.New(apierr.InvalidParameterValue, "zip entry %q cannot be unpacked: %v", clip(name), err)
		}
		defer out.Close()
		w = out
	}
	n, err := io.Copy(w, &limitedReader{r: rc, left: budget})
	switch {
	case errors.Is(err, errTooBig):
		return n, tooBig(lim)
	case errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
		return n, apierr.New(apierr.InvalidParameterValue, "%s (entry %q: %v)", errBadZip, clip(name), err)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return n, fmt.Errorf("unzip %s: %w", name, err)
		}
		return n, apierr.New(apierr.InvalidParameterValue, "%s (entry %q: %v)", errBadZip, clip(name), err)
	}
	return n, nil
}

// limitedReader reads r until left bytes are read, then fails with
// errTooBig if r has more (io.LimitReader would end quietly).
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooBig
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
