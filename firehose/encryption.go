package firehose

import (
	"context"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kms"
	"github.com/spatehq/spate/shard"
)

// Server-side encryption of a DirectPut delivery stream is the encryption
// of the internal stream it buffers in ("firehose:<name>"): records wait
// for delivery there, and the store seals them (shard.StartEncryption), so
// what Firehose keeps at rest is encrypted with the same keyring as
// Kinesis streams. The store is the truth for on or off and for the
// ENABLING / DISABLING phase (its UPDATING); the delivery stream's metadata
// keeps the key type and ARN to describe them.

// The key types of DeliveryStreamEncryptionConfigurationInput.
const (
	KeyTypeAWSOwned        = "AWS_OWNED_CMK"
	KeyTypeCustomerManaged = "CUSTOMER_MANAGED_CMK"
)

// The encryption statuses DescribeDeliveryStream reports.
const (
	EncryptionEnabled   = "ENABLED"
	EncryptionEnabling  = "ENABLING"
	EncryptionDisabled  = "DISABLED"
	EncryptionDisabling = "DISABLING"
)

// EncryptionConfigurationInput is DeliveryStreamEncryptionConfigurationInput.
type EncryptionConfigurationInput struct {
	KeyARN  string `json:"KeyARN,omitempty"`
	KeyType string `json:"KeyType"`
}

// EncryptionConfiguration is DeliveryStreamEncryptionConfiguration.
type EncryptionConfiguration struct {
	KeyARN  string `json:"KeyARN,omitempty"`
	KeyType string `json:"KeyType,omitempty"`
	Status  string `json:"Status"`
}

// dsEncryption is the encryption key of a delivery stream's metadata; nil
// when encryption is off.
type dsEncryption struct {
	KeyType string `json:"keyType"`
	KeyARN  string `json:"keyArn,omitempty"`
}

// checkEncryptionInput checks in and returns the KeyId the store encrypts
// with: Firehose's AWS-owned key is the keyring's alias/aws/firehose.
func checkEncryptionInput(in *EncryptionConfigurationInput) (keyID string, err error) {
	switch in.KeyType {
	case KeyTypeAWSOwned:
		if in.KeyARN != "" {
			return "", apierr.New(apierr.InvalidArgument, "KeyARN must not be given with KeyType AWS_OWNED_CMK")
		}
		return kms.AliasFirehose, nil
	case KeyTypeCustomerManaged:
		if !strings.HasPrefix(in.KeyARN, "arn:") {
			return "", apierr.New(apierr.InvalidArgument, "KeyType CUSTOMER_MANAGED_CMK needs KeyARN, the ARN of a KMS key")
		}
		if err := kms.ValidateKeyID(in.KeyARN); err != nil {
			return "", apierr.New(apierr.InvalidArgument, "KeyARN %q is not the ARN of a KMS key", in.KeyARN)
		}
		return in.KeyARN, nil
	}
	return "", apierr.New(apierr.InvalidArgument, "KeyType %q is invalid: use AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK", in.KeyType)
}

// kmsError turns the store's KMS errors into Firehose's one KMS error type.
func kmsError(err error) error {
	switch apierr.CodeOf(err) {
	case apierr.KMSNotFound, apierr.KMSDisabled, apierr.KMSInvalidState, apierr.KMSAccessDenied,
		apierr.KMSOptInRequired, apierr.KMSThrottling:
		return apierr.New(apierr.InvalidKMSResource, "%s: %s", apierr.CodeOf(err), apierr.MessageOf(err))
	}
	return err
}

// checkCreateEncryption checks CreateDeliveryStream's encryption input
// before anything is created.
func checkCreateEncryption(m *dsMeta, in *EncryptionConfigurationInput) error {
	if in == nil {
		return nil
	}
	if m.Type != TypeDirectPut {
		return apierr.New(apierr.InvalidArgument,
			"DeliveryStreamEncryptionConfigurationInput is only for DirectPut delivery streams; encrypt the source stream %s with StartStreamEncryption", m.SourceStream)
	}
	_, err := checkEncryptionInput(in)
	return err
}

