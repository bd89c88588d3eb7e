package firehose

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/internal/trunc"
)

// The Lambda processor ("Amazon Data Firehose data transformation",
// data-transformation.html): the records of a batch go to a function in
// invocations of at most BufferSizeInMBs, with the Firehose transformation
// event; each record's result says what becomes of it:
//
//	Ok                the returned data replaces the record, and its
//	                  metadata.partitionKeys feed !{partitionKeyFromLambda:NAME}
//	Dropped           not delivered (counted)
//	ProcessingFailed  delivered under ErrorOutputPrefix, error output type
//	                  processing-failed, with the original data
//
// An invocation that fails (the function reports an error, it cannot be
// invoked, or its response is not a valid transformation response: not
// JSON, a record ID missing, duplicated or unknown, an unknown result) is
// retried NumberOfRetries times; then its records go to processing-failed
// as unsuccessfully processed, with the last error, and delivery moves on,
// as Firehose does (data-transformation-failure-handling.html).

// Lambda processor parameters and their ranges (ProcessorParameter in the
// Firehose API reference and data-transformation.html).
// BufferIntervalInSeconds (default 60) is only checked: see parseLambda.
const (
	defaultLambdaBufferMB    = 1.0
	minLambdaBufferMB        = 0.2
	maxLambdaBufferMB        = 3.0
	maxLambdaIntervalSeconds = 900
	defaultLambdaRetries     = 3
	maxLambdaRetries         = 300
	// maxInvokePayload is Lambda's limit on a synchronous invocation's
	// request (6 MB): many small records can make an event of
	// BufferSizeInMBs of data larger than that once base64 and JSON are
	// added, so both bound an invocation.
	maxInvokePayload = 6 << 20
	// eventEnvelope is room kept in maxInvokePayload for the event's
	// members other than its records.
	eventEnvelope = 4 << 10
)

// Error codes of records that go to processing-failed, as Firehose writes
// them in errorCode.
const (
	codeFunctionError       = "Lambda.FunctionError"
	codeProcessingFailed    = "Lambda.ProcessingFailed"
	codeJSONProcessing      = "Lambda.JsonProcessingException"
	codeMissingRecordID     = "Lambda.MissingRecordId"
	codeDuplicatedRecordID  = "Lambda.DuplicatedRecordId"
	codeInvokeLimitExceeded = "Lambda.InvokeLimitExceeded"
)

// lambdaARNRE is the shape of a LambdaArn: an unqualified or qualified
// function ARN.
var lambdaARNRE = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)

// lambdaProcessor is a validated Lambda processor.
type lambdaProcessor struct {
	// arn is LambdaArn as configured: what is invoked, and what error
	// records name.
	arn string
	// bufferBytes bounds the record data of one invocation
	// (BufferSizeInMBs).
	bufferBytes int
	// retries is how many times a failed invocation is retried
	// (NumberOfRetries).
	retries int
}

// parseLambda validates the parameters of a Lambda processor. Every name
// of the API's ProcessorParameterName is known; those that belong to other
// processor types are refused rather than ignored, so a misplaced one is
// noticed. BufferIntervalInSeconds and RoleArn are validated and kept as
// given: the delivery stream's own buffering hints decide when a batch is
// read (and so when its records are transformed), and Spate has no IAM.
func parseLambda(where string, p Processor) (*lambdaProcessor, error) {
	lp := &lambdaProcessor{bufferBytes: int(defaultLambdaBufferMB * (1 << 20)), retries: defaultLambdaRetries}
	seen := map[string]bool{}
	for _, param := range p.Parameters {
		name, v := param.ParameterName, param.ParameterValue
		if seen[name] {
			return nil, invalid("%s: parameter %s is given twice", where, name)
		}
		seen[name] = true
		switch name {
		case "LambdaArn":
			if !lambdaARNRE.MatchString(v) {
				return nil, invalid("%s.LambdaArn %q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", where, truncateValue(v))
			}
			lp.arn = v
		case "BufferSizeInMBs":
			mb, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(mb) || mb < minLambdaBufferMB || mb > maxLambdaBufferMB {
				return nil, invalid("%s.BufferSizeInMBs is %q; it must be a number from %g to %g", where, truncateValue(v), minLambdaBufferMB, maxLambdaBufferMB)
			}
			lp.bufferBytes = int(mb * (1 << 20))
		case "BufferIntervalInSeconds":
			if _, err := intParam(v, 0, maxLambdaIntervalSeconds); err != nil {
				return nil, invalid("%s.BufferIntervalInSeconds is %q; it must be an integer from 0 to %d", where, truncateValue(v), maxLambdaIntervalSeconds)
			}
		case "NumberOfRetries":
			n, err := intParam(v, 0, maxLambdaRetries)
			if err != nil {
				return nil, invalid("%s.NumberOfRetries is %q; it must be an integer from 0 to %d", where, truncateValue(v), maxLambdaRetries)
			}
			lp.retries = n
		case "RoleArn":
		case "MetadataExtractionQuery", "JsonParsingEngine", "SubRecordType", "Delimiter", "CompressionFormat", "DataMessageExtraction":
			return nil, invalid("%s: parameter %s does not apply to a Lambda processor; it takes LambdaArn, BufferSizeInMBs, BufferIntervalInSeconds, NumberOfRetries and RoleArn", where, name)
		default:
			return nil, invalid("%s: unknown parameter %q; a Lambda processor takes LambdaArn, BufferSizeInMBs, BufferIntervalInSeconds, NumberOfRetries and RoleArn", where, truncateValue(name))
		}
	}
	if lp.arn == "" {
		return nil, invalid("%s: a Lambda processor needs the parameter LambdaArn", where)
	}
	return lp, nil
}

