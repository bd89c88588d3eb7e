package firehose

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/spatehq/spate/firehose/essink"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/internal/trunc"
)

// Last delivery errors. Firehose sends destination errors to CloudWatch
// Logs ("S3.NoSuchBucket", "Lambda.FunctionError", ...) while the delivery
// stream stays ACTIVE; Spate has no CloudWatch Logs, so each delivery
// stream keeps its last few errors in memory and DescribeDeliveryStream
// reports them (DeliveryStreamDescription.DeliveryErrors).
//
// An error stays listed until the part that failed succeeds again: a
// successful upload to S3 clears the S3 errors, a successful invocation the
// Lambda processor's, and so on, so a non-empty list means "this is failing
// now, or was at its last attempt". Errors are not persisted: a restart, or
// an UpdateDestination (which restarts the delivery stream), starts with
// none.

// MaxDeliveryErrors is how many errors a delivery stream keeps; older
// ones are dropped.
const MaxDeliveryErrors = 10

// maxDeliveryErrorMessage bounds an error's message, in bytes.
const maxDeliveryErrorMessage = 512

// maxDeliveryErrorCode bounds an error's code, in bytes: part of it can
// come from outside (Elasticsearch's error type).
const maxDeliveryErrorCode = 128

// What a delivery error is about (DeliveryError.Destination).
const (
	ErrorDestinationS3            = "S3"
	ErrorDestinationS3Backup      = "S3 backup"
	ErrorDestinationElasticsearch = "Elasticsearch"
	ErrorDestinationOpenSearch    = "OpenSearch"
	ErrorDestinationLambda        = "Lambda"
)

// DeliveryError is a delivery that failed: an upload, a bulk request, an
// invocation of the Lambda processor. Consecutive failures alike (same
// destination, code and message, as a retry of the same batch gives) are
// one entry whose Count grows and whose Timestamp is the last's.
type DeliveryError struct {
	// Timestamp is when it last happened; FirstTimestamp when it first did.
	Timestamp      time.Time
	FirstTimestamp time.Time
	// Destination is what failed: S3, S3 backup, Elasticsearch,
	// OpenSearch or Lambda.
	Destination string
	// ErrorCode is in the form Firehose writes to CloudWatch Logs: the
	// service, a dot and its error code ("S3.NoSuchBucket",
	// "Lambda.FunctionError", "ES.mapper_parsing_exception").
	ErrorCode string
	// ErrorMessage says what happened, at most 512 bytes, with any
	// credentials in URLs masked and control characters replaced by
	// spaces. Spate adds no record data to it, but the text a destination
	// or function gives can quote some (Elasticsearch's
	// mapper_parsing_exception previews the field's value; a function's
	// errorMessage is its own), as in Firehose's CloudWatch Logs.
	ErrorMessage string
	// Count is how many failures in a row this entry stands for.
	Count int
}

// errorLog keeps a delivery stream's last errors, oldest first. Its
// methods are safe for concurrent use (one worker per source shard) and do
// nothing on a nil log (a deliverer built only to validate a
// configuration has none).
type errorLog struct {
	mu     sync.Mutex
	errors []DeliveryError
}

// add records an error at time at.
func (l *errorLog) add(at time.Time, dest, code, message string) {
	if l == nil {
		return
	}
	code, message = cleanText(code, maxDeliveryErrorCode), cleanText(message, maxDeliveryErrorMessage)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.errors); n > 0 {
		if last := &l.errors[n-1]; last.Destination == dest && last.ErrorCode == code && last.ErrorMessage == message {
			last.Timestamp = at
			last.Count++
			return
		}
	}
	if len(l.errors) == MaxDeliveryErrors {
		// Invariant: at most MaxDeliveryErrors entries; the oldest goes.
		copy(l.errors, l.errors[1:])
		l.errors = l.errors[:MaxDeliveryErrors-1]
	}
	l.errors = append(l.errors, DeliveryError{Timestamp: at, FirstTimestamp: at, Destination: dest, ErrorCode: code, ErrorMessage: message, Count: 1})
}

// clear drops the errors of dest: it has just succeeded.
func (l *errorLog) clear(dest string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.errors[:0]
	for _, e := range l.errors {
		if e.Destination != dest {
			kept = append(kept, e)
		}
	}
	clear(l.errors[len(kept):])
	l.errors = kept
}

// list returns a copy of the errors, newest first.
func (l *errorLog) list() []DeliveryError {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]DeliveryError, len(l.errors))
	for i, e := range l.errors {
		out[len(out)-1-i] = e
	}
	return out
}

// urlUserInfo matches the user-info part of a URL ("//user:secret@").
var urlUserInfo = regexp.MustCompile(`//[^/@\s]*@`)

// cleanText masks credentials in URLs, replaces control characters (a
// terminal's escape sequences, line breaks: `spate firehose describe`
// prints the text) with spaces, and bounds the text to max bytes, cutting
// at a character boundary. Codes and messages come partly from outside:
// an Elasticsearch cluster, a function, an S3 store.
func cleanText(s string, max int) string {
	s = urlUserInfo.ReplaceAllString(s, "//xxxxx@")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return trunc.Fit(s, max)
}

// destinationLabel is what DeliveryError.Destination calls the main
// destination of m.
func destinationLabel(m dsMeta) string {
	switch m.DestKind {
	case "Elasticsearch":
		return ErrorDestinationElasticsearch
	case "Amazonopensearchservice":
		return ErrorDestinationOpenSearch
	}
	return ErrorDestinationS3
}

// s3ErrorCode is the code of a failed S3 call: "S3." and the store's code
// ("S3.NoSuchBucket"), or S3.ServiceUnavailable when the store gave none
// (it could not be reached).
func s3ErrorCode(err error) string {
	if code := s3store.Code(err); code != "" {
		return "S3." + code
	}
	return "S3.ServiceUnavailable"
}

// esErrorCode is the code of a document Elasticsearch did not take:
// "ES." (or "OS." for OpenSearch) and Elasticsearch's error type, its HTTP
// status when it gave no type, or ServiceUnavailable when it gave no
// answer (unreachable).
func esErrorCode(dest string, f essink.Failed) string {
	prefix := "ES."
	if dest == ErrorDestinationOpenSearch {
		prefix = "OS."
	}
	switch {
	case f.Type != "":
		return prefix + f.Type
	case f.Status != 0:
		return fmt.Sprintf("%sHTTP%d", prefix, f.Status)
	}
	return prefix + "ServiceUnavailable"
}

// DeliveryErrors returns a delivery stream's last delivery errors, newest
// first.
func (s *Service) DeliveryErrors(name string) ([]DeliveryError, error) {
	ds, _, err := s.get(name)
	if err != nil {
		return nil, err
	}
	return ds.errs.list(), nil
}

// errors is the error log of w's delivery stream (nil for a worker a test
// built without one).
func (w *worker) errors() *errorLog {
	if w.ds == nil {
		return nil
	}
	return w.ds.errs
}
