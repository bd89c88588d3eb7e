package drivers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/shard"
)

// pebbleRaw writes Spate's record keys and values straight into Pebble, in
// one batch per put, synced when the workload is durable: what the store
// would cost with no routing, validation, sequence numbers, high-water
// keys, time index, group commit or protocol. It is the ceiling self-grpc is
// compared with.
//
// The layout repeats package shard's (see its doc.go), which keeps it
// unexported:
//
//	key   'r' | stream ID u32 | shard u32 | counter u64   (big-endian)
//	value arrival ms u64 | uvarint len(pk) | pk | data
type pebbleRaw struct {
	tmpDir string
	w      bench.Workload
	dir    string
	db     *pebble.DB
	ctr    atomic.Uint64
}

var _ bench.Driver = (*pebbleRaw)(nil)

const (
	rawStreamID  = 1
	rawKeyLen    = 1 + 4 + 4 + 8
	rawKeyPrefix = 'r'
)

func (d *pebbleRaw) Name() string     { return "pebble-raw" }
func (d *pebbleRaw) Available() error { return nil }

func (d *pebbleRaw) Setup(ctx context.Context, w bench.Workload) error {
	d.w = w
	dir, err := os.MkdirTemp(d.tmpDir, "spate-bench-pebble-*")
	if err != nil {
		return err
	}
	d.dir = dir
	// The same memtable, L0, block and block cache settings as the
	// store's (shard/pebble.go).
	opts := &pebble.Options{
		MemTableSize:                64 << 20,
		CacheSize:                   shard.DefaultBlockCache,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		Logger:                      quietLogger{},
	}
	for i := range opts.Levels {
		opts.Levels[i].BlockSize = 32 << 10
	}
	d.db, err = pebble.Open(dir, opts)
	if err != nil {
		return fmt.Errorf("open pebble: %w", err)
	}
	return nil
}

// Settle flushes the memtable to disk (bench.Settler), as the self targets
// do.
func (d *pebbleRaw) Settle(context.Context) error { return d.db.Flush() }

func (d *pebbleRaw) Close() error {
	var err error
	if d.db != nil {
		err = d.db.Close()
	}
	if d.dir != "" {
		err = errors.Join(err, os.RemoveAll(d.dir))
	}
	d.db, d.dir = nil, ""
	d.ctr.Store(0)
	return err
}

func (d *pebbleRaw) Producer(ctx context.Context) (bench.Producer, error) { return rawProducer{d}, nil }

type rawProducer struct{ d *pebbleRaw }

func (p rawProducer) Put(ctx context.Context, records [][]byte) error {
	d := p.d
	b := d.db.NewBatch()
	defer b.Close()
	base := d.ctr.Add(uint64(len(records))) - uint64(len(records))
	now := time.Now().UnixMilli()
	shards := uint64(max(d.w.Shards, 1))
	for i, data := range records {
		ctr := base + uint64(i)
		pk := partitionKey(ctr)
		var lenBuf [binary.MaxVarintLen64]byte
		pkLen := binary.PutUvarint(lenBuf[:], uint64(len(pk)))
		op := b.SetDeferred(rawKeyLen, 8+pkLen+len(pk)+len(data))
		op.Key[0] = rawKeyPrefix
		binary.BigEndian.PutUint32(op.Key[1:], rawStreamID)
		binary.BigEndian.PutUint32(op.Key[5:], uint32(ctr%shards))
		binary.BigEndian.PutUint64(op.Key[9:], ctr)
		binary.BigEndian.PutUint64(op.Value, uint64(now))
		n := 8 + copy(op.Value[8:], lenBuf[:pkLen])
		n += copy(op.Value[n:], pk)
		copy(op.Value[n:], data)
		if err := op.Finish(); err != nil {
			return err
		}
	}
	opts := pebble.Sync
	if !d.w.Durable {
		opts = pebble.NoSync
	}
	return b.Commit(opts)
}

func (rawProducer) Close() error { return nil }

// Tail is unsupported: Pebble has no way to wait for new keys.
func (d *pebbleRaw) Tail(context.Context, func([]byte)) (func() error, error) {
	return nil, bench.ErrUnsupported
}

// CatchUp scans every record key and decodes each value, as a read of the
// store does. A committed batch is readable at once, so it reads to the
// end whatever want is.
func (d *pebbleRaw) CatchUp(ctx context.Context, _ int) (int, error) {
	lower := []byte{rawKeyPrefix, 0, 0, 0, rawStreamID}
	upper := []byte{rawKeyPrefix, 0, 0, 0, rawStreamID + 1}
	it, err := d.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, err
	}
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		v := it.Value()
		if len(v) < 9 {
			return n, errors.Join(fmt.Errorf("record value too short"), it.Close())
		}
		l, k := binary.Uvarint(v[8:])
		if k <= 0 || uint64(len(v)-8-k) < l {
			return n, errors.Join(fmt.Errorf("corrupt record value"), it.Close())
		}
		n++
	}
	return n, it.Close()
}

// quietLogger drops Pebble's routine messages, which would interleave with
// the bench's table; Fatalf still stops the run.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
