package awsproto

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/trunc"
)

// AWS CBOR 1.1: the body encoding the AWS SDK for Java (v1 and v2), the
// Kinesis Client Library and the Kinesis Producer Library use by default
// for Kinesis. It is AWS JSON 1.1 with the body in CBOR (RFC 8949): the same
// POST /, X-Amz-Target and members, with
//
//   - blobs as CBOR byte strings (not base64 text),
//   - timestamps as tag 1 enclosing an integer count of MILLISECONDS since
//     the epoch (RFC 8949 says seconds; the SDKs write and read
//     milliseconds, Instant.toEpochMilli and back, so this is the wire
//     contract whatever the RFC says), and
//   - errors as a CBOR map {"__type", "message"},
//
// and Content-Type application/x-amz-cbor-1.1 both ways.
//
// A CBOR request is decoded into the same request struct (bound to the
// model's input shape) as its JSON twin, through Blob's and EpochSeconds'
// UnmarshalCBOR, so validation, authorization and the action are shared;
// a reply is encoded as JSON and transcoded by the model's output shape
// (jsonToCBOR), unless it appends its CBOR itself (CBORAppender). So every
// action speaks CBOR without code of its own.

// CBORContentType is the media type of AWS CBOR 1.1 requests and replies.
const CBORContentType = "application/x-amz-cbor-1.1"

// wireFormat is the body encoding of a request and of its reply.
type wireFormat uint8

const (
	formatJSON wireFormat = iota
	formatCBOR
)

// contentType is the Content-Type of replies in f.
func (f wireFormat) contentType() string {
	if f == formatCBOR {
		return CBORContentType
	}
	return ContentType
}

// formatOf is the wire format of r by its Content-Type: CBOR for AWS
// CBOR 1.1, JSON for anything else (a type that is neither is refused by
// checkContentType, in JSON).
func formatOf(r *http.Request) wireFormat {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return formatJSON
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == CBORContentType {
		return formatCBOR
	}
	return formatJSON
}

// Decoding limits of CBOR requests. A CBOR header can claim far more
// elements than its body holds bytes for; the decoder checks a body's
// well-formedness before allocating, and these bound what a well-formed
// body of the largest size can make it allocate.
const (
	// cborMaxNesting bounds nested maps, arrays and tags. The deepest
	// Kinesis or Firehose request (a Firehose processor's parameters) nests
	// about 8 deep.
	cborMaxNesting = 24
	// cborMaxElements bounds a list's elements and a map's pairs: the
	// largest list the models allow is 500 (PutRecords, PutRecordBatch).
	cborMaxElements = 10000
)

// newCBORDecoder returns the decoder of CBOR request bodies. Duplicate map
// keys are refused (JSON takes the last one; CBOR is explicit about it);
// indefinite-length items are accepted because Jackson, which the Java SDKs
// encode with, writes maps that way; bignums, NaN and infinities are
// refused, as AWS JSON has no way to carry them.
func newCBORDecoder() (cbor.DecMode, error) {
	return cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  cborMaxNesting,
		MaxArrayElements: cborMaxElements,
		MaxMapPairs:      cborMaxElements,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsAllowed,
		BignumTag:        cbor.BignumTagForbidden,
		NaN:              cbor.NaNDecodeForbidden,
		Inf:              cbor.InfDecodeForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
}

// decodeCBOR unmarshals a CBOR request body into in (a pointer to a request
// struct) and translates the decoder's errors into SerializationException.
func decodeCBOR(dm cbor.DecMode, body []byte, in any) error {
	if len(body) == 0 {
		return apierr.New(apierr.Serialization,
			"the request body is empty: send a CBOR map (an empty one when the action takes no parameters)")
	}
	if major := body[0] >> 5; major != cborMajorMap {
		return apierr.New(apierr.Serialization, "the request body must be a CBOR map, got CBOR %s", cborMajorName(major))
	}
	err := dm.Unmarshal(body, in)
	if err == nil {
		return nil
	}
	if ae, ok := errors.AsType[*apierr.Error](err); ok {
		return ae
	}
	if te, ok := errors.AsType[*cbor.UnmarshalTypeError](err); ok {
		// The decoder names the outermost member on the way to the value
		// ("T.Destination" for Destination.Hints.SizeInMBs), after the Go
		// type of the request, and the innermost Go type.
		field := "the request body"
		if f := te.StructFieldName; f != "" {
			field = "'" + f[strings.LastIndexByte(f, '.')+1:] + "'"
		}
		return apierr.New(apierr.Serialization, "%s holds a CBOR %s where %s is expected", field, te.CBORType, cborTypeName(te.GoType))
	}
	return apierr.New(apierr.Serialization, "the request body is not valid CBOR: %v", err)
}