// startBufferEncryption turns encryption on for the internal stream of m.
func (s *Service) startBufferEncryption(ctx context.Context, m *dsMeta, in *EncryptionConfigurationInput) error {
	if m.Type != TypeDirectPut {
		return apierr.New(apierr.InvalidArgument,
			"Firehose %s reads the Kinesis stream %s: server-side encryption is only for DirectPut delivery streams; encrypt the source stream with StartStreamEncryption", m.Name, m.SourceStream)
	}
	keyID, err := checkEncryptionInput(in)
	if err != nil {
		return err
	}
	if err := s.store.StartEncryption(ctx, m.SourceStream, shard.EncryptionKMS, keyID); err != nil {
		return kmsError(err)
	}
	m.Encryption = &dsEncryption{KeyType: in.KeyType, KeyARN: in.KeyARN}
	return nil
}

// StartDeliveryStreamEncryption encrypts what a DirectPut delivery stream
// keeps at rest from now on, or moves it to another key.
func (s *Service) StartDeliveryStreamEncryption(ctx context.Context, name string, in *EncryptionConfigurationInput) error {
	if in == nil {
		in = &EncryptionConfigurationInput{KeyType: KeyTypeAWSOwned}
	}
	return s.changeEncryption(ctx, name, func(m *dsMeta) error { return s.startBufferEncryption(ctx, m, in) })
}

// StopDeliveryStreamEncryption stops encrypting what a delivery stream
// keeps at rest; records already encrypted stay so until delivered.
func (s *Service) StopDeliveryStreamEncryption(ctx context.Context, name string) error {
	return s.changeEncryption(ctx, name, func(m *dsMeta) error {
		if m.Type != TypeDirectPut {
			return apierr.New(apierr.InvalidArgument,
				"Firehose %s reads the Kinesis stream %s: server-side encryption is only for DirectPut delivery streams", m.Name, m.SourceStream)
		}
		if m.Encryption == nil {
			return nil
		}
		if err := s.store.StopEncryption(ctx, m.SourceStream, shard.EncryptionKMS, kms.AliasFirehose); err != nil {
			return err
		}
		m.Encryption = nil
		return nil
	})
}

// changeEncryption applies change to a delivery stream's metadata under
// the lock and persists it; the workers go on as they are.
func (s *Service) changeEncryption(ctx context.Context, name string, change func(m *dsMeta) error) error {
	if err := validateName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.streams[name]
	if !ok || ds.deleting {
		return s.notFound(name)
	}
	m := ds.meta
	if err := change(&m); err != nil {
		return err
	}
	m.UpdatedAtMs = s.cfg.now().UnixMilli()
	if err := s.store.WriteValues(ctx, valuesNS, putMeta(&m)); err != nil {
		return err
	}
	ds.meta = m
	return nil
}

// describeEncryption is a delivery stream's
// DeliveryStreamEncryptionConfiguration: ENABLING or DISABLING while its
// buffer stream is UPDATING.
func (s *Service) describeEncryption(ctx context.Context, m dsMeta) *EncryptionConfiguration {
	out := &EncryptionConfiguration{Status: EncryptionDisabled}
	if m.Encryption != nil {
		out = &EncryptionConfiguration{KeyType: m.Encryption.KeyType, KeyARN: m.Encryption.KeyARN, Status: EncryptionEnabled}
	}
	if m.Type != TypeDirectPut {
		return out
	}
	if d, err := s.store.DescribeStreamSummary(ctx, m.SourceStream); err == nil && d.Status == shard.StatusUpdating {
		if out.Status == EncryptionEnabled {
			out.Status = EncryptionEnabling
		} else {
			out.Status = EncryptionDisabling
		}
	}
	return out
}
