package firehose

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/kms"
	"github.com/spatehq/spate/shard"
)

// newEncryptionFixture is a fixture whose store has a keyring.
func newEncryptionFixture(t *testing.T) (*fixture, *kms.Keyring) {
	t.Helper()
	f := newFixture(t)
	keys, err := kms.Open(filepath.Join(t.TempDir(), "kms-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.storeOpts = []shard.Option{shard.WithKeys(keys)}
	f.restart()
	return f, keys
}

func (f *fixture) createDirectPut(name string, enc *EncryptionConfigurationInput) error {
	_, err := f.svc.CreateDeliveryStream(context.Background(), CreateDeliveryStreamInput{
		DeliveryStreamName: name,
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: name + "/", CompressionFormat: "UNCOMPRESSED",
			BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
		DeliveryStreamEncryptionConfigurationInput: enc,
	})
	return err
}

func (f *fixture) wantEncryption(name string, want EncryptionConfiguration) {
	f.t.Helper()
	d, err := f.svc.DescribeDeliveryStream(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	if got := d.DeliveryStreamEncryptionConfiguration; got == nil || *got != want {
		f.t.Fatalf("DeliveryStreamEncryptionConfiguration %+v, want %+v", got, want)
	}
}

// putEncrypted puts the records {key: from} to {key: from+n-1}.
func (f *fixture) putEncrypted(name string, from, n int, key string, want bool) {
	f.t.Helper()
	var batch [][]byte
	for i := from; i < from+n; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"%s":%d}`, key, i)))
	}
	out, err := f.svc.PutRecordBatch(context.Background(), name, batch)
	if err != nil || out.FailedPutCount != 0 {
		f.t.Fatalf("PutRecordBatch: %+v %v", out, err)
	}
	if out.Encrypted != want {
		f.t.Fatalf("PutRecordBatch: Encrypted %v, want %v", out.Encrypted, want)
	}
}

// TestDeliveryStreamEncryption encrypts a DirectPut delivery stream at
// creation, moves it to a customer-managed key, stops it, and checks that
// DescribeDeliveryStream and PutRecordBatch's Encrypted follow, that the
// buffer stream is encrypted, and that every record is delivered as put.
func TestDeliveryStreamEncryption(t *testing.T) {
	ctx := context.Background()
	f, keys := newEncryptionFixture(t)
	if err := f.createDirectPut("enc", &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned}); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("enc", EncryptionConfiguration{KeyType: KeyTypeAWSOwned, Status: EncryptionEnabled})
	buffer, err := f.store.DescribeStreamSummary(ctx, "firehose:enc")
	if err != nil || buffer.EncryptionType != shard.EncryptionKMS || buffer.KeyID != kms.AliasFirehose {
		t.Fatalf("buffer stream: %+v %v, want encrypted with %s", buffer, err, kms.AliasFirehose)
	}
	f.putEncrypted("enc", 0, 10, "a", true)
	wantLines(t, f.waitLines("enc/", compress.Uncompressed, 10), 10, "a")

	key, err := keys.CreateKey("alias/firehose-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.StartDeliveryStreamEncryption(ctx, "enc", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged, KeyARN: key.ARN}); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("enc", EncryptionConfiguration{KeyType: KeyTypeCustomerManaged, KeyARN: key.ARN, Status: EncryptionEnabled})
	f.putEncrypted("enc", 10, 10, "a", true)

	if err := f.svc.StopDeliveryStreamEncryption(ctx, "enc"); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("enc", EncryptionConfiguration{Status: EncryptionDisabled})
	f.putEncrypted("enc", 20, 10, "a", false)
	f.restart()
	f.wantEncryption("enc", EncryptionConfiguration{Status: EncryptionDisabled})
	wantLines(t, f.waitLines("enc/", compress.Uncompressed, 30), 30, "a")
}

// TestDeliveryStreamEncryptionErrors checks Firehose's refusals.
func TestDeliveryStreamEncryptionErrors(t *testing.T) {
	ctx := context.Background()
	f, _ := newEncryptionFixture(t)
	if err := f.createDirectPut("plain", nil); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("plain", EncryptionConfiguration{Status: EncryptionDisabled})
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "src", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "from-kinesis", DeliveryStreamType: TypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "k/", BufferingHints: intervalZero(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	otherAccount := "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
	unknown := "arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012"
	cases := []struct {
		name, stream string
		in           *EncryptionConfigurationInput
		want         apierr.Code
	}{
		{"kinesis source", "from-kinesis", &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned}, apierr.InvalidArgument},
		{"customer key without ARN", "plain", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged}, apierr.InvalidArgument},
		{"customer key not an ARN", "plain", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged, KeyARN: "alias/x"}, apierr.InvalidArgument},
		{"AWS-owned key with an ARN", "plain", &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned, KeyARN: unknown}, apierr.InvalidArgument},
		{"unknown key", "plain", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged, KeyARN: unknown}, apierr.InvalidKMSResource},
		{"key of another account", "plain", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged, KeyARN: otherAccount}, apierr.InvalidKMSResource},
		{"no delivery stream", "nope", &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned}, apierr.ResourceNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.StartDeliveryStreamEncryption(ctx, tc.stream, tc.in)
			if got := apierr.CodeOf(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			f.wantEncryption("plain", EncryptionConfiguration{Status: EncryptionDisabled})
		})
	}
	if got := apierr.CodeOf(f.svc.StopDeliveryStreamEncryption(ctx, "from-kinesis")); got != apierr.InvalidArgument {
		t.Fatalf("StopDeliveryStreamEncryption on a Kinesis source: %s, want InvalidArgumentException", got)
	}
	t.Run("create", func(t *testing.T) {
		_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
			DeliveryStreamName: "from-kinesis-enc", DeliveryStreamType: TypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration:           &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
			ExtendedS3DestinationConfiguration:         &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN(), Prefix: "k/"},
			DeliveryStreamEncryptionConfigurationInput: &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned},
		})
		if got := apierr.CodeOf(err); got != apierr.InvalidArgument {
			t.Fatalf("CreateDeliveryStream with a Kinesis source and encryption: %s (%v), want InvalidArgumentException", got, err)
		}
		err = f.createDirectPut("bad-key", &EncryptionConfigurationInput{KeyType: KeyTypeCustomerManaged, KeyARN: unknown})
		if got := apierr.CodeOf(err); got != apierr.InvalidKMSResource {
			t.Fatalf("CreateDeliveryStream with an unknown key: %s (%v), want InvalidKMSResourceException", got, err)
		}
		if _, err := f.store.DescribeStreamSummary(ctx, "firehose:bad-key"); apierr.CodeOf(err) != apierr.ResourceNotFound {
			t.Fatalf("the buffer stream of a refused creation is left behind: %v", err)
		}
	})
}

// TestDeliveryStreamEncryptionStatus checks ENABLING and DISABLING: the
// status while the buffer stream is UPDATING after a change, during which
// another change is refused with ResourceInUseException.
func TestDeliveryStreamEncryptionStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	keys, err := kms.Open("")
	if err != nil {
		t.Fatal(err)
	}
	var nowMs atomic.Int64
	nowMs.Store(time.Now().UnixMilli())
	clock := func() time.Time { return time.UnixMilli(nowMs.Load()) }
	f.storeOpts = []shard.Option{shard.WithKeys(keys), shard.WithClock(clock), shard.WithCreateDelay(time.Minute)}
	f.restart()
	if err := f.createDirectPut("status", &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned}); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("status", EncryptionConfiguration{KeyType: KeyTypeAWSOwned, Status: EncryptionEnabling})
	f.putEncrypted("status", 0, 1, "s", true) // ENABLING takes records, encrypted
	if got := apierr.CodeOf(f.svc.StopDeliveryStreamEncryption(ctx, "status")); got != apierr.ResourceInUse {
		t.Fatalf("StopDeliveryStreamEncryption while ENABLING: %s, want ResourceInUseException", got)
	}
	nowMs.Add(time.Minute.Milliseconds())
	f.wantEncryption("status", EncryptionConfiguration{KeyType: KeyTypeAWSOwned, Status: EncryptionEnabled})
	if err := f.svc.StopDeliveryStreamEncryption(ctx, "status"); err != nil {
		t.Fatal(err)
	}
	f.wantEncryption("status", EncryptionConfiguration{Status: EncryptionDisabling})
	nowMs.Add(time.Minute.Milliseconds())
	f.wantEncryption("status", EncryptionConfiguration{Status: EncryptionDisabled})
}
