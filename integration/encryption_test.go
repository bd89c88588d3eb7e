package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/spatehq/spate/firehose/compress"
)

func (k *kin) startEncryption(ctx context.Context, name, keyID string) error {
	_, err := k.c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamName: aws.String(name), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyID),
	})
	return err
}

func (k *kin) stopEncryption(ctx context.Context, name, keyID string) error {
	_, err := k.c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{
		StreamName: aws.String(name), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyID),
	})
	return err
}

// wantStreamEncryption checks DescribeStream and DescribeStreamSummary.
func (k *kin) wantStreamEncryption(ctx context.Context, t *testing.T, name string, typ types.EncryptionType, keyID string) {
	t.Helper()
	sum := k.summary(ctx, t, name)
	if sum.EncryptionType != typ || aws.ToString(sum.KeyId) != keyID {
		t.Fatalf("DescribeStreamSummary: EncryptionType %s KeyId %q, want %s %q", sum.EncryptionType, aws.ToString(sum.KeyId), typ, keyID)
	}
	d, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.StreamDescription; got.EncryptionType != typ || aws.ToString(got.KeyId) != keyID {
		t.Fatalf("DescribeStream: EncryptionType %s KeyId %q, want %s %q", got.EncryptionType, aws.ToString(got.KeyId), typ, keyID)
	}
}

func (k *kin) putEncrypted(ctx context.Context, t *testing.T, name, data string, want types.EncryptionType) {
	t.Helper()
	if out := k.put(ctx, t, name, data, []byte(data)); out.EncryptionType != want {
		t.Fatalf("PutRecord %s: EncryptionType %s, want %s", data, out.EncryptionType, want)
	}
}

func wantData(t *testing.T, recs []types.Record, want ...string) {
	t.Helper()
	got := recordData(recs)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("read %v, want %v", got, want)
	}
}

// TestStreamEncryptionSDK drives StartStreamEncryption and
// StopStreamEncryption with aws-sdk-go-v2: UPDATING then ACTIVE, the
// describes, PutRecord's EncryptionType, records across a Start and a Stop
// read back as written (also after a restart), the refusals, and a server
// whose keyring file went missing.
func TestStreamEncryptionSDK(t *testing.T) {
	k := newKin(t, withArgs("--create-delay", "500ms"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	k.waitActive(ctx, t, name)
	k.wantStreamEncryption(ctx, t, name, types.EncryptionTypeNone, "")
	k.putEncrypted(ctx, t, name, "before", types.EncryptionTypeNone)

	if err := k.startEncryption(ctx, name, "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	if s := k.summary(ctx, t, name); s.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("status after StartStreamEncryption: %s, want UPDATING", s.StreamStatus)
	}
	wantAPIError(t, k.stopEncryption(ctx, name, "alias/aws/kinesis"), "ResourceInUseException", "not ACTIVE")
	k.putEncrypted(ctx, t, name, "updating", types.EncryptionTypeKms) // UPDATING streams take writes
	k.waitActive(ctx, t, name)
	k.wantStreamEncryption(ctx, t, name, types.EncryptionTypeKms, "alias/aws/kinesis")
	k.putEncrypted(ctx, t, name, "during", types.EncryptionTypeKms)

	if err := k.stopEncryption(ctx, name, "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	k.waitActive(ctx, t, name)
	k.wantStreamEncryption(ctx, t, name, types.EncryptionTypeNone, "")
	k.putEncrypted(ctx, t, name, "after", types.EncryptionTypeNone)
	want := []string{"before", "updating", "during", "after"}
	recs := k.readShard(ctx, t, name, shardID(0))
	wantData(t, recs, want...)
	// Each record reports how it is stored, as AWS's GetRecords does.
	for i, wantType := range []types.EncryptionType{"", types.EncryptionTypeKms, types.EncryptionTypeKms, ""} {
		if recs[i].EncryptionType != wantType {
			t.Errorf("GetRecords record %q: EncryptionType %q, want %q", want[i], recs[i].EncryptionType, wantType)
		}
	}

	t.Run("refusals", func(t *testing.T) {
		wantAPIError(t, k.startEncryption(ctx, name, "not-a-key"), "InvalidArgumentException", "KeyId")
		wantAPIError(t, k.startEncryption(ctx, name, "alias/nope"), "KMSNotFoundException", "alias/nope")
		wantAPIError(t, k.startEncryption(ctx, name, "arn:aws:kms:us-east-1:123456789012:alias/aws/kinesis"), "KMSAccessDeniedException")
		wantAPIError(t, k.startEncryption(ctx, "nope-"+name, "alias/aws/kinesis"), "ResourceNotFoundException")
		_, err := k.c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
			StreamName: aws.String(name), EncryptionType: types.EncryptionTypeNone, KeyId: aws.String("alias/aws/kinesis"),
		})
		wantAPIError(t, err, "InvalidArgumentException", "KMS")
	})

	keyring := filepath.Join(k.srv.DataDir, "kms-keys.json")
	fi, err := os.Stat(keyring)
	if err != nil {
		t.Fatalf("the keyring was not created in the data directory: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode %04o, want 0600", fi.Mode().Perm())
	}

	// Encrypt again and restart: everything reads back.
	if err := k.startEncryption(ctx, name, "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	k.waitActive(ctx, t, name)
	k.putEncrypted(ctx, t, name, "again", types.EncryptionTypeKms)
	want = append(want, "again")
	k.restart(t)
	k.wantStreamEncryption(ctx, t, name, types.EncryptionTypeKms, "alias/aws/kinesis")
	wantData(t, k.readShard(ctx, t, name, shardID(0)), want...)

	// Without its keyring the server still starts, but encrypted records
	// do not read and do not write: KMSNotFoundException, never garbage.
	if err := os.Rename(keyring, keyring+".away"); err != nil {
		t.Fatal(err)
	}
	k.restart(t)
	it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
	_, err = k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	wantAPIError(t, err, "KMSNotFoundException", "keyring")
	_, err = k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
	wantAPIError(t, err, "KMSNotFoundException")
	k.srv.Stop(t)
	if err := os.Rename(keyring+".away", keyring); err != nil {
		t.Fatal(err)
	}
	k.restart(t)
	wantData(t, k.readShard(ctx, t, name, shardID(0)), want...)
}

// TestKMSKeysFlag runs the server with --kms-keys outside the data
// directory: the keyring is created there on first use with mode 0600; a
// keyring that others may read keeps the server from starting.
func TestKMSKeysFlag(t *testing.T) {
	keyring := filepath.Join(t.TempDir(), "keys", "kms.json")
	k := newKin(t, withArgs("--kms-keys", keyring))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	k.waitActive(ctx, t, name)
	if _, err := os.Stat(keyring); !os.IsNotExist(err) {
		t.Fatalf("the keyring exists before a key is needed: %v", err)
	}
	if err := k.startEncryption(ctx, name, "alias/aws/kinesis"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyring)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring after StartStreamEncryption: %v %v, want mode 0600", fi, err)
	}
	if _, err := os.Stat(filepath.Join(k.srv.DataDir, "kms-keys.json")); !os.IsNotExist(err) {
		t.Fatalf("a keyring was created in the data directory too: %v", err)
	}
	k.srv.Stop(t)

	if err := os.Chmod(keyring, 0o644); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, spateBin, "serve", "--data-dir", k.srv.DataDir, "--kms-keys", keyring,
		"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "chmod 600") {
		t.Fatalf("serve with a readable keyring: %v\n%s\nwant a refusal that says chmod 600", err, out)
	}
}

