package drivers

import (
	"errors"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// A GetRecords reply in AWS CBOR, decoded without reflection.
//
// Decoding it with fxamacker/cbor into structs cost more CPU per record
// than Spate's whole gRPC catch-up, client and server: reflection, a struct
// and three strings apiece, a body read by doubling. The gRPC target reads
// its replies into views of one reused buffer (grpcapi.GetRecordsReply);
// cborRecordsReply does the same for CBOR, so the two protocols are
// compared with clients that do the same work. Every member of every record
// is still decoded and checked (its type, the timestamp's tag); anything
// the fast path does not expect (indefinite lengths, a float timestamp,
// malformed input) is decoded again by fxamacker/cbor, which also reports
// the errors.

// cborRecordView is one record of a reply: slices of the reply's body.
type cborRecordView struct {
	SequenceNumber, PartitionKey, Data, EncryptionType []byte
	ArrivalMs                                          int64
}

// cborRecordsReply is a decoded GetRecords reply. Its body and records are
// reused by the next decode.
type cborRecordsReply struct {
	body               []byte
	Records            []cborRecordView
	NextShardIterator  *string
	MillisBehindLatest int64
}

// maxReplyPrealloc bounds the buffer a reply's Content-Length sizes ahead:
// GetRecords replies are at most 10 MiB of data, base64-free in CBOR.
const maxReplyPrealloc = 16 << 20

// read reads a reply body of size bytes (-1: unknown) from r into the
// reply's buffer and decodes it.
func (d *cborRecordsReply) read(r io.Reader, size int64) error {
	d.body = d.body[:0]
	// size is the server's word, trusted only so far: a buffer sized past
	// maxReplyPrealloc grows as the bytes arrive.
	if size > 0 && int64(cap(d.body)) <= size {
		d.body = make([]byte, 0, min(size, maxReplyPrealloc)+1) // +1: room to read the EOF
	}
	for {
		if len(d.body) == cap(d.body) {
			d.body = append(d.body, 0)[:len(d.body)]
		}
		n, err := r.Read(d.body[len(d.body):cap(d.body)])
		d.body = d.body[:len(d.body)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	return d.decode()
}

// decode decodes d.body, through the fast path or else fxamacker/cbor.
func (d *cborRecordsReply) decode() error {
	p := cborParser{b: d.body}
	if err := d.decodeFast(&p); err == nil && p.off == len(p.b) {
		return nil
	}
	var out cborGetRecordsOut
	if err := replyDecMode.Unmarshal(d.body, &out); err != nil {
		return err
	}
	d.Records = d.Records[:0]
	for _, r := range out.Records {
		d.Records = append(d.Records, cborRecordView{
			SequenceNumber: []byte(r.SequenceNumber), PartitionKey: []byte(r.PartitionKey), Data: r.Data,
			EncryptionType: []byte(r.EncryptionType), ArrivalMs: r.ApproximateArrivalTimestamp.unixMilli(),
		})
	}
	d.NextShardIterator, d.MillisBehindLatest = out.NextShardIterator, out.MillisBehindLatest
	return nil
}

// replyDecMode decodes a reply by its members' exact names, as the AWS
// SDKs and the fast path do; fxamacker/cbor's default also takes a member
// that differs in case ("ReCords" for Records). An immutable setting.
var replyDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{FieldNameMatching: cbor.FieldNameMatchingCaseSensitive}.DecMode()
	if err != nil {
		panic(err) // constant options
	}
	return dm
}()

// unixMilli is t in milliseconds since the epoch; 0 for a record without
// one, as the fast path leaves it.
func (t cborTime) unixMilli() int64 {
	if time.Time(t).IsZero() {
		return 0
	}
	return time.Time(t).UnixMilli()
}

var errCBORUnexpected = errors.New("cbor: not what the fast path decodes")

func (d *cborRecordsReply) decodeFast(p *cborParser) error {
	d.Records, d.NextShardIterator, d.MillisBehindLatest = d.Records[:0], nil, 0
	pairs, err := p.head(cborMap)
	if err != nil {
		return err
	}
	seen := map[string]bool{} // a member given twice is left to fxamacker/cbor
	for range pairs {
		key, err := p.text()
		if err != nil {
			return err
		}
		if seen[string(key)] {
			return errCBORUnexpected
		}
		seen[string(key)] = true
		switch string(key) {
		case "Records":
			n, err := p.head(cborArray)
			if err != nil {
				return err
			}
			if n > uint64(len(p.b)) { // each record takes a byte at least
				return errCBORUnexpected
			}
			for range n {
				if err := d.decodeRecord(p); err != nil {
					return err
				}
			}
		case "NextShardIterator":
			if p.null() {
				continue
			}
			s, err := p.text()
			if err != nil {
				return err
			}
			it := string(s)
			d.NextShardIterator = &it
		case "MillisBehindLatest":
			if d.MillisBehindLatest, err = p.int(); err != nil {
				return err
			}
		default: // ChildShards, members added later
			if err := p.skip(0); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *cborRecordsReply) decodeRecord(p *cborParser) error {
	pairs, err := p.head(cborMap)
	if err != nil {
		return err
	}
	var r cborRecordView
	for range pairs {
		key, err := p.text()
		if err != nil {
			return err
		}
		switch string(key) {
		case "SequenceNumber":
			r.SequenceNumber, err = p.text()
		case "PartitionKey":
			r.PartitionKey, err = p.text()
		case "Data":
			r.Data, err = p.bytes(cborBytes)
		case "EncryptionType":
			r.EncryptionType, err = p.text()
		case "ApproximateArrivalTimestamp":
			if p.off >= len(p.b) || p.b[p.off] != 0xc1 { // tag 1, epoch
				return errCBORUnexpected
			}
			p.off++
			r.ArrivalMs, err = p.int()
		default:
			err = p.skip(0)
		}
		if err != nil {
			return err
		}
	}
	d.Records = append(d.Records, r)
	return nil
}

// CBOR major types.
const (
	cborUint  = 0
	cborNeg   = 1
	cborBytes = 2
	cborText  = 3
	cborArray = 4
	cborMap   = 5
	cborTag   = 6
	cborOther = 7
)

// cborParser reads definite-length CBOR items from b.
type cborParser struct {
	b   []byte
	off int
}

// head reads the head of an item of the given major type and returns its
// argument.
func (p *cborParser) head(major byte) (uint64, error) {
	m, n, err := p.anyHead()
	if err != nil {
		return 0, err
	}
	if m != major {
		return 0, errCBORUnexpected
	}
	return n, nil
}

func (p *cborParser) anyHead() (byte, uint64, error) {
	if p.off >= len(p.b) {
		return 0, 0, errCBORUnexpected
	}
	c := p.b[p.off]
	p.off++
	major, info := c>>5, c&0x1f
	if info < 24 {
		return major, uint64(info), nil
	}
	size := 0
	switch info {
	case 24:
		size = 1
	case 25:
		size = 2
	case 26:
		size = 4
	case 27:
		size = 8
	default: // indefinite lengths, reserved
		return 0, 0, errCBORUnexpected
	}
	if len(p.b)-p.off < size {
		return 0, 0, errCBORUnexpected
	}
	var n uint64
	for _, x := range p.b[p.off : p.off+size] {
		n = n<<8 | uint64(x)
	}
	p.off += size
	return major, n, nil
}

// bytes reads a byte or text string (major) and returns its contents.
func (p *cborParser) bytes(major byte) ([]byte, error) {
	n, err := p.head(major)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(p.b)-p.off) {
		return nil, errCBORUnexpected
	}
	s := p.b[p.off : p.off+int(n) : p.off+int(n)]
	p.off += int(n)
	return s, nil
}

// text reads a text string, checked to be UTF-8 as a client that makes a
// string of it checks.
func (p *cborParser) text() ([]byte, error) {
	s, err := p.bytes(cborText)
	if err == nil && !utf8.Valid(s) {
		return nil, errCBORUnexpected
	}
	return s, err
}

// null reads a null if one comes next.
func (p *cborParser) null() bool {
	if p.off < len(p.b) && p.b[p.off] == 0xf6 {
		p.off++
		return true
	}
	return false
}

// int reads an integer that fits an int64.
func (p *cborParser) int() (int64, error) {
	m, n, err := p.anyHead()
	switch {
	case err != nil:
		return 0, err
	case n > math.MaxInt64:
		return 0, errCBORUnexpected
	case m == cborUint:
		return int64(n), nil
	case m == cborNeg:
		return -1 - int64(n), nil
	}
	return 0, errCBORUnexpected
}

// skip passes over one item of any type, at most 32 levels deep.
func (p *cborParser) skip(depth int) error {
	if depth > 32 {
		return errCBORUnexpected
	}
	m, n, err := p.anyHead()
	if err != nil {
		return err
	}
	switch m {
	case cborBytes, cborText:
		if n > uint64(len(p.b)-p.off) {
			return errCBORUnexpected
		}
		p.off += int(n)
	case cborArray, cborMap:
		if m == cborMap {
			if n > math.MaxUint64/2 {
				return errCBORUnexpected
			}
			n *= 2
		}
		if n > uint64(len(p.b)-p.off) {
			return errCBORUnexpected
		}
		for range n {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
		}
	case cborTag:
		return p.skip(depth + 1)
	}
	return nil
}
