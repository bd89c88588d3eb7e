package nexmark

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"
)

// The shape of the Nexmark generator (its default configuration).
const (
	personProportion  = 1
	auctionProportion = 3
	bidProportion     = 46
	proportions       = personProportion + auctionProportion + bidProportion

	firstAuctionID = 1000
	firstPersonID  = 1000

	hotAuctionRatio = 2   // 1 - 1/2 of bids go to a hot auction
	hotBidderRatio  = 4   // 1 - 1/4 of bids come from a hot bidder
	hotChannelRatio = 2   // 1 - 1/2 of bids use a hot channel
	hotGroup        = 100 // the hot auction (bidder) is the first of the last 100
	inFlight        = 100 // auctions open at a time
	auctionLead     = 10  // bids may name auctions this far ahead
	activePeople    = 1000
	personLead      = 10
	channels        = 10_000
)

var hotChannels = [...]string{"Google", "Facebook", "Baidu", "Apple"}

// Config shapes a bid stream. Zero fields take the defaults in New.
type Config struct {
	Seed uint64
	// BidsPerSecond is the event-time rate: bid n is stamped
	// BaseMs + n*1000/BidsPerSecond. Default 10 000.
	BidsPerSecond int64
	// BaseMs is the first bid's time. Default 2026-11-22T03:00:00Z.
	BaseMs int64
	// AvgBidBytes is the average payload size Nexmark pads bids to with
	// their extra field (counting ids and the timestamp as 8 bytes each and
	// strings by length). Default 100, Nexmark's.
	AvgBidBytes int
}

// Bid is one Nexmark bid.
type Bid struct {
	Auction  int64
	Bidder   int64
	Price    int64 // cents
	Channel  string
	URL      string
	DateTime int64 // epoch milliseconds
	Extra    string
}

// AppendJSON appends the bid as a JSON object with Nexmark's field names;
// date_time is RFC 3339 in UTC with milliseconds, as Spate writes times.
func (b Bid) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"auction":`...)
	dst = strconv.AppendInt(dst, b.Auction, 10)
	dst = append(dst, `,"bidder":`...)
	dst = strconv.AppendInt(dst, b.Bidder, 10)
	dst = append(dst, `,"price":`...)
	dst = strconv.AppendInt(dst, b.Price, 10)
	dst = append(dst, `,"channel":`...)
	dst = strconv.AppendQuote(dst, b.Channel)
	dst = append(dst, `,"url":`...)
	dst = strconv.AppendQuote(dst, b.URL)
	dst = append(dst, `,"date_time":"`...)
	dst = time.UnixMilli(b.DateTime).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","extra":`...)
	dst = strconv.AppendQuote(dst, b.Extra)
	return append(dst, '}')
}

// Generator produces bids in event-time order. It is not safe for
// concurrent use.
type Generator struct {
	cfg     Config
	r       *rand.Rand
	n       int64 // bids generated so far
	hotURLs [len(hotChannels)]string
	urls    map[int]string // channel number -> its URL, as Nexmark caches them
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.BidsPerSecond <= 0 {
		cfg.BidsPerSecond = 10_000
	}
	if cfg.BaseMs == 0 {
		cfg.BaseMs = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC).UnixMilli()
	}
	if cfg.AvgBidBytes <= 0 {
		cfg.AvgBidBytes = 100
	}
	g := &Generator{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x6e65786d61726b)), urls: map[int]string{}}
	for i := range g.hotURLs {
		g.hotURLs[i] = g.baseURL()
	}
	return g
}

// Next returns the next bid.
func (g *Generator) Next() Bid {
	n := g.n
	g.n++
	// Where bid n sits in the full stream: each epoch of 50 events is one
	// person, then three auctions, then 46 bids.
	epoch, offset := n/bidProportion, n%bidProportion
	eventID := epoch*proportions + personProportion + auctionProportion + offset
	lastPerson := eventID / proportions                                          // people generated so far - 1
	lastAuction := eventID/proportions*auctionProportion + auctionProportion - 1 // auctions so far - 1

	b := Bid{DateTime: g.cfg.BaseMs + n*1000/g.cfg.BidsPerSecond}
	if g.r.IntN(hotAuctionRatio) > 0 {
		b.Auction = lastAuction / hotGroup * hotGroup
	} else {
		lo := max(lastAuction-inFlight, 0)
		b.Auction = lo + g.r.Int64N(lastAuction+auctionLead-lo+1)
	}
	b.Auction += firstAuctionID
	if g.r.IntN(hotBidderRatio) > 0 {
		// The second of the group, so hot bidders are not hot sellers.
		b.Bidder = lastPerson/hotGroup*hotGroup + 1
	} else {
		people := lastPerson + 1
		active := min(people, activePeople)
		b.Bidder = people - active + g.r.Int64N(active+personLead)
	}
	b.Bidder += firstPersonID
	b.Price = int64(math.Round(math.Pow(10, g.r.Float64()*6) * 100))
	if g.r.IntN(hotChannelRatio) > 0 {
		i := g.r.IntN(len(hotChannels))
		b.Channel, b.URL = hotChannels[i], g.hotURLs[i]
	} else {
		c := g.r.IntN(channels)
		b.Channel = "channel-" + strconv.Itoa(c)
		url, ok := g.urls[c]
		if !ok {
			url = g.baseURL() + "&channel_id=" + strconv.FormatUint(uint64(bits.Reverse32(uint32(c))), 10)
			g.urls[c] = url
		}
		b.URL = url
	}
	// Pad towards the average size, as Nexmark's nextExtra does.
	size := 8*4 + len(b.Channel) + len(b.URL)
	if delta := g.cfg.AvgBidBytes - size; delta > 0 {
		b.Extra = g.letters(delta/2 + g.r.IntN(delta+1))
	}
	return b
}

// Records returns the next n bids as JSON records with their arrival
// times (equal to their event times: the stream is in order).
func (g *Generator) Records(n int) (data [][]byte, arrivalMs []int64) {
	data = make([][]byte, n)
	arrivalMs = make([]int64, n)
	buf := make([]byte, 0, 64<<10)
	for i := range n {
		b := g.Next()
		if cap(buf)-len(buf) < 512 {
			buf = make([]byte, 0, 64<<10)
		}
		start := len(buf)
		buf = b.AppendJSON(buf)
		data[i] = buf[start:len(buf):len(buf)]
		arrivalMs[i] = b.DateTime
	}
	return data, arrivalMs
}

func (g *Generator) baseURL() string {
	return "https://www.nexmark.com/" + g.letters(5) + "/" + g.letters(5) + "/" + g.letters(5) + "/item.htm?query=1"
}

func (g *Generator) letters(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.r.IntN(26))
	}
	return string(b)
}