// TestAWSCLIStreamEncryption starts and stops encryption with the AWS CLI.
func TestAWSCLIStreamEncryption(t *testing.T) {
	cli := newAWSCLI(t)
	k := newKin(t)
	cli.endpoint = k.srv.Endpoint()
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	k.waitActive(ctx, t, name)
	cli.run(ctx, t, nil, "kinesis", "start-stream-encryption", "--stream-name", name,
		"--encryption-type", "KMS", "--key-id", "alias/aws/kinesis")
	var sum struct {
		StreamDescriptionSummary struct{ EncryptionType, KeyId string }
	}
	cli.run(ctx, t, &sum, "kinesis", "describe-stream-summary", "--stream-name", name)
	if s := sum.StreamDescriptionSummary; s.EncryptionType != "KMS" || s.KeyId != "alias/aws/kinesis" {
		t.Fatalf("describe-stream-summary after start-stream-encryption: %+v", s)
	}
	cli.run(ctx, t, nil, "kinesis", "stop-stream-encryption", "--stream-name", name,
		"--encryption-type", "KMS", "--key-id", "alias/aws/kinesis")
	k.wantStreamEncryption(ctx, t, name, types.EncryptionTypeNone, "")
}

// TestFirehoseEncryptionSDK encrypts a DirectPut delivery stream with the
// Firehose SDK: at creation, DescribeDeliveryStream, PutRecord's Encrypted,
// StopDeliveryStreamEncryption, and delivery of every record.
func TestFirehoseEncryptionSDK(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	name := "enc-" + strings.ToLower(uniqueName(t))
	if len(name) > 60 {
		name = name[:60]
	}
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamEncryptionConfigurationInput: &fhtypes.DeliveryStreamEncryptionConfigurationInput{
			KeyType: fhtypes.KeyTypeAwsOwnedCmk,
		},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
			Prefix: aws.String(name + "/"), CompressionFormat: fhtypes.CompressionFormatUncompressed,
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	status := func() fhtypes.DeliveryStreamEncryptionStatus {
		d, err := f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return d.DeliveryStreamDescription.DeliveryStreamEncryptionConfiguration.Status
	}
	if got := status(); got != fhtypes.DeliveryStreamEncryptionStatusEnabled {
		t.Fatalf("encryption status %s, want ENABLED", got)
	}
	put := func(data string, want bool) {
		out, err := f.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String(name), Record: &fhtypes.Record{Data: []byte(data)}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToBool(out.Encrypted) != want {
			t.Fatalf("PutRecord %s: Encrypted %v, want %v", data, aws.ToBool(out.Encrypted), want)
		}
	}
	put(`{"n":0}`, true)
	if _, err := f.c.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != fhtypes.DeliveryStreamEncryptionStatusDisabled {
		t.Fatalf("encryption status %s, want DISABLED", got)
	}
	put(`{"n":1}`, false)
	got := f.waitLines(ctx, t, name+"/", compress.Uncompressed, 2)
	if strings.Join(got, ",") != `{"n":0},{"n":1}` {
		t.Fatalf("delivered %v", got)
	}
	_, err = f.c.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamEncryptionConfigurationInput: &fhtypes.DeliveryStreamEncryptionConfigurationInput{
			KeyType: fhtypes.KeyTypeCustomerManagedCmk, KeyARN: aws.String("arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012"),
		},
	})
	var kmsErr *fhtypes.InvalidKMSResourceException
	if !errorAs[*fhtypes.InvalidKMSResourceException](err) {
		t.Fatalf("StartDeliveryStreamEncryption with an unknown key: %v, want %T", err, kmsErr)
	}
}
