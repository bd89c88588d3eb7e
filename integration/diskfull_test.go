//go:build linux

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The small file system TestDiskFull fills, and the reserve the server keeps
// on it. Pebble preallocates every WAL file at 1.1 × the 64 MiB memtable,
// and tmpfs really allocates it; while the first memtables are small (Pebble
// grows them from 256 KiB) each 1 MiB put starts a new WAL, so several of
// them hold 70 MiB each until their flushes.
const (
	diskFullFSSize  = "512m"
	diskFullReserve = "128MiB"
)

// TestDiskFull fills a small tmpfs through the Kinesis API (issue 11, defect
// 2: the server used to die with "pebble: fatal commit error: no space left
// on device" and could not start again). It checks that puts are refused
// with a 503 ServiceUnavailable that says the disk is full before the disk
// is, that every acknowledged record reads back exactly, that the server
// stays up for reads and starts again on the full disk, and that deleting a
// stream gives its space back so that writes resume by themselves.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, diskFullFSSize)
	k := newKin(t, withDataDir(dir), withArgs("--min-free-disk", diskFullReserve))
	// Longer than testCtx: it moves a few hundred MiB through a race-built
	// server, twice, and reads it all back three times.
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	full, other := uniqueName(t)+"-full", uniqueName(t)+"-other"
	k.create(ctx, t, full, 2)
	k.create(ctx, t, other, 1)

	acked := map[string][]byte{}
	refusal := fillUntilRefused(ctx, t, k, full, acked)
	t.Logf("%d records of 1 MiB acknowledged before the refusal: %v", len(acked), refusal)
	wantDiskFull(t, refusal)
	if free := freeBytes(t, dir); free == 0 {
		t.Fatalf("the file system is completely full: the reserve did not hold")
	}

	// The SDK retries a 503; what the user finally sees still says why.
	_, err := k.srv.KinesisRetrying(t).PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(other), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20-16),
	})
	if err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("PutRecord with the SDK's default retries: %v, want an error that says the disk is full", err)
	}
	t.Logf("with retries the SDK reports: %v", err)

	checkReadsBack(ctx, t, k, full, acked)
	if _, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("ListStreams on a full disk: %v", err)
	}

	// A clean stop and a start on the full disk: it serves reads. The stop
	// flushed the memtables and let Pebble drop their preallocated WALs, so
	// it may take some more records before it is full again.
	k.restart(t)
	checkReadsBack(ctx, t, k, full, acked)
	wantDiskFull(t, fillUntilRefused(ctx, t, k, full, acked))
	checkReadsBack(ctx, t, k, full, acked)

	// Deleting the stream gives its space back; writes resume without a
	// restart.
	before := freeBytes(t, dir)
	if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(full)}); err != nil {
		t.Fatalf("DeleteStream on a full disk: %v", err)
	}
	k.waitGone(ctx, t, full)
	// The space comes back through a compaction DeleteStream starts in the
	// background, so wait for it (the context bounds the wait).
	for freeBytes(t, dir) <= before {
		select {
		case <-ctx.Done():
			t.Fatalf("deleting the stream freed no space: %d bytes free, %d before the delete", freeBytes(t, dir), before)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for attempt := 0; ; attempt++ {
		_, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(other), PartitionKey: aws.String("k"), Data: []byte("after the delete"),
		})
		if err == nil {
			t.Logf("writes resumed after %d refused attempts; free space went from %d to %d bytes", attempt, before, freeBytes(t, dir))
			break
		}
		wantDiskFull(t, err)
		select {
		case <-ctx.Done():
			t.Fatalf("writes did not resume after the stream was deleted (free space %d bytes, %d before the delete)", freeBytes(t, dir), before)
		case <-time.After(200 * time.Millisecond):
		}
	}
	recs := k.readAll(ctx, t, other)
	if got := recordData(recs[shardID(0)]); len(got) != 1 || got[0] != "after the delete" {
		t.Errorf("records of %s after the delete: %q", other, got)
	}
	checkPrivateFiles(t, dir)
}

// fillUntilRefused puts 1 MiB records into name until the server refuses
// one, adds the acknowledged ones to acked (by sequence number) and returns
// the refusal.
func fillUntilRefused(ctx context.Context, t *testing.T, k *kin, name string, acked map[string][]byte) error {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatalf("%d puts of 1 MiB to a %s file system were all accepted", i, diskFullFSSize)
		}
		data := make([]byte, 1<<20-16) // the key and the data fit the 1 MiB limit
		_, _ = rand.Read(data)
		out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(name), PartitionKey: aws.String(fmt.Sprint(len(acked))), Data: data,
		})
		if err != nil {
			return err
		}
		acked[aws.ToString(out.SequenceNumber)] = data
	}
}

// wantDiskFull asserts that err is the server's disk-full refusal: HTTP
// 503, error type ServiceUnavailable, a message that says so.
func wantDiskFull(t *testing.T, err error) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceUnavailable" {
		t.Fatalf("got %v, want a ServiceUnavailable error", err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("disk-full refusal %v: want HTTP status 503", err)
	}
	checkMessage(t, "ServiceUnavailable", apiErr.ErrorMessage(), "disk is full", "free", "--min-free-disk")
}

