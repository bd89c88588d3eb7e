package shard

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kms"
)

// openKeyring opens a keyring file in a fresh directory.
func openKeyring(t *testing.T, path string) *kms.Keyring {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "kms-keys.json")
	}
	k, err := kms.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// putMarked appends n records to stream whose partition keys and data
// carry marker, and returns them in order.
func putMarked(t *testing.T, s *Store, stream, marker string, n int, wantEncrypted bool) []Entry {
	t.Helper()
	entries := make([]Entry, n)
	for i := range entries {
		entries[i] = Entry{PartitionKey: fmt.Sprintf("pk-%s-%d", marker, i), Data: []byte(fmt.Sprintf("data-%s-%d", marker, i))}
	}
	res, err := s.Append(context.Background(), stream, entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	for i, r := range res {
		if r.Encrypted != wantEncrypted {
			t.Fatalf("record %d of %s: Encrypted %v, want %v", i, marker, r.Encrypted, wantEncrypted)
		}
	}
	return entries
}

// readStream reads every record of a one-shard stream.
func readStream(t *testing.T, s *Store, stream string) []Record {
	t.Helper()
	return readAll(t, s, stream, "shardId-000000000000", Position{Type: TrimHorizon})
}

func checkRecords(t *testing.T, got []Record, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].PartitionKey != want[i].PartitionKey || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("record %d: got %q/%q, want %q/%q", i, got[i].PartitionKey, got[i].Data, want[i].PartitionKey, want[i].Data)
		}
	}
}

func wantEncryption(t *testing.T, s *Store, stream, typ, keyID string) {
	t.Helper()
	for _, describe := range []func() (StreamDescription, error){
		func() (StreamDescription, error) { return s.DescribeStream(context.Background(), stream, 0, "") },
		func() (StreamDescription, error) { return s.DescribeStreamSummary(context.Background(), stream) },
	} {
		d, err := describe()
		if err != nil {
			t.Fatal(err)
		}
		if d.EncryptionType != typ || d.KeyID != keyID {
			t.Fatalf("EncryptionType %q KeyId %q, want %q %q", d.EncryptionType, d.KeyID, typ, keyID)
		}
	}
}

// TestEncryptionAcrossStartAndStop writes records before a Start, while
// encrypted, and after a Stop, and reads all of them back as written, also
// after a restart; DescribeStream follows each change.
func TestEncryptionAcrossStartAndStop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := openKeyring(t, "")
	s := openTest(t, dir, WithKeys(keys))
	mustCreate(t, s, "s", 1)
	wantEncryption(t, s, "s", "NONE", "")
	want := putMarked(t, s, "s", "before", 3, false)
	if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	wantEncryption(t, s, "s", "KMS", "alias/aws/kinesis")
	want = append(want, putMarked(t, s, "s", "during", 3, true)...)
	if err := s.StopEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	wantEncryption(t, s, "s", "NONE", "")
	want = append(want, putMarked(t, s, "s", "after", 3, false)...)
	// A second Start, with another key form, gets a second data key.
	key, err := keys.CreateKey("alias/orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartEncryption(ctx, "s", "KMS", key.ARN); err != nil {
		t.Fatal(err)
	}
	want = append(want, putMarked(t, s, "s", "again", 3, true)...)
	checkRecords(t, readStream(t, s, "s"), want)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, WithKeys(openKeyring(t, keys.Path())))
	wantEncryption(t, s, "s", "KMS", key.ARN)
	checkRecords(t, readStream(t, s, "s"), want)
	want = append(want, putMarked(t, s, "s", "restarted", 2, true)...)
	checkRecords(t, readStream(t, s, "s"), want)
}

// TestEncryptionAtRest scans every file of the data directory for the
// records' partition keys and data: they are there in the clear when
// encryption is off, and nowhere when it is on.
func TestEncryptionAtRest(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypt=%v", encrypt), func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, WithKeys(openKeyring(t, "")))
			mustCreate(t, s, "s", 1)
			if encrypt {
				if err := s.StartEncryption(context.Background(), "s", "KMS", "alias/aws/kinesis"); err != nil {
					t.Fatal(err)
				}
			}
			const marker = "Zq7plaintextMarker"
			putMarked(t, s, "s", marker, 50, encrypt)
			// Flushed to sstables and also left in the WAL: both are
			// scanned.
			if err := s.db.Flush(); err != nil {
				t.Fatal(err)
			}
			putMarked(t, s, "s", marker+"wal", 5, encrypt)
			found := scanDir(t, dir, marker)
			if found != !encrypt {
				t.Fatalf("plaintext found in the data directory: %v, want %v", found, !encrypt)
			}
		})
	}
}

