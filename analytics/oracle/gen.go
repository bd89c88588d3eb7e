package oracle

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// Event is one generated input record and what the generator knows about it.
type Event struct {
	Seq       int    // position in arrival order
	Key       string // "k0" .. "k<Keys-1>"
	V         int64
	Price     float64 // meaningful when HasPrice
	HasPrice  bool    // false: the record has no price field (NULL)
	UID       int64   // a wide-range id for the distinct counts
	TsMs      int64   // event time, epoch milliseconds
	ArrivalMs int64   // arrival time; never decreases along the slice
	// Bad records are not JSON objects or have no usable event time; the
	// engine counts them in EvalResult.Bad and ignores them otherwise.
	Bad  bool
	Data []byte // the record as the engine reads it
}

// Config shapes a generated event set. The zero value of a field disables
// what it controls.
type Config struct {
	Seed uint64
	N    int // records, bad ones included
	Keys int // distinct keys (at least 1)
	// StepMs is the mean gap between arrivals; arrival gaps are uniform in
	// [0, 2*StepMs], so arrival times never decrease.
	StepMs int64
	// DisorderMs: an ordinary row's event time is its arrival minus a
	// uniform [0, DisorderMs], which shuffles event times within that bound.
	DisorderMs int64
	// GridMs rounds event times down to a multiple of it, so that rows land
	// exactly on window edges and exactly a session gap apart.
	GridMs int64
	// One row in LateEvery is stamped LateByMs to 2*LateByMs before its
	// arrival (a straggler, usually dropped as late).
	LateEvery int
	LateByMs  int64
	// One row in FutureEvery is stamped FutureByMs after its arrival (a
	// producer with a fast clock; the watermark must cap it).
	FutureEvery int
	FutureByMs  int64
	// One record in BadEvery is malformed (not an object, or its ts is
	// missing or unparseable).
	BadEvery int
	// ZipfKeys skews the key choice (k0 hottest), so per-window counts
	// differ between keys; otherwise keys are uniform.
	ZipfKeys bool
	// BurstMs makes keys alternate between active and silent periods of
	// about BurstMs each, so sessions start and end.
	BurstMs int64
}

// BaseMs is the arrival time of the first record: 2027-01-15T08:00:00Z.
const BaseMs int64 = 1_800_000_000_000

// Generate returns cfg.N records in arrival order. It is deterministic: the
// same Config gives the same records.
func Generate(cfg Config) []Event {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5ba7e))
	keys := max(cfg.Keys, 1)
	var zipf *rand.Zipf
	if cfg.ZipfKeys {
		zipf = rand.NewZipf(r, 1.1, 4, uint64(keys-1))
	}
	// Each key's burst cycle: its own period and phase.
	period := make([]int64, keys)
	phase := make([]int64, keys)
	for k := range keys {
		if cfg.BurstMs > 0 {
			period[k] = 2*cfg.BurstMs + r.Int64N(cfg.BurstMs+1)
			phase[k] = r.Int64N(period[k])
		}
	}
	active := func(k int, t int64) bool {
		return cfg.BurstMs == 0 || (t+phase[k])%period[k] < cfg.BurstMs
	}

	events := make([]Event, 0, cfg.N)
	t := BaseMs
	for len(events) < cfg.N {
		t += r.Int64N(2*cfg.StepMs + 1)
		e := Event{Seq: len(events), ArrivalMs: t}
		k := -1
		for range 8 {
			c := r.IntN(keys)
			if zipf != nil {
				c = int(zipf.Uint64())
			}
			if active(c, t) {
				k = c
				break
			}
		}
		if k < 0 {
			continue // every draw fell on a silent key: no record at t
		}
		e.Key = "k" + strconv.Itoa(k)
		e.V = r.Int64N(1000) - 100
		e.Price = float64(r.IntN(1_000_000)+1) / 100 // 0.01 .. 10000.00
		e.HasPrice = r.IntN(100) != 0
		e.UID = r.Int64N(200_000)
		e.TsMs = t
		if cfg.DisorderMs > 0 {
			e.TsMs -= r.Int64N(cfg.DisorderMs + 1)
		}
		n := len(events)
		switch {
		case cfg.LateEvery > 0 && n%cfg.LateEvery == cfg.LateEvery/2:
			e.TsMs = t - cfg.LateByMs - r.Int64N(cfg.LateByMs+1)
		case cfg.FutureEvery > 0 && n%cfg.FutureEvery == cfg.FutureEvery/3:
			e.TsMs = t + cfg.FutureByMs
		}
		if cfg.GridMs > 0 {
			e.TsMs -= e.TsMs % cfg.GridMs
		}
		e.Bad = cfg.BadEvery > 0 && n%cfg.BadEvery == cfg.BadEvery-1
		e.Data = e.encode(r)
		events = append(events, e)
	}
	return events
}

// encode writes the record as JSON. The event time alternates between
// epoch milliseconds and RFC 3339 (UTC or with an offset), as producers do.
// A bad record is one of a few malformed shapes.
func (e Event) encode(r *rand.Rand) []byte {
	b := make([]byte, 0, 128)
	if e.Bad {
		switch r.IntN(4) {
		case 0:
			return append(b, `not json {`...)
		case 1:
			return append(b, `[1, 2, 3]`...)
		case 2: // no event time
			return append(b, `{"seq":`+strconv.Itoa(e.Seq)+`,"sensor":"`+e.Key+`","v":1}`...)
		default:
			return append(b, `{"seq":`+strconv.Itoa(e.Seq)+`,"sensor":"`+e.Key+`","v":1,"ts":"yesterday"}`...)
		}
	}
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(e.Seq), 10)
	b = append(b, `,"sensor":"`...)
	b = append(b, e.Key...)
	b = append(b, `","v":`...)
	b = strconv.AppendInt(b, e.V, 10)
	if e.HasPrice {
		b = append(b, `,"price":`...)
		b = strconv.AppendFloat(b, e.Price, 'f', -1, 64)
	}
	b = append(b, `,"uid":`...)
	b = strconv.AppendInt(b, e.UID, 10)
	b = append(b, `,"ts":`...)
	switch r.IntN(3) {
	case 0:
		b = strconv.AppendInt(b, e.TsMs, 10)
	case 1:
		b = strconv.AppendQuote(b, time.UnixMilli(e.TsMs).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	default:
		zone := time.FixedZone("", (r.IntN(27)-12)*3600)
		b = strconv.AppendQuote(b, time.UnixMilli(e.TsMs).In(zone).Format(time.RFC3339Nano))
	}
	return append(b, '}')
}
