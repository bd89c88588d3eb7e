package shard

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/spatehq/spate/apierr"
)

var (
	// streamNameRE is the Kinesis model's pattern for StreamName, and for
	// ConsumerName too.
	streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
	// Internal streams (see CreateStreamInput.Internal) carry an owner
	// prefix with a colon, which no Kinesis stream name can contain.
	internalNameRE = regexp.MustCompile(`^[a-z]{1,32}:[a-zA-Z0-9_.-]{1,128}$`)
	arnRE          = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:kinesis:([a-z0-9-]*):(\d{12}):stream/([a-zA-Z0-9_.-]{1,128})$`)
	tagCharsRE     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)
)

// validateLookupName accepts a stream name or an internal stream name.
func validateLookupName(name string) error {
	if internalNameRE.MatchString(name) {
		return nil
	}
	return validateStreamName(name)
}

// ValidateStreamName accepts the names a user may give a stream: the
// Kinesis StreamName pattern. It refuses internal stream names
// ("firehose:orders"), so a component that takes a stream name from a
// user (Analytics' FROM, INSERT INTO and schema discovery) calls it before
// the store, whose lookups accept internal names for their owners. The
// error is ValidationException whether or not such a stream exists, as
// Kinesis answers a name it cannot hold.
func ValidateStreamName(name string) error { return validateStreamName(name) }

func validateStreamName(name string) error {
	if !streamNameRE.MatchString(name) {
		return apierr.New(apierr.Validation,
			"stream name %q is invalid: use 1 to 128 characters from a-z, A-Z, 0-9, '_', '.' and '-'", name)
	}
	return nil
}

// ValidateConsumerName accepts a name a reader may give AcquireConsumer on a
// client's behalf (a gRPC subscription's consumer_name): empty, for an
// anonymous reader, or a Kinesis ConsumerName. The pattern has no ':', so a
// client cannot take the name of an in-process reader ("firehose:orders").
// field names the name in the error.
func ValidateConsumerName(field, name string) error {
	if name == "" || streamNameRE.MatchString(name) {
		return nil
	}
	const want = "use 1 to 128 characters from a-z, A-Z, 0-9, '_', '.' and '-', or leave it empty"
	if len(name) > 128 { // not echoed: it can be as long as the request
		return apierr.New(apierr.Validation, "%s is %d bytes long: %s", field, len(name), want)
	}
	return apierr.New(apierr.Validation, "%s %q is invalid: %s", field, name, want)
}

func validateEntry(i int, e Entry) error {
	n := utf8.RuneCountInString(e.PartitionKey)
	if n < 1 || n > MaxPartitionKeyLen {
		return apierr.New(apierr.Validation,
			"%s: partition key must be 1 to %d Unicode characters, got %d", recordWhere(i), MaxPartitionKeyLen, n)
	}
	// The gRPC API decodes strings without checking their encoding (see
	// grpcapi's codec), so this is where bytes that are not UTF-8 stop.
	if !utf8.ValidString(e.PartitionKey) {
		return apierr.New(apierr.Validation, "%s: partition key is not valid UTF-8", recordWhere(i))
	}
	if err := checkRecordSize(i, e, MaxRecordSizeLimit); err != nil {
		return err
	}
	if e.ExplicitHashKey != "" {
		if _, err := parseExplicitHashKey(e.ExplicitHashKey); err != nil {
			return err
		}
	}
	return nil
}

// checkRecordSize refuses entry i (-1: the request's only one) when it is
// larger than limit, a stream's maximum record size.
func checkRecordSize(i int, e Entry, limit int) error {
	if size := len(e.Data) + len(e.PartitionKey); size > limit {
		return apierr.New(apierr.InvalidArgument,
			"%s: data plus partition key is %d bytes; the limit is %d bytes (%d KiB)", recordWhere(i), size, limit, limit>>10)
	}
	return nil
}

// recordWhere names entry i of a request in an error ("record 3"), or
// "record" for i < 0 (the request's only one). Only errors build it: a
// string per record of every PutRecords was 2 to 3% of the put path's CPU.
func recordWhere(i int) string {
	if i < 0 {
		return "record"
	}
	return "record " + itoa(i)
}

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if l := utf8.RuneCountInString(k); l < 1 || l > MaxTagKeyLen {
			return apierr.New(apierr.InvalidArgument, "tag key %q must be 1 to %d characters", k, MaxTagKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxTagValueLen {
			return apierr.New(apierr.InvalidArgument, "value of tag %q must be at most %d characters", k, MaxTagValueLen)
		}
		if !tagCharsRE.MatchString(k) || !tagCharsRE.MatchString(v) {
			return apierr.New(apierr.InvalidArgument,
				"tag %q=%q has invalid characters: tag keys and values may contain Unicode letters, digits, white space and _ . : / = + - @ %%", k, v)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return apierr.New(apierr.InvalidArgument, "tag key %q is invalid: the prefix aws: is reserved", k)
		}
	}
	return nil
}

func itoa(i int) string {
	var b [20]byte
	return string(appendPadded(b[:0], uint64(i), 1))
}