// cborTypeName says in model terms what a request field's Go type (as the
// decoder names it) carries.
func cborTypeName(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "int32", "int64", "*int32", "*int64":
		return "an integer within range"
	case "float64", "*float64":
		return "a number"
	case "bool", "*bool":
		return "a boolean"
	}
	return "a " + goType
}

// CBOR major types (RFC 8949 section 3.1).
const (
	cborMajorUint   = 0
	cborMajorNegInt = 1
	cborMajorBytes  = 2
	cborMajorText   = 3
	cborMajorArray  = 4
	cborMajorMap    = 5
	cborMajorTag    = 6
	cborMajorSimple = 7
)

func cborMajorName(major byte) string {
	switch major {
	case cborMajorUint, cborMajorNegInt:
		return "integer"
	case cborMajorBytes:
		return "byte string"
	case cborMajorText:
		return "text string"
	case cborMajorArray:
		return "array"
	case cborMajorMap:
		return "map"
	case cborMajorTag:
		return "tag"
	}
	return "simple value or float"
}

// cborNull reports whether data is CBOR null or undefined.
func cborNull(data []byte) bool {
	return len(data) == 1 && (data[0] == 0xf6 || data[0] == 0xf7)
}

// UnmarshalCBOR decodes a CBOR byte string. The decoded bytes never alias
// data.
func (d *Blob) UnmarshalCBOR(data []byte) error {
	if cborNull(data) {
		*d = nil
		return nil
	}
	if len(data) == 0 || data[0]>>5 != cborMajorBytes {
		major := byte(0)
		if len(data) > 0 {
			major = data[0] >> 5
		}
		return apierr.New(apierr.Serialization,
			"expected a byte string for a blob member, got CBOR %s", cborMajorName(major))
	}
	var b []byte
	if err := cbor.Unmarshal(data, &b); err != nil {
		return apierr.New(apierr.Serialization, "blob member is not a valid CBOR byte string: %v", err)
	}
	if b == nil {
		b = []byte{}
	}
	*d = b
	return nil
}

// cborTagEpoch is the tag of an epoch-based date/time.
const cborTagEpoch = 1

// maxEpochMillis is 9999-12-31T23:59:59.999Z in milliseconds.
const maxEpochMillis = maxEpochSeconds*1000 + 999

// UnmarshalCBOR decodes an AWS CBOR timestamp: milliseconds since the
// epoch, an integer or a float, in tag 1 (as the SDKs send it) or bare.
func (e *EpochSeconds) UnmarshalCBOR(data []byte) error {
	if cborNull(data) {
		return nil
	}
	num := data
	switch {
	case len(data) > 0 && data[0] == 0xc0|cborTagEpoch:
		num = data[1:]
	case len(data) > 1 && data[0] == 0xc0|24 && data[1] == cborTagEpoch: // tag 1 in a longer head
		num = data[2:]
	}
	var v any
	if len(num) > 0 {
		switch num[0] >> 5 {
		case cborMajorUint, cborMajorNegInt, cborMajorSimple:
			if err := cbor.Unmarshal(num, &v); err != nil {
				v = nil
			}
		}
	}
	var ms float64
	switch n := v.(type) {
	case uint64:
		if n > maxEpochMillis {
			return badCBORTime(fmt.Sprint(n))
		}
		ms = float64(n)
	case int64:
		ms = float64(n)
	case float64:
		ms = n
	default:
		return apierr.New(apierr.Serialization,
			"expected a timestamp (tag 1 enclosing milliseconds since the epoch, as the AWS SDKs send it), got %s", cborDescribe(data))
	}
	if math.IsNaN(ms) || math.Abs(ms) > maxEpochMillis {
		return badCBORTime(fmt.Sprint(v))
	}
	whole := math.Floor(ms)
	*e = EpochSeconds(time.UnixMilli(int64(whole)).Add(time.Duration(math.Round((ms - whole) * 1e6))))
	return nil
}

func badCBORTime(v string) error {
	return apierr.New(apierr.Serialization,
		"Value '%s' is not a valid timestamp: send milliseconds since the Unix epoch (in tag 1), up to 9999-12-31", trunc.String(v, 64))
}

