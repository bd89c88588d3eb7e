package destination

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/shard"
)

// MaxARNLength is the Lambda model's length limit on a destination ARN.
const MaxARNLength = 350

// Kind is what a destination ARN names.
type Kind int

// The destinations Spate serves.
const (
	Stream         Kind = iota + 1 // a Spate (Kinesis) stream
	DeliveryStream                 // a Firehose delivery stream
	Bucket                         // an S3 bucket
)

func (k Kind) String() string {
	switch k {
	case Stream:
		return "stream"
	case DeliveryStream:
		return "delivery stream"
	case Bucket:
		return "S3 bucket"
	}
	return "unknown"
}

// Target is a parsed destination ARN.
type Target struct {
	Kind Kind
	// Name is the stream's, the delivery stream's or the bucket's name.
	Name string
}

var (
	// arnRE splits arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
	arnRE = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$`)
	// Firehose's DeliveryStreamName: 1 to 64 of [a-zA-Z0-9_.-].
	deliveryStreamRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
)

// supported is the hint every refusal ends with.
const supported = "Spate's on-failure destinations are a stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME), " +
	"a delivery stream (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME) or an S3 bucket (arn:aws:s3:::BUCKET)"

// Validate checks that arn names a destination Spate can send to, by its
// form alone (Sender.Check also asks whether it exists). Its error is an
// *apierr.Error InvalidParameterValueException.
func Validate(arn string) error {
	_, err := Parse(arn)
	return err
}

// Parse returns the Target arn names, or an *apierr.Error
// InvalidParameterValueException saying why it names none.
func Parse(arn string) (Target, error) {
	if arn == "" {
		return Target{}, invalid("DestinationConfig.OnFailure.Destination is empty: " + supported)
	}
	if len(arn) > MaxARNLength {
		return Target{}, invalid(fmt.Sprintf("DestinationConfig.OnFailure.Destination is %d characters long; at most %d are allowed", len(arn), MaxARNLength))
	}
	m := arnRE.FindStringSubmatch(arn)
	if m == nil {
		return Target{}, invalid(fmt.Sprintf("the destination %q is not an ARN: %s", arn, supported))
	}
	service, region, account, resource := m[2], m[3], m[4], m[5]
	switch service {
	case "kinesis":
		name, ok := strings.CutPrefix(resource, "stream/")
		if !ok || region == "" || account == "" {
			return Target{}, invalid(fmt.Sprintf("the destination %q is not a stream ARN: want arn:aws:kinesis:REGION:ACCOUNT:stream/NAME", arn))
		}
		if err := shard.ValidateStreamName(name); err != nil {
			return Target{}, invalid(fmt.Sprintf("the destination %q: %s", arn, apierr.MessageOf(err)))
		}
		return Target{Kind: Stream, Name: name}, nil
	case "firehose":
		name, ok := strings.CutPrefix(resource, "deliverystream/")
		if !ok || region == "" || account == "" || !deliveryStreamRE.MatchString(name) {
			return Target{}, invalid(fmt.Sprintf("the destination %q is not a delivery stream ARN: want arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, NAME 1 to 64 of a-z, A-Z, 0-9, '_', '.', '-'", arn))
		}
		return Target{Kind: DeliveryStream, Name: name}, nil
	case "s3":
		bucket, err := s3store.ParseBucketARN(arn)
		if err != nil {
			return Target{}, invalid(fmt.Sprintf("the destination is not a bucket ARN: %v", err))
		}
		return Target{Kind: Bucket, Name: bucket}, nil
	case "sqs", "sns":
		return Target{}, invalid(fmt.Sprintf("the destination %q is an Amazon %s ARN and Spate has no %s: %s", arn, strings.ToUpper(service), strings.ToUpper(service), supported))
	}
	return Target{}, invalid(fmt.Sprintf("the destination %q names the service %q, which cannot take an event source mapping's failures: %s", arn, service, supported))
}

func invalid(msg string) error {
	return &apierr.Error{Code: apierr.InvalidParameterValue, Message: msg}
}