func intParam(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && (n < lo || n > hi) {
		err = fmt.Errorf("%d is out of range", n)
	}
	return n, err
}

// truncateValue keeps error messages short whatever a client sent.
func truncateValue(v string) string { return trunc.String(v, 100) }

// checkFunction answers InvalidArgumentException unless the function of
// the Lambda processor lp exists; where names the processor. The
// registry's refusals (not found, an ARN it cannot parse) are the
// caller's mistake; only its own failure is a server error.
func (s *Service) checkFunction(ctx context.Context, where string, lp *lambdaProcessor) error {
	_, err := s.cfg.invoker.FunctionARN(ctx, lp.arn)
	switch code := apierr.CodeOf(err); {
	case err == nil:
		return nil
	case code == apierr.ResourceNotFound:
		return invalid("%s.LambdaArn %s: no such function on this server (%s)", where, lp.arn, apierr.MessageOf(err))
	case code != "" && code != apierr.Service:
		return invalid("%s.LambdaArn %s: %s", where, lp.arn, apierr.MessageOf(err))
	}
	return fmt.Errorf("look up function %s: %w", lp.arn, err)
}

// Outcomes of a record of a transformed batch.
const (
	outcomeOk uint8 = iota
	outcomeDropped
	outcomeFailed
)

// lambdaOutcome is what the Lambda processor made of one record.
type lambdaOutcome struct {
	result uint8
	data   []byte            // outcomeOk: the record as the function returned it
	keys   map[string]string // outcomeOk: metadata.partitionKeys
	// outcomeFailed: why, and after how many invocations.
	code, message string
	attempts      int
}