// scanDir reports whether any file under dir holds marker.
func scanDir(t *testing.T, dir, marker string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(marker)) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestSealedRecordTamper alters stored sealed values: a flipped bit, a
// value moved to another position, a changed arrival time. Each read fails
// instead of returning garbage.
func TestSealedRecordTamper(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(v1, v2 []byte) (new1 []byte)
	}{
		{"flipped bit in data", func(v1, _ []byte) []byte { v1[len(v1)-20] ^= 1; return v1 }},
		{"flipped bit in tag", func(v1, _ []byte) []byte { v1[len(v1)-1] ^= 1; return v1 }},
		{"value of another position", func(_, v2 []byte) []byte { return v2 }},
		{"changed arrival time", func(v1, _ []byte) []byte { v1[7]++; return v1 }},
		{"changed epoch", func(v1, _ []byte) []byte { v1[10] ^= 1; return v1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, "", WithKeys(openKeyring(t, "")))
			mustCreate(t, s, "s", 1)
			if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
				t.Fatal(err)
			}
			putMarked(t, s, "s", "x", 2, true)
			st := s.streams["s"]
			k1, k2 := recordKey(st.id, 0, 1), recordKey(st.id, 0, 2)
			get := func(k []byte) []byte {
				v, closer, err := s.db.Get(k)
				if err != nil {
					t.Fatal(err)
				}
				defer closer.Close()
				return append([]byte(nil), v...)
			}
			if err := s.db.Set(k1, tc.tamper(get(k1), get(k2)), pebble.Sync); err != nil {
				t.Fatal(err)
			}
			c, err := s.Seek(ctx, "s", "shardId-000000000000", Position{Type: TrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Read(ctx, c, 10, MaxGetRecordsBytes)
			if err == nil || !strings.Contains(err.Error(), "does not authenticate") {
				t.Fatalf("Read of a tampered record: %v, want an authentication failure", err)
			}
		})
	}
}

// TestEncryptedReadWithoutMasterKey restarts an encrypted store with a
// keyring that lacks the master key: reads fail with KMSNotFoundException,
// records written in the clear still read, and the restored keyring
// brings everything back.
func TestEncryptedReadWithoutMasterKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := openKeyring(t, "")
	s := openTest(t, dir, WithKeys(keys))
	mustCreate(t, s, "plain", 1)
	mustCreate(t, s, "s", 1)
	plain := putMarked(t, s, "plain", "p", 2, false)
	if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	want := putMarked(t, s, "s", "x", 2, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir, WithKeys(openKeyring(t, "")))
	checkRecords(t, readStream(t, s, "plain"), plain)
	c, err := s.Seek(ctx, "s", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(ctx, c, 10, MaxGetRecordsBytes)
	wantCode(t, err, apierr.KMSNotFound)
	_, err = s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("d")}})
	wantCode(t, err, apierr.KMSNotFound)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir, WithKeys(openKeyring(t, keys.Path())))
	checkRecords(t, readStream(t, s, "s"), want)
}

// TestEncryptionErrors checks the refusals of StartStreamEncryption and
// StopStreamEncryption.
func TestEncryptionErrors(t *testing.T) {
	ctx := context.Background()
	keyPath := filepath.Join(t.TempDir(), "kms-keys.json")
	keys := openKeyring(t, keyPath)
	disabled, err := keys.CreateKey("alias/disabled")
	if err != nil {
		t.Fatal(err)
	}
	setKeyState(t, keyPath, disabled.ID, "Disabled")
	clock := &fakeClock{}
	clock.ms.Store(time.Now().UnixMilli())
	s := openTest(t, "", WithKeys(keys), WithClock(clock.now))
	mustCreate(t, s, "s", 1)
	cases := []struct {
		name, stream, typ, keyID string
		want                     apierr.Code
	}{
		{"type NONE", "s", "NONE", "alias/aws/kinesis", apierr.InvalidArgument},
		{"bad key id form", "s", "KMS", "my-key", apierr.InvalidArgument},
		{"bad key ARN", "s", "KMS", "arn:aws:kms:us-east-1:000000000000:key/nope", apierr.InvalidArgument},
		{"unknown key id", "s", "KMS", "12345678-1234-1234-1234-123456789012", apierr.KMSNotFound},
		{"unknown alias", "s", "KMS", "alias/nope", apierr.KMSNotFound},
		{"other region", "s", "KMS", "arn:aws:kms:eu-west-1:000000000000:alias/aws/kinesis", apierr.KMSNotFound},
		{"other account", "s", "KMS", "arn:aws:kms:us-east-1:123456789012:alias/aws/kinesis", apierr.KMSAccessDenied},
		{"disabled key", "s", "KMS", "alias/disabled", apierr.KMSDisabled},
		{"no stream", "nope", "KMS", "alias/aws/kinesis", apierr.ResourceNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, s.StartEncryption(ctx, tc.stream, tc.typ, tc.keyID), tc.want)
			wantEncryption(t, s, "s", "NONE", "")
		})
	}
	wantCode(t, s.StopEncryption(ctx, "s", "NONE", "alias/aws/kinesis"), apierr.InvalidArgument)
	wantCode(t, s.StopEncryption(ctx, "s", "KMS", "x"), apierr.InvalidArgument)

	t.Run("25 changes a day", func(t *testing.T) {
		for i := range MaxEncryptionChanges {
			change := s.StartEncryption
			if i%2 == 1 {
				change = s.StopEncryption
			}
			if err := change(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
				t.Fatalf("change %d: %v", i+1, err)
			}
		}
		wantCode(t, s.StopEncryption(ctx, "s", "KMS", "alias/aws/kinesis"), apierr.LimitExceeded)
		clock.advance(24*time.Hour + time.Millisecond)
		if err := s.StopEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
			t.Fatal(err)
		}
	})
}