// checkReadsBack reads every shard of name and asserts that it holds exactly
// the acknowledged records.
func checkReadsBack(ctx context.Context, t *testing.T, k *kin, name string, acked map[string][]byte) {
	t.Helper()
	n := 0
	for _, recs := range k.readAll(ctx, t, name) {
		for _, r := range recs {
			want, ok := acked[aws.ToString(r.SequenceNumber)]
			if !ok {
				t.Fatalf("record %s was never acknowledged", aws.ToString(r.SequenceNumber))
			}
			if !bytes.Equal(r.Data, want) {
				t.Fatalf("record %s reads back different data", aws.ToString(r.SequenceNumber))
			}
			n++
		}
	}
	if n != len(acked) {
		t.Fatalf("%s holds %d records, %d were acknowledged", name, n, len(acked))
	}
}

// checkPrivateFiles asserts that the data directory is 0700 and every file
// in it 0600 (issue 11, defect 8).
func checkPrivateFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// KinesisRetrying is Kinesis with the SDK's default retryer, as a user has
// it.
func (s *server) KinesisRetrying(t *testing.T) *kinesis.Client {
	t.Helper()
	return s.kinesisClient(t, nil)
}

// mountTmpfs mounts a tmpfs of size (mount's -o size=) on a fresh directory
// and unmounts it when the test ends. It needs root (CI runs as root); the
// test is skipped, saying why, where mounting is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("mount -t tmpfs is not permitted here: %v: %s", err, out)
	}
	// Registered after TempDir's cleanup, so it runs first.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return filepath.Join(dir, "data")
}

// freeBytes is the space free on dir's file system, as the server sees it.
func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("statfs %s: %v", dir, err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// TestDiskFullAtStart starts the server on a file system that something
// else filled to the last byte, with acknowledged records only in the WAL
// (issue 11, defect 2: the server could not start, since Pebble's open
// waits for the flush of the replayed WAL). It must listen and serve every
// acknowledged record, refuse puts as the reserve does, and take writes
// again by itself, without a restart, once the space is freed.
func TestDiskFullAtStart(t *testing.T) {
	dir := mountTmpfs(t, "256m")
	k := newKin(t, withDataDir(dir), withArgs("--min-free-disk", "32MiB"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	name, out := uniqueName(t), uniqueName(t)+"-out"
	k.create(ctx, t, name, 2)
	k.create(ctx, t, out, 1)
	createApp(ctx, t, k.srv.Endpoint(), "keep", fmt.Sprintf("INSERT INTO `%s` SELECT COUNT(*) AS c FROM `%s` GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", out, name))
	acked := map[string][]byte{}
	for i := range 40 {
		data := make([]byte, 64<<10)
		_, _ = rand.Read(data)
		out := k.put(ctx, t, name, fmt.Sprint(i), data)
		acked[aws.ToString(out.SequenceNumber)] = data
	}
	// A crash: the records are in the WAL, not yet in an sstable.
	k.srv.Kill9(t)
	filler := filepath.Join(filepath.Dir(dir), "filler")
	fillToLastByte(t, filler)
	if free := freeBytes(t, dir); free != 0 {
		t.Fatalf("%d bytes still free after filling the file system", free)
	}

	k.restart(t)
	checkReadsBack(ctx, t, k, name, acked)
	if _, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("ListStreams on a full disk: %v", err)
	}
	if _, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}); err != nil {
		t.Fatalf("DescribeStream on a full disk: %v", err)
	}
	_, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("on a full disk"),
	})
	wantDiskFull(t, err)
	_, err = k.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name + "-new"), ShardCount: aws.Int32(1)})
	wantDiskFull(t, err)
	// Deleting an application is refused before it stops the application:
	// it used to be stopped and forgotten, and back at the next start.
	if code := appRequest(ctx, t, k.srv.Endpoint(), http.MethodDelete, "keep"); code != http.StatusServiceUnavailable {
		t.Errorf("DELETE of an application on a full disk: status %d, want 503", code)
	}
	if code := appRequest(ctx, t, k.srv.Endpoint(), http.MethodGet, "keep"); code != http.StatusOK {
		t.Errorf("GET of the application after a refused delete: status %d, want 200", code)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("after the filler went"),
		})
		if err == nil {
			t.Logf("writes resumed after %d refused attempts", attempt)
			acked[aws.ToString(out.SequenceNumber)] = []byte("after the filler went")
			break
		}
		wantDiskFull(t, err)
		select {
		case <-ctx.Done():
			t.Fatalf("writes did not resume after the space was freed (%d bytes free)", freeBytes(t, dir))
		case <-time.After(200 * time.Millisecond):
		}
	}
	checkReadsBack(ctx, t, k, name, acked)
	if code := appRequest(ctx, t, k.srv.Endpoint(), http.MethodDelete, "keep"); code/100 != 2 {
		t.Errorf("DELETE of an application once space returned: status %d", code)
	}
	// The upgraded store stops cleanly and starts again with everything.
	k.restart(t)
	checkReadsBack(ctx, t, k, name, acked)
	checkPrivateFiles(t, dir)
}

// fillToLastByte writes path until its file system has no byte left,
// halving the chunk at each ENOSPC down to a single byte.
func fillToLastByte(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for chunk := len(buf); chunk > 0; {
		if _, err := f.Write(buf[:chunk]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			chunk /= 2
		}
	}
	_ = f.Sync()
}

// appRequest sends an Analytics HTTP request about application name and
// returns its status code.
func appRequest(ctx context.Context, t *testing.T, endpoint, method, name string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, endpoint+"/v1/applications/"+name, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}
