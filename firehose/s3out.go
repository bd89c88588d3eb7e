package firehose

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/parquetconv"
	"github.com/spatehq/spate/firehose/prefix"
	"github.com/spatehq/spate/firehose/s3store"
)

// Error output types, as Firehose names them in !{firehose:error-output-type}
// and in default error prefixes.
const (
	errProcessingFailed       = "processing-failed"
	errFormatConversionFailed = "format-conversion-failed"
	errElasticsearchFailed    = "elasticsearch-failed"
)

// object is one S3 object to write.
type object struct {
	bucket, key string
	body        []byte
	records     int
}

// s3Writer turns records into objects of one S3 configuration. It holds
// only derived, immutable state, so workers of all shards share it.
type s3Writer struct {
	s         *Service
	name      string
	createdMs int64
	version   int
	bucket    string
	prefix    *prefix.Template // nil: the default YYYY/MM/dd/HH/ prefix
	errPrefix *prefix.Template
	location  *time.Location // CustomTimeZone of prefix timestamps; nil is UTC
	format    compress.Format
	ext       string
	procs     processors
	converter *parquetconv.Converter // nil: no format conversion
	partition bool
	backup    *s3Writer // S3BackupMode Enabled: the source records, unprocessed
}

// newS3Writer parses an S3 configuration; it is the only place that does,
// and validation builds one to check a configuration. Errors are
// InvalidArgumentException naming the member under where.
func newS3Writer(s *Service, m dsMeta, where string, c *ExtendedS3DestinationConfiguration) (*s3Writer, error) {
	if s.s3 == nil {
		return nil, invalid("%s: this server has no S3 endpoint; start spate serve with --s3-endpoint (or SPATE_S3_ENDPOINT)", where)
	}
	bucket, err := s3store.ParseBucketARN(c.BucketARN)
	if err != nil {
		return nil, invalid("%s.BucketARN: %v", where, err)
	}
	w := &s3Writer{
		s: s, name: m.Name, createdMs: m.CreatedAtMs, version: m.Version, bucket: bucket,
		format: compress.Uncompressed,
	}
	if c.CompressionFormat != "" {
		if w.format, err = compress.ParseFormat(c.CompressionFormat); err != nil {
			return nil, invalid("%s.CompressionFormat: %v", where, err)
		}
	}
	if c.Prefix != "" {
		if w.prefix, err = prefix.Compile(c.Prefix); err != nil {
			return nil, invalid("%s.Prefix: %v", where, err)
		}
	}
	if w.errPrefix, err = prefix.CompileErrorOutput(c.ErrorOutputPrefix, c.Prefix); err != nil {
		return nil, invalid("%s.ErrorOutputPrefix: %v", where, err)
	}
	if w.procs, err = parseProcessors(where, c.ProcessingConfiguration); err != nil {
		return nil, err
	}
	if w.procs.lambda != nil && s.cfg.invoker == nil {
		// Also what keeps a delivery stream that has one from starting on
		// a server restarted without functions: its records wait.
		return nil, invalid("%s.ProcessingConfiguration: a Lambda processor needs functions, which are not enabled on this server", where)
	}
	if w.converter, err = converterOf(where, c.DataFormatConversionConfiguration); err != nil {
		return nil, err
	}
	if c.CustomTimeZone != "" {
		if w.location, err = time.LoadLocation(c.CustomTimeZone); err != nil {
			return nil, invalid("%s.CustomTimeZone %q is not a time zone Spate knows (use an IANA name such as Europe/Paris)", where, c.CustomTimeZone)
		}
	}
	w.partition = c.DynamicPartitioningConfiguration != nil && boolValue(c.DynamicPartitioningConfiguration.Enabled)
	w.ext = w.format.Extension()
	if w.converter != nil {
		w.ext = ".parquet"
	}
	if c.FileExtension != "" {
		w.ext = c.FileExtension
	}
	if c.S3BackupMode == "Enabled" {
		if c.S3BackupConfiguration == nil {
			return nil, invalid("%s.S3BackupConfiguration is required when S3BackupMode is Enabled", where)
		}
		if w.backup, err = newPlainS3Writer(s, m, where+".S3BackupConfiguration", c.S3BackupConfiguration); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// newPlainS3Writer builds the writer of a plain S3 configuration (a backup
// bucket), after checking its buffering hints.
func newPlainS3Writer(s *Service, m dsMeta, where string, c *S3DestinationConfiguration) (*s3Writer, error) {
	if c == nil {
		return nil, invalid("%s is required", where)
	}
	if err := validateHints(where, c.BufferingHints, 128); err != nil {
		return nil, err
	}
	return newS3Writer(s, m, where, extendS3(c))
}

// failedRecord is a record that could not be delivered as configured; it
// goes to the error output prefix.
type failedRecord struct {
	kind    string // error output type
	code    string
	message string
	rec     recordView
	// attempts is attemptsMade (0 is 1); lambdaARN is set for records
	// the Lambda processor failed.
	attempts  int
	lambdaARN string
}

// recordView is the part of a record the output needs.
type recordView struct {
	seq       string
	arrival   time.Time
	data      []byte
	extraJSON map[string]any // extra members of an error record (Elasticsearch)
}

// objectID derives the id part of an object name from what the object
// holds: the delivery stream, the batch's position and the partition. The
// same batch always yields the same names.
func (w *s3Writer) objectID(b *batch, partition string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%s\x00%s", w.name, w.createdMs, b.shardID, b.first, b.last, partition)
	// Shaped like the UUIDs in Firehose's object names.
	return uuidShaped(h.Sum(nil))
}

// uuidShaped formats the first 16 bytes of a hash as a UUID.
func uuidShaped(sum []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// randomString is !{firehose:random-string}: random-looking, but derived
// from the batch so that a re-delivery renders the same key.
func (w *s3Writer) randomString(b *batch) string {
	return prefix.RandomString([]byte(w.objectID(b, "random")))
}

func (w *s3Writer) render(t *prefix.Template, in prefix.Input) (string, error) {
	if t == nil {
		if in.Location != nil {
			// DefaultPrefix is UTC; CustomTimeZone moves it.
			return in.ArrivalTime.In(in.Location).Format("2006/01/02/15/"), nil
		}
		return prefix.DefaultPrefix(in.ArrivalTime), nil
	}
	return t.Render(in)
}

// objectName is Firehose's pattern:
// <prefix><DeliveryStreamName>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id><ext>.
// ext is the writer's extension for records and the compression's for
// error records (never .parquet).
func (w *s3Writer) objectName(pfx string, first time.Time, id, ext string) string {
	return pfx + w.name + "-" + strconv.Itoa(w.version) + "-" + first.UTC().Format("2006-01-02-15-04-05") + "-" + id + ext
}

// build turns a batch into objects: processing, partitioning, conversion,
// compression and naming. Records that fail go to the error output.
func (w *s3Writer) build(b *batch) ([]object, error) {
	type group struct {
		prefix string
		first  time.Time
		recs   []recordView
	}
	groups := map[string]*group{}
	var failed []failedRecord
	random := w.randomString(b)
	// Without dynamic partitioning a batch has one prefix, from its first
	// record, as in Firehose: render it once.
	batchPrefix := ""
	if !w.partition {
		p, err := w.render(w.prefix, prefix.Input{ArrivalTime: b.records[0].ArrivalTime, RandomString: random, Location: w.location})
		if err != nil {
			return nil, fmt.Errorf("render Prefix: %w", err)
		}
		batchPrefix = p
	}
	for i, r := range b.records {
		rv := recordView{seq: r.SequenceNumber, arrival: r.ArrivalTime, data: r.Data}
		var lambdaKeys map[string]string
		if b.lambda != nil {
			switch o := b.lambda[i]; o.result {
			case outcomeDropped:
				continue
			case outcomeFailed:
				failed = append(failed, failedRecord{kind: errProcessingFailed, code: o.code, message: o.message, rec: rv, attempts: o.attempts, lambdaARN: w.procs.lambda.arn})
				continue
			default:
				rv.data, lambdaKeys = o.data, o.keys
			}
		}
		pfx := batchPrefix
		if w.partition {
			in := prefix.Input{ArrivalTime: r.ArrivalTime, RandomString: random, Location: w.location, LambdaKeys: lambdaKeys}
			if w.procs.extractor != nil {
				keys, err := w.procs.extractor.Extract(rv.data)
				if err != nil {
					failed = append(failed, failedRecord{kind: errProcessingFailed, code: "DynamicPartitioning.MetadataExtractionFailed", message: err.Error(), rec: rv})
					continue
				}
				in.Keys = keys
			}
			p, err := w.render(w.prefix, in)
			if err != nil {
				failed = append(failed, failedRecord{kind: errProcessingFailed, code: "DynamicPartitioning.PartitionKeyError", message: err.Error(), rec: rv})
				continue
			}
			pfx = p
		}
		g := groups[pfx]
		if g == nil {
			g = &group{prefix: pfx, first: r.ArrivalTime}
			groups[pfx] = g
		}
		g.recs = append(g.recs, rv)
	}
	prefixes := make([]string, 0, len(groups))
	for p := range groups {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	var objects []object
	for _, p := range prefixes {
		g := groups[p]
		body, convFailed, err := w.encode(g.recs)
		if err != nil {
			return nil, err
		}
		failed = append(failed, convFailed...)
		if body != nil {
			objects = append(objects, object{bucket: w.bucket, key: w.objectName(p, g.first, w.objectID(b, p), w.ext), body: body, records: len(g.recs) - len(convFailed)})
		}
	}
	errObjects, err := w.errorObjects(b, failed)
	if err != nil {
		return nil, err
	}
	objects = append(objects, errObjects...)
	if w.backup != nil {
		backup, err := w.backup.rawObject(b)
		if err != nil {
			return nil, err
		}
		objects = append(objects, backup)
	}
	return objects, nil
}

// encode serialises records as configured: Parquet, or the processed
// records concatenated and compressed. It returns nil when nothing is left.
func (w *s3Writer) encode(recs []recordView) ([]byte, []failedRecord, error) {
	if w.converter != nil {
		raw := make([][]byte, len(recs))
		for i, r := range recs {
			raw[i] = r.data
		}
		file, bad, err := w.converter.Convert(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("convert to Parquet: %w", err)
		}
		var failed []failedRecord
		for _, e := range bad {
			failed = append(failed, failedRecord{kind: errFormatConversionFailed, code: "DataFormatConversion.MalformedData", message: e.Err.Error(), rec: recs[e.Index]})
		}
		if len(bad) == len(recs) {
			return nil, failed, nil
		}
		return file, failed, nil
	}
	body, err := w.compressRecords(recs, w.procs.delimiter)
	return body, nil, err
}

// compressRecords writes the records, each followed by a newline when
// delimit is set, through the compressor in one pass: no concatenated copy
// of the batch is made first.
func (w *s3Writer) compressRecords(recs []recordView, delimit bool) ([]byte, error) {
	size := 0
	for _, r := range recs {
		size += len(r.data)
	}
	if delimit {
		size += len(recs)
	}
	var buf bytes.Buffer
	if w.format == compress.Uncompressed {
		buf.Grow(size)
	} else {
		buf.Grow(size/3 + 512) // JSON rarely compresses below a third
	}
	cw, err := compress.NewWriter(w.format, &buf, w.name)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		_, err = cw.Write(r.data)
		if err == nil && delimit {
			_, err = cw.Write(newline)
		}
		if err != nil {
			return nil, fmt.Errorf("compress %s: %w", w.format, err)
		}
	}
	if err := cw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", w.format, err)
	}
	return buf.Bytes(), nil
}

var newline = []byte{'\n'}

// rawObject is the unprocessed records of a batch in one object (source
// record backup, Elasticsearch AllDocuments backup).
func (w *s3Writer) rawObject(b *batch) (object, error) {
	views := make([]recordView, len(b.records))
	for i, r := range b.records {
		views[i] = recordView{data: r.Data}
	}
	body, err := w.compressRecords(views, false)
	if err != nil {
		return object{}, err
	}
	first := time.Time{}
	if len(b.records) > 0 {
		first = b.records[0].ArrivalTime
	}
	pfx, err := w.render(w.prefix, prefix.Input{ArrivalTime: first, RandomString: w.randomString(b), Location: w.location})
	if err != nil {
		return object{}, err
	}
	return object{bucket: w.bucket, key: w.objectName(pfx, first, w.objectID(b, "raw"), w.ext), body: body, records: len(b.records)}, nil
}

// errorRecord is the JSON line Firehose writes for a failed record.
type errorRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                string `json:"rawData"`
	SequenceNumber         string `json:"sequenceNumber"`
	EsDocumentID           string `json:"esDocumentId,omitempty"`
	EsIndexName            string `json:"esIndexName,omitempty"`
	LambdaArn              string `json:"lambdaArn,omitempty"`
}

// errorObjects writes failed records, one object per error output type,
// under the error prefix. Timestamps come from the records, so the bytes
// are the same on re-delivery.
func (w *s3Writer) errorObjects(b *batch, failed []failedRecord) ([]object, error) {
	byKind := map[string][]failedRecord{}
	for _, f := range failed {
		byKind[f.kind] = append(byKind[f.kind], f)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var out []object
	last := b.records[len(b.records)-1].ArrivalTime.UnixMilli()
	for _, kind := range kinds {
		fs := byKind[kind]
		var buf bytes.Buffer
		for _, f := range fs {
			line := errorRecord{
				AttemptsMade: max(1, f.attempts), ArrivalTimestamp: f.rec.arrival.UnixMilli(), ErrorCode: f.code, ErrorMessage: f.message,
				AttemptEndingTimestamp: last, RawData: base64.StdEncoding.EncodeToString(f.rec.data), SequenceNumber: f.rec.seq,
				LambdaArn: f.lambdaARN,
			}
			if f.rec.extraJSON != nil {
				line.EsDocumentID, _ = f.rec.extraJSON["esDocumentId"].(string)
				line.EsIndexName, _ = f.rec.extraJSON["esIndexName"].(string)
			}
			enc, _ := json.Marshal(line) // plain data always encodes
			buf.Write(enc)
			buf.WriteByte('\n')
		}
		in := prefix.Input{ArrivalTime: fs[0].rec.arrival, RandomString: w.randomString(b), ErrorOutputType: kind, Location: w.location}
		pfx, err := w.errPrefix.Render(in)
		if err != nil {
			return nil, fmt.Errorf("render ErrorOutputPrefix: %w", err)
		}
		body, err := compress.Compress(w.format, w.name, buf.Bytes())
		if err != nil {
			return nil, fmt.Errorf("compress %s: %w", w.format, err)
		}
		key := w.objectName(pfx, fs[0].rec.arrival, w.objectID(b, "error/"+kind), w.format.Extension())
		out = append(out, object{bucket: w.bucket, key: key, body: body, records: len(fs)})
	}
	return out, nil
}

// put uploads objects; any failure fails the whole call, and a retry
// uploads all of them again (same names, same bytes).
func (w *s3Writer) put(ctx context.Context, objects []object) error {
	for _, o := range objects {
		// Put's error names the object already.
		if err := w.s.s3.Put(ctx, o.bucket, o.key, o.body, "application/octet-stream"); err != nil {
			return err
		}
	}
	return nil
}

// s3Deliverer is the deliverer of an S3 destination.
type s3Deliverer struct{ w *s3Writer }

func (d *s3Deliverer) kind() string { return "s3" }

// prepare builds the batch's objects: the CPU-heavy part (processing,
// conversion, compression), done while the previous batch uploads.
func (d *s3Deliverer) prepare(b *batch) (shipment, error) {
	if len(b.records) == 0 {
		return noShipment{}, nil
	}
	objects, err := d.w.build(b)
	if err != nil {
		return nil, err
	}
	bytes := 0
	for _, r := range b.records {
		bytes += len(r.Data)
	}
	return &s3Shipment{w: d.w, objects: objects, records: len(b.records), bytes: bytes}, nil
}

// s3Shipment uploads prepared objects. A retry uploads all of them again:
// same names, same bytes.
type s3Shipment struct {
	w       *s3Writer
	objects []object
	records int
	bytes   int
}

func (s *s3Shipment) ship(ctx context.Context) error {
	if err := s.w.put(ctx, s.objects); err != nil {
		return err
	}
	s.w.s.metrics.delivered(s.w.name, "s3", s.records, s.bytes)
	return nil
}

// noShipment delivers nothing (a batch whose records retention removed).
type noShipment struct{}

func (noShipment) ship(context.Context) error { return nil }