// setKeyState edits a key's state in a keyring file, as an operator would.
func setKeyState(t *testing.T, path, id, state string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(id))
	j := bytes.Index(b[i:], []byte(`"Enabled"`))
	b = append(b[:i+j:i+j], append([]byte(`"`+state+`"`), b[i+j+len(`"Enabled"`):]...)...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEncryptionUpdating checks that a change keeps the stream UPDATING for
// the change delay, that it serves reads and writes meanwhile, and that
// further changes wait with ResourceInUseException.
func TestEncryptionUpdating(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(time.Now().UnixMilli())
	s := openTest(t, "", WithKeys(openKeyring(t, "")), WithClock(clock.now), WithCreateDelay(time.Second))
	mustCreate(t, s, "s", 1)
	clock.advance(time.Second)
	status := func() StreamStatus {
		d, err := s.DescribeStreamSummary(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		return d.Status
	}
	if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != StatusUpdating {
		t.Fatalf("status after StartStreamEncryption: %s, want UPDATING", got)
	}
	want := putMarked(t, s, "s", "updating", 2, true)
	checkRecords(t, readStream(t, s, "s"), want)
	if out, err := s.ListShards(ctx, ListShardsInput{Stream: "s"}); err != nil || len(out.Shards) != 1 {
		t.Fatalf("ListShards of an UPDATING stream: %+v %v", out, err)
	}
	wantCode(t, s.StopEncryption(ctx, "s", "KMS", "alias/aws/kinesis"), apierr.ResourceInUse)
	clock.advance(time.Second)
	if got := status(); got != StatusActive {
		t.Fatalf("status a delay later: %s, want ACTIVE", got)
	}
	if err := s.StopEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != StatusUpdating {
		t.Fatalf("status after StopStreamEncryption: %s, want UPDATING", got)
	}
}

// TestEncryptedCommitAndLargeRecords checks the other ways records are
// written and read: a Commit (Analytics output), Subscribe, and records of
// the largest size, sealed across several shards.
func TestEncryptedCommitAndLargeRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithKeys(openKeyring(t, "")))
	mustCreate(t, s, "s", 3)
	if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("b"), MaxRecordSize-10)
	var entries []Entry
	for i := range 6 {
		entries = append(entries, Entry{PartitionKey: fmt.Sprintf("k%d", i), Data: big[:len(big)-i]})
	}
	if _, err := s.Append(ctx, "s", entries[:3]); err != nil {
		t.Fatal(err)
	}
	res, err := s.Commit(ctx, Commit{Appends: []StreamAppend{{Stream: "s", Entries: entries[3:]}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0][0].Encrypted {
		t.Fatal("a Commit to an encrypted stream was stored in the clear")
	}
	got := map[string]int{}
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"} {
		sctx, cancel := context.WithCancel(ctx)
		err := s.Subscribe(sctx, "s", id, Position{Type: TrimHorizon}, func(r ReadResult) error {
			for _, rec := range r.Records {
				got[rec.PartitionKey] = len(rec.Data)
			}
			if r.MillisBehindLatest == 0 {
				cancel()
			}
			return nil
		})
		cancel()
		if err != nil && err != context.Canceled {
			t.Fatal(err)
		}
		for _, r := range readAll(t, s, "s", id, Position{Type: TrimHorizon}) {
			if got[r.PartitionKey] != len(r.Data) {
				t.Fatalf("%s: Subscribe and GetRecords disagree", r.PartitionKey)
			}
		}
	}
	for _, e := range entries {
		if got[e.PartitionKey] != len(e.Data) {
			t.Fatalf("record %s: read %d bytes, want %d", e.PartitionKey, got[e.PartitionKey], len(e.Data))
		}
	}
}
