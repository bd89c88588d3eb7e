package shard

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/spatehq/spate/apierr"
)

// smallDisk is an in-memory file system of a fixed capacity: a write that
// does not fit fails with ENOSPC, as a real disk's would, and
// GetDiskUsage reports what is left. It counts the ENOSPC failures and the
// free-space queries.
type smallDisk struct {
	vfs.FS

	mu       sync.Mutex
	capacity uint64
	used     uint64
	sizes    map[string]uint64
	enospc   int
	statfs   int
}

func newSmallDisk(fs vfs.FS, capacity uint64) *smallDisk {
	return &smallDisk{FS: fs, capacity: capacity, sizes: map[string]uint64{}}
}

func (d *smallDisk) grow(n uint64) {
	d.mu.Lock()
	d.capacity += n
	d.mu.Unlock()
}

func (d *smallDisk) usage() (used uint64, enospc, statfs int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used, d.enospc, d.statfs
}

func (d *smallDisk) track(f vfs.File, name string) vfs.File {
	d.mu.Lock()
	if _, ok := d.sizes[name]; !ok {
		d.sizes[name] = 0
	}
	d.mu.Unlock()
	return &smallDiskFile{File: f, d: d, name: name}
}

func (d *smallDisk) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := d.FS.Create(name, c)
	if err != nil {
		return nil, err
	}
	d.forget(name)
	return d.track(f, name), nil
}

func (d *smallDisk) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := d.FS.OpenReadWrite(name, c, opts...)
	if err != nil {
		return nil, err
	}
	return d.track(f, name), nil
}

func (d *smallDisk) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := d.FS.ReuseForWrite(oldname, newname, c)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.sizes[newname] = d.sizes[oldname]
	delete(d.sizes, oldname)
	d.mu.Unlock()
	return d.track(f, newname), nil
}

func (d *smallDisk) Remove(name string) error {
	if err := d.FS.Remove(name); err != nil {
		return err
	}
	d.forget(name)
	return nil
}

func (d *smallDisk) Rename(oldname, newname string) error {
	if err := d.FS.Rename(oldname, newname); err != nil {
		return err
	}
	d.forget(newname)
	d.mu.Lock()
	d.sizes[newname] = d.sizes[oldname]
	delete(d.sizes, oldname)
	d.mu.Unlock()
	return nil
}

func (d *smallDisk) forget(name string) {
	d.mu.Lock()
	d.used -= d.sizes[name]
	delete(d.sizes, name)
	d.mu.Unlock()
}

func (d *smallDisk) GetDiskUsage(string) (vfs.DiskUsage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.statfs++
	return vfs.DiskUsage{AvailBytes: d.capacity - d.used, TotalBytes: d.capacity, UsedBytes: d.used}, nil
}

type smallDiskFile struct {
	vfs.File
	d    *smallDisk
	name string
}