// cborDescribe names the CBOR item that starts data.
func cborDescribe(data []byte) string {
	if len(data) == 0 {
		return "nothing"
	}
	if data[0]>>5 == cborMajorTag {
		return fmt.Sprintf("CBOR tag %d", tagNumber(data))
	}
	return "CBOR " + cborMajorName(data[0]>>5)
}

// tagNumber is the number of the tag that starts data (0 when it does not
// fit the header).
func tagNumber(data []byte) uint64 {
	info := data[0] & 0x1f
	switch {
	case info < 24:
		return uint64(info)
	case info == 24 && len(data) > 1:
		return uint64(data[1])
	}
	return 0
}

// Encoding. Replies are written by appending, without reflection: heads,
// strings and numbers in their shortest form, maps and arrays with their
// lengths (definite), as RFC 8949's preferred serialization.

// AppendCBORHead appends the head of a CBOR item of the major type with
// argument n (a length, a count or an integer's value).
func AppendCBORHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendCBORMap appends the head of a map of n pairs.
func AppendCBORMap(dst []byte, n int) []byte { return AppendCBORHead(dst, cborMajorMap, uint64(n)) }

// AppendCBORArray appends the head of an array of n elements.
func AppendCBORArray(dst []byte, n int) []byte {
	return AppendCBORHead(dst, cborMajorArray, uint64(n))
}

// AppendCBORText appends s as a text string. s must be valid UTF-8 (as
// encoding/json writes a string, invalid bytes become U+FFFD first).
func AppendCBORText(dst []byte, s string) []byte {
	dst = AppendCBORHead(dst, cborMajorText, uint64(len(s)))
	return append(dst, s...)
}

// AppendCBORBytes appends b as a byte string.
func AppendCBORBytes(dst, b []byte) []byte {
	dst = AppendCBORHead(dst, cborMajorBytes, uint64(len(b)))
	return append(dst, b...)
}

// AppendCBORInt appends n as an integer.
func AppendCBORInt(dst []byte, n int64) []byte {
	if n < 0 {
		return AppendCBORHead(dst, cborMajorNegInt, uint64(-(n + 1)))
	}
	return AppendCBORHead(dst, cborMajorUint, uint64(n))
}

// AppendCBORTime appends t as AWS CBOR writes a timestamp: tag 1 enclosing
// the integer milliseconds since the epoch.
func AppendCBORTime(dst []byte, t time.Time) []byte {
	dst = append(dst, 0xc0|cborTagEpoch)
	return AppendCBORInt(dst, t.UnixMilli())
}

func appendCBORFloat(dst []byte, f float64) []byte {
	if f32 := float32(f); float64(f32) == f {
		b := math.Float32bits(f32)
		return append(dst, 0xfa, byte(b>>24), byte(b>>16), byte(b>>8), byte(b))
	}
	b := math.Float64bits(f)
	return append(dst, 0xfb, byte(b>>56), byte(b>>48), byte(b>>40), byte(b>>32),
		byte(b>>24), byte(b>>16), byte(b>>8), byte(b))
}

func appendCBORBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xf5)
	}
	return append(dst, 0xf4)
}

func appendCBORNull(dst []byte) []byte { return append(dst, 0xf6) }

// CBORAppender is a reply that encodes itself in CBOR, for hot replies that
// would otherwise be encoded as JSON and then transcoded (a GetRecords
// reply). AppendCBOR appends exactly what the transcoding of the reply's
// JSON would give, or reports false to leave the reply to it.
type CBORAppender interface {
	AppendCBOR(dst []byte) ([]byte, bool)
}

// appendCBORError appends the CBOR body of an error reply.
func appendCBORError(dst []byte, code apierr.Code, msg string) []byte {
	dst = AppendCBORMap(dst, 2)
	dst = AppendCBORText(dst, "__type")
	dst = AppendCBORText(dst, string(code))
	dst = AppendCBORText(dst, "message")
	return AppendCBORText(dst, msg)
}

// errorBody returns the body of an error reply in format f.
func errorBody(f wireFormat, code apierr.Code, msg string) []byte {
	if f == formatCBOR {
		return appendCBORError(nil, code, msg)
	}
	var body bytes.Buffer
	if err := Encode(&body, errorReply{Type: string(code), Message: msg}); err != nil {
		// Cannot happen for two strings; keep the reply well-formed anyway.
		return []byte(`{"__type":"InternalFailure","message":"internal failure"}`)
	}
	return body.Bytes()
}