// The Firehose transformation event and response (aws-lambda-go's
// events.KinesisFirehoseEvent and KinesisFirehoseResponse decode and
// encode them). Timestamps are milliseconds since the epoch; data is
// base64.
type (
	transformEvent struct {
		InvocationID           string            `json:"invocationId"`
		DeliveryStreamArn      string            `json:"deliveryStreamArn"`
		SourceKinesisStreamArn string            `json:"sourceKinesisStreamArn,omitempty"`
		Region                 string            `json:"region"`
		Records                []json.RawMessage `json:"records"`
	}
	transformEventRecord struct {
		RecordID                    string           `json:"recordId"`
		ApproximateArrivalTimestamp int64            `json:"approximateArrivalTimestamp"`
		Data                        []byte           `json:"data"`
		KinesisRecordMetadata       *kinesisMetadata `json:"kinesisRecordMetadata,omitempty"`
	}
	// kinesisMetadata is sent for a Kinesis stream source only.
	kinesisMetadata struct {
		ShardID                     string `json:"shardId"`
		PartitionKey                string `json:"partitionKey"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		SequenceNumber              string `json:"sequenceNumber"`
		SubsequenceNumber           int64  `json:"subsequenceNumber"`
	}
	transformResponse struct {
		Records []transformResponseRecord `json:"records"`
	}
	transformResponseRecord struct {
		RecordID string  `json:"recordId"`
		Result   string  `json:"result"`
		Data     *[]byte `json:"data"`
		Metadata *struct {
			PartitionKeys map[string]string `json:"partitionKeys"`
		} `json:"metadata"`
	}
)

// lambdaProcessor returns the worker's Lambda processor, nil when it has
// none.
func (w *worker) lambdaProcessor() *lambdaProcessor {
	switch d := w.out.(type) {
	case *s3Deliverer:
		return d.w.procs.lambda
	case *esDeliverer:
		return d.lambda
	}
	return nil
}

// transform runs b's records through the worker's Lambda processor, if it
// has one, and leaves the outcome of each in b.lambda. It returns an error
// only when ctx ends first; the batch is then not delivered, and its intent
// makes the next run transform it again.
//
// The events are a function of the batch (record IDs are sequence numbers,
// invocation IDs derive from the batch's range), so a re-delivery after a
// crash sends the function the same events; the objects it writes have the
// same names and, when the function is deterministic, the same bytes.
func (w *worker) transform(ctx context.Context, b *batch) error {
	lp := w.lambdaProcessor()
	if lp == nil || b.lambda != nil || len(b.records) == 0 {
		return nil
	}
	out := make([]lambdaOutcome, len(b.records))
	for start, n := 0, 0; start < len(b.records); n++ {
		payload, end := w.transformEvent(lp, b, start, n)
		if err := w.invokeWithRetry(ctx, lp, b, payload, start, out[start:end]); err != nil {
			return err
		}
		start = end
	}
	ok, dropped, failed := 0, 0, 0
	for _, o := range out {
		switch o.result {
		case outcomeOk:
			ok++
		case outcomeDropped:
			dropped++
		default:
			failed++
		}
	}
	w.s.metrics.processed(w.meta.Name, ok, dropped, failed)
	b.lambda = out
	return nil
}

// transformEvent encodes the event of the records of b from start on, as
// many as fit BufferSizeInMBs and the invocation payload limit (at least
// one), and returns it with the index after its last record. n numbers the
// invocation within the batch.
func (w *worker) transformEvent(lp *lambdaProcessor, b *batch, start, n int) ([]byte, int) {
	ev := transformEvent{
		InvocationID:      invocationID(w.meta.Name, w.meta.CreatedAtMs, b, n),
		DeliveryStreamArn: w.s.ARN(w.meta.Name),
		Region:            w.s.cfg.region,
	}
	if w.meta.Source != nil {
		ev.SourceKinesisStreamArn = w.meta.Source.KinesisStreamARN
	}
	raw, size := 0, 0
	end := start
	for ; end < len(b.records); end++ {
		r := b.records[end]
		rec := transformEventRecord{RecordID: b.recordID(end), ApproximateArrivalTimestamp: r.ArrivalTime.UnixMilli(), Data: r.Data}
		if w.meta.Type == TypeKinesisStreamAsSource {
			sub := int64(0)
			if b.subs != nil && b.subs[end] >= 0 {
				sub = int64(b.subs[end])
			}
			rec.KinesisRecordMetadata = &kinesisMetadata{
				ShardID: b.shardID, PartitionKey: r.PartitionKey, ApproximateArrivalTimestamp: r.ArrivalTime.UnixMilli(),
				SequenceNumber: r.SequenceNumber, SubsequenceNumber: sub,
			}
		}
		enc, _ := json.Marshal(rec) // plain data always encodes
		if end > start && (raw+len(r.Data) > lp.bufferBytes || size+len(enc)+1 > maxInvokePayload-eventEnvelope) {
			break
		}
		raw += len(r.Data)
		size += len(enc) + 1
		ev.Records = append(ev.Records, enc)
	}
	payload, _ := json.Marshal(ev) // plain data always encodes
	return payload, end
}

// invocationID names invocation n of a batch, shaped like a UUID and the
// same on every delivery of the batch.
func invocationID(name string, createdMs int64, b *batch, n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%s\x00%s\x00%d", name, createdMs, b.shardID, b.first, b.last, n))
	return uuidShaped(sum[:])
}

// invokeWithRetry invokes the function with one event of the records of b
// from start on (out holds their outcomes) and applies its response. A
// failed invocation is retried lp.retries times, with the service's
// backoff; then every record of the event is failed with the last error.
func (w *worker) invokeWithRetry(ctx context.Context, lp *lambdaProcessor, b *batch, payload []byte, start int, out []lambdaOutcome) error {
	ids := make(map[string]int, len(out))
	for i := range out {
		ids[b.recordID(start+i)] = i
	}
	backoff := w.s.cfg.retryMin
	for attempt := 1; ; attempt++ {
		began := time.Now()
		res, err := w.s.cfg.invoker.Invoke(ctx, lp.arn, payload)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var code, message string
		switch {
		case err != nil:
			code, message = invokeErrorCode(err), apierr.MessageOf(err)
		case res.FunctionError != "":
			code, message = codeFunctionError, functionErrorMessage(res.Payload)
		default:
			code, message = applyResponse(res.Payload, ids, out)
		}
		w.s.metrics.invocation(w.meta.Name, code == "", time.Since(began))
		if code == "" {
			w.errors().clear(ErrorDestinationLambda)
		} else {
			w.errors().add(w.s.cfg.now(), ErrorDestinationLambda, code, message)
		}
		if code == "" {
			for i := range out {
				out[i].attempts = attempt
			}
			return nil
		}
		if attempt > lp.retries {
			w.log().Warn("the Lambda processor failed; its records go to the processing-failed error output",
				"function", lp.arn, "attempts", attempt, "records", len(out), "error_code", code, "error", message)
			for i := range out {
				out[i] = lambdaOutcome{result: outcomeFailed, code: code, message: message, attempts: attempt}
			}
			return nil
		}
		w.log().Warn("invoking the Lambda processor failed; retrying", "function", lp.arn, "attempt", attempt, "error_code", code, "error", message)
		if ctxsleep.Sleep(ctx, backoff) != nil {
			return ctx.Err()
		}
		backoff = min(2*backoff, w.s.cfg.retryMax)
	}
}

// invokeErrorCode is the errorCode of an invocation that did not run.
func invokeErrorCode(err error) string {
	code := apierr.CodeOf(err)
	switch {
	case code == apierr.TooManyRequests:
		return codeInvokeLimitExceeded
	case code != "":
		return "Lambda." + strings.TrimSuffix(string(code), "Exception")
	}
	return "Lambda.ServiceException"
}

// functionErrorMessage condenses the error document of a failed invocation
// ({"errorMessage","errorType",...}) into errorMessage.
func functionErrorMessage(doc []byte) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	msg := "The Lambda function was invoked but returned an error"
	if json.Unmarshal(doc, &e) == nil && (e.ErrorType != "" || e.ErrorMessage != "") {
		return msg + ": " + cutMessage(strings.TrimPrefix(e.ErrorType+": "+e.ErrorMessage, ": "))
	}
	if len(bytes.TrimSpace(doc)) > 0 {
		return msg + ": " + truncateValue(string(doc))
	}
	return msg
}

// maxErrorMessage bounds the function's part of an errorMessage: every
// failed record of an invocation carries it into the error output, so an
// error document near the 6 MB response limit would otherwise multiply by
// the batch's record count.
const maxErrorMessage = 1 << 10

// cutMessage cuts s to at most maxErrorMessage bytes, at a character
// boundary.
func cutMessage(s string) string { return trunc.String(s, maxErrorMessage) }

// applyResponse checks a transformation response against the record IDs
// of its event (ids maps each to its index in out) and, when it is valid,
// fills in out. An invalid response changes nothing and returns the
// errorCode and errorMessage its records get if retries do not help.
func applyResponse(payload []byte, ids map[string]int, out []lambdaOutcome) (string, string) {
	var resp transformResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return codeJSONProcessing, "The Lambda function's response is not a transformation response ({\"records\":[...]} with base64 data): " + err.Error()
	}
	got := make([]lambdaOutcome, len(out))
	seen := make([]bool, len(out))
	for _, r := range resp.Records {
		i, ok := ids[r.RecordID]
		if !ok {
			return codeJSONProcessing, fmt.Sprintf("The Lambda function returned the record ID %q, which was not in its event", truncateValue(r.RecordID))
		}
		if seen[i] {
			return codeDuplicatedRecordID, fmt.Sprintf("The Lambda function returned the record ID %q more than once", r.RecordID)
		}
		seen[i] = true
		switch r.Result {
		case "Ok":
			if r.Data == nil {
				return codeJSONProcessing, fmt.Sprintf("The Lambda function returned the record %q as Ok without data", r.RecordID)
			}
			got[i] = lambdaOutcome{result: outcomeOk, data: *r.Data}
			if r.Metadata != nil {
				got[i].keys = r.Metadata.PartitionKeys
			}
		case "Dropped":
			got[i] = lambdaOutcome{result: outcomeDropped}
		case "ProcessingFailed":
			got[i] = lambdaOutcome{result: outcomeFailed, code: codeProcessingFailed,
				message: "The Lambda function returned the result ProcessingFailed for this record"}
		default:
			return codeJSONProcessing, fmt.Sprintf("The Lambda function returned the result %q for the record %q; want Ok, Dropped or ProcessingFailed", truncateValue(r.Result), r.RecordID)
		}
	}
	if len(resp.Records) != len(out) {
		return codeMissingRecordID, fmt.Sprintf("The Lambda function returned %d of the %d record IDs of its event: every record needs a result", len(resp.Records), len(out))
	}
	copy(out, got)
	return "", ""
}