func (f *smallDiskFile) Write(p []byte) (int, error) {
	d := f.d
	d.mu.Lock()
	if d.used+uint64(len(p)) > d.capacity {
		d.enospc++
		d.mu.Unlock()
		return 0, &os.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	d.used += uint64(len(p))
	d.sizes[f.name] += uint64(len(p))
	d.mu.Unlock()
	return f.File.Write(p)
}

// TestDiskReserveRefusesWritesBeforeENOSPC fills a 24 MiB disk with a
// 4 MiB reserve: appends and Commits are refused with a DiskFullError
// (ServiceUnavailable, saying the disk is full) before any write fails with
// ENOSPC (which Pebble does not survive: "fatal commit error", os.Exit);
// every acknowledged record reads back; metadata writes and reads go on;
// writes resume once the disk has room again. The reserve's clock does not
// move until then, so the refusal comes from counting the bytes admitted
// since the one free-space query, not from querying per record.
func TestDiskReserveRefusesWritesBeforeENOSPC(t *testing.T) {
	ctx := context.Background()
	disk := newSmallDisk(vfs.NewMem(), 24<<20)
	clk := &fakeClock{}
	clk.advance(time.Hour)
	s := openTest(t, "db", withFS(disk), WithMinFreeDisk(4<<20), withDiskClock(clk.now))
	mustCreate(t, s, "s", 2)
	mustCreate(t, s, "t", 1)
	_, _, atOpen := disk.usage() // Open measures once (openNeeds)

	acked := map[string][]byte{}
	var refusal error
	appends := 0
	for refusal == nil {
		if appends > 100 {
			t.Fatalf("%d appends of 256 KiB to a 24 MiB disk all succeeded", appends)
		}
		data := make([]byte, 256<<10)
		_, _ = rand.Read(data)
		res, err := s.Append(ctx, "s", []Entry{{PartitionKey: fmt.Sprint(appends), Data: data}})
		appends++
		if err != nil {
			refusal = err
			break
		}
		acked[res[0].SequenceNumber] = data
	}
	wantDiskFull(t, refusal)
	used, enospc, statfs := disk.usage()
	statfs -= atOpen
	t.Logf("%d appends acknowledged, %d bytes used, %d free-space queries", len(acked), used, statfs)
	if enospc != 0 {
		t.Fatalf("%d writes failed with ENOSPC: the reserve did not stop appends in time", enospc)
	}
	if statfs > 2 {
		t.Errorf("%d free-space queries for %d appends: want them cached, not one per append", statfs, appends)
	}
	_, err := s.Commit(ctx, Commit{Appends: []StreamAppend{{Stream: "t", Entries: []Entry{{PartitionKey: "k", Data: make([]byte, 256<<10)}}}}})
	wantDiskFull(t, err)

	// Reads, metadata writes and listing go on.
	n := 0
	for _, sh := range []string{ShardID(0), ShardID(1)} {
		for _, r := range readAll(t, s, "s", sh, Position{Type: TrimHorizon}) {
			if want, ok := acked[r.SequenceNumber]; !ok || !bytes.Equal(r.Data, want) {
				t.Fatalf("record %s does not read back as acknowledged", r.SequenceNumber)
			}
			n++
		}
	}
	if n != len(acked) {
		t.Fatalf("read %d records, %d were acknowledged", n, len(acked))
	}
	if err := s.WriteValues(ctx, "test", ValueWrite{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatalf("WriteValues on a full disk: %v", err)
	}
	if err := s.AddTags(ctx, "s", map[string]string{"full": "yes"}); err != nil {
		t.Fatalf("AddTags on a full disk: %v", err)
	}

	// Space returns: within a second (the reserve's refresh) writes
	// resume, without a reopen.
	disk.grow(16 << 20)
	clk.advance(diskCheckInterval)
	if _, err := s.Append(ctx, "t", []Entry{{PartitionKey: "k", Data: []byte("after")}}); err != nil {
		t.Fatalf("Append once the disk has room again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, enospc, _ := disk.usage(); enospc != 0 {
		t.Fatalf("%d writes failed with ENOSPC", enospc)
	}
}

func wantDiskFull(t *testing.T, err error) {
	t.Helper()
	var full *DiskFullError
	if !errors.As(err, &full) {
		t.Fatalf("got %v, want a *DiskFullError", err)
	}
	wantCode(t, err, apierr.ServiceUnavailable)
	msg := apierr.MessageOf(err)
	for _, want := range []string{"disk is full", "free", "--min-free-disk"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
}

// TestDiskReserveAdmit checks the reserve's arithmetic: admitted bytes count
// twice (WAL and flush) against the free space until the next query, a write that would cross
// the reserve re-queries (at most every diskRecheckInterval), and a query
// happens at least every diskCheckInterval.
func TestDiskReserveAdmit(t *testing.T) {
	const MiB = 1 << 20
	disk := newSmallDisk(vfs.NewMem(), 50*MiB)
	clk := &fakeClock{}
	clk.advance(time.Hour)
	r := newDiskReserve("db", 20*MiB, disk, clk.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	steps := []struct {
		name    string
		advance time.Duration
		used    uint64 // set the disk's usage first
		admit   uint64
		ok      bool
		statfs  int // queries so far
	}{
		{"first write queries", 0, 0, 10 * MiB, true, 1},
		{"counted twice against the free space", 0, 0, 6 * MiB, false, 1},
		{"what still fits", 0, 0, 5 * MiB, true, 1},
		{"full: no query within the recheck interval", diskRecheckInterval / 2, 0, 1, false, 1},
		{"full: recheck sees space freed", diskRecheckInterval, 10 * MiB, 5 * MiB, true, 2},
		{"periodic query", diskCheckInterval, 35 * MiB, 1, false, 3},
	}
	for _, st := range steps {
		clk.advance(st.advance)
		if st.used != 0 {
			disk.mu.Lock()
			disk.used = st.used
			disk.mu.Unlock()
		}
		err := r.admit(st.admit)
		if (err == nil) != st.ok {
			t.Fatalf("%s: admit(%d) = %v, want ok=%v", st.name, st.admit, err, st.ok)
		}
		if _, _, statfs := disk.usage(); statfs != st.statfs {
			t.Fatalf("%s: %d free-space queries, want %d", st.name, statfs, st.statfs)
		}
	}
	var off *diskReserve // WithMinFreeDisk(0) and stores without a reserve
	if err := off.admit(1 << 40); err != nil {
		t.Fatalf("nil reserve refused: %v", err)
	}
}

// TestDeleteStreamFreesSpace: the space of a deleted stream's records goes
// back to the file system without waiting for compactions to reach it by
// chance (issue 11: deleting a 58 MB stream freed nothing for 15 s).
func TestDeleteStreamFreesSpace(t *testing.T) {
	ctx := context.Background()
	disk := newSmallDisk(vfs.NewMem(), 1<<30)
	s := openTest(t, "db", withFS(disk))
	mustCreate(t, s, "big", 1)
	mustCreate(t, s, "small", 1)
	for i := range 32 {
		data := make([]byte, 256<<10)
		_, _ = rand.Read(data)
		if _, err := s.Append(ctx, "big", []Entry{{PartitionKey: fmt.Sprint(i), Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, "small", []Entry{{PartitionKey: "k", Data: []byte("kept")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil { // the records move into an sstable
		t.Fatal(err)
	}
	before, _, _ := disk.usage()
	if err := s.DeleteStream(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // bounds a hang; no assertion on time
	for {
		used, _, _ := disk.usage()
		if used < before-6<<20 {
			t.Logf("used %d bytes before the delete, %d after", before, used)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleting an 8 MiB stream freed nothing: %d bytes used before, %d after", before, used)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := readAll(t, s, "small", ShardID(0), Position{Type: TrimHorizon}); len(got) != 1 || string(got[0].Data) != "kept" {
		t.Fatalf("the other stream after the delete: %v", got)
	}
}

// TestOpenOnFullDiskHonoursCancel: a WAL whose flush cannot be written (no
// room for the sstable) made Pebble's Open retry the flush in a tight loop
// forever, logging every failure. Now the retries back off, the repeated
// error is logged once, and OpenContext returns when its context ends.
func TestOpenOnFullDiskHonoursCancel(t *testing.T) {
	ctx := context.Background()
	mem := vfs.NewCrashableMem()
	s, err := Open("db", withFS(mem), WithMinFreeDisk(0))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 1)
	for i := range 10 {
		if _, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	_ = s.Close()

	failing := &noSSTables{FS: crashed, failed: make(chan struct{}, 100)}
	var logBuf syncBuffer
	openCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		st, err := OpenContext(openCtx, "db", withFS(failing),
			WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
		if err == nil {
			_ = st.Close()
		}
		done <- err
	}()
	for range 4 { // the replay flush fails, and is retried
		<-failing.failed
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenContext after its context was cancelled: %v, want context.Canceled", err)
	}
	if lines := strings.Count(logBuf.String(), "no space left on device"); lines != 1 {
		t.Errorf("the failed flush was logged %d times over 4 failures, want once:\n%s", lines, logBuf.String())
	}
}

// noSSTables fails the creation of every sstable with ENOSPC.
type noSSTables struct {
	vfs.FS
	failed chan struct{}
}

func (fs *noSSTables) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(name, ".sst") {
		select {
		case fs.failed <- struct{}{}:
		default:
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
	}
	return fs.FS.Create(name, c)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestBackgroundBackoff: the wait after a failed flush or compaction doubles
// up to backoffMax and starts over after a success.
func TestBackgroundBackoff(t *testing.T) {
	closed := make(chan struct{})
	close(closed) // fail returns at once; only the schedule is checked
	b := &backgroundBackoff{closing: closed}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	for _, w := range want {
		b.fail()
		if b.wait != w {
			t.Fatalf("wait %v, want %v", b.wait, w)
		}
	}
	for range 20 {
		b.fail()
	}
	if b.wait != backoffMax {
		t.Fatalf("wait %v after many failures, want the cap %v", b.wait, backoffMax)
	}
	b.reset()
	b.fail()
	if b.wait != backoffMin {
		t.Fatalf("wait %v after a success and a failure, want %v", b.wait, backoffMin)
	}
}

// TestPebbleErrorsRateLimited: one kind of Pebble error is logged at most
// once per pebbleErrorEvery, with the count of those it suppressed.
func TestPebbleErrorsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{}
	clk.advance(time.Hour)
	l := newPebbleLogger(slog.New(slog.NewTextHandler(&buf, nil)), clk.now)
	for range 100 {
		l.Errorf("flush failed: %v", "no space left on device")
	}
	l.Errorf("another error")
	clk.advance(pebbleErrorEvery)
	l.Errorf("flush failed: %v", "no space left on device")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[2], "suppressed_since_last=99") {
		t.Errorf("the repeat after the interval does not count the suppressed ones: %s", lines[2])
	}
}

// TestDataFilesPrivate: the data directory is 0700 and every file in it
// 0600, whatever the umask (issue 11, defect 8: 0644 files in a 0755
// directory); a directory an older version left open is closed at Open.
func TestDataFilesPrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "leftover")
	if err := os.WriteFile(old, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 1)
	if _, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("secret")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil { // an sstable too
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 4 {
		t.Fatalf("only %d files in the data directory", len(entries))
	}
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
		}
	}
	check(dir, 0o700)
	for _, e := range entries {
		if e.IsDir() {
			check(filepath.Join(dir, e.Name()), 0o700)
			continue
		}
		check(filepath.Join(dir, e.Name()), 0o600)
	}
}
