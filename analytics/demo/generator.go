package demo

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"time"
)

// Ticker is one listed company of the demo.
type Ticker struct {
	Symbol string
	Sector string
	Price  float64 // the price the random walk starts from
}

// tickers is the demo's universe: real symbols, their sectors in the
// upper-case style of the Kinesis Analytics demo, and rough prices.
var tickers = []Ticker{
	{"AAPL", "TECHNOLOGY", 190.50}, {"MSFT", "TECHNOLOGY", 410.25}, {"GOOG", "TECHNOLOGY", 165.80},
	{"NVDA", "TECHNOLOGY", 120.40}, {"ORCL", "TECHNOLOGY", 140.10}, {"INTC", "TECHNOLOGY", 31.20},
	{"AMZN", "RETAIL", 180.75}, {"WMT", "RETAIL", 68.30}, {"COST", "RETAIL", 850.00},
	{"TGT", "RETAIL", 150.60}, {"HD", "RETAIL", 360.90},
	{"JPM", "FINANCIAL", 200.15}, {"BAC", "FINANCIAL", 39.40}, {"GS", "FINANCIAL", 470.00},
	{"V", "FINANCIAL", 275.35}, {"MA", "FINANCIAL", 455.20},
	{"JNJ", "HEALTHCARE", 155.70}, {"PFE", "HEALTHCARE", 28.90}, {"UNH", "HEALTHCARE", 520.45},
	{"MRK", "HEALTHCARE", 125.60}, {"ABBV", "HEALTHCARE", 170.30},
	{"XOM", "ENERGY", 115.25}, {"CVX", "ENERGY", 158.40}, {"COP", "ENERGY", 112.80},
	{"SLB", "ENERGY", 47.10},
	{"BA", "INDUSTRIALS", 185.00}, {"CAT", "INDUSTRIALS", 340.55}, {"GE", "INDUSTRIALS", 165.20},
	{"DIS", "MEDIA", 100.35}, {"NFLX", "MEDIA", 640.90},
}

// Tickers returns the demo's tickers with their starting prices. The slice
// is a copy.
func Tickers() []Ticker { return append([]Ticker(nil), tickers...) }

// Trade is one generated record.
type Trade struct {
	TickerSymbol string  `json:"ticker_symbol"`
	Sector       string  `json:"sector"`
	Price        float64 `json:"price"`
	Change       float64 `json:"change"` // price minus the ticker's previous price
	EventTime    string  `json:"event_time"`
}

// JSON returns the record's data: a JSON object whose keys are in the
// order of the fields above and whose event_time is RFC 3339 in UTC with
// milliseconds ("2026-11-22T03:00:00.123Z").
func (t Trade) JSON() []byte {
	b, _ := json.Marshal(t) // cannot fail: strings and finite floats
	return b
}

// eventTimeLayout is RFC 3339 with exactly three fractional digits, the
// form Spate's result rows use too.
const eventTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// volatility is the standard deviation of one step's log return: 0.2 %, so
// a ticker drifts a few percent over a few thousand trades.
const volatility = 0.002

// Generator produces trades. It is not safe for concurrent use.
type Generator struct {
	rng    *rand.Rand
	prices []float64 // current price of tickers[i]
}

// NewGenerator returns a generator whose trades depend only on seed.
func NewGenerator(seed uint64) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), prices: make([]float64, len(tickers))}
	for i, t := range tickers {
		g.prices[i] = t.Price
	}
	return g
}

// Next returns the next trade: a ticker picked uniformly at random whose
// price takes one random-walk step (rounded to cents, never below 1.00),
// stamped with now.
func (g *Generator) Next(now time.Time) Trade {
	i := g.rng.IntN(len(tickers))
	old := g.prices[i]
	p := roundCents(old * math.Exp(volatility*g.rng.NormFloat64()))
	if p < 1 {
		p = 1
	}
	g.prices[i] = p
	return Trade{
		TickerSymbol: tickers[i].Symbol,
		Sector:       tickers[i].Sector,
		Price:        p,
		Change:       roundCents(p - old),
		EventTime:    now.UTC().Format(eventTimeLayout),
	}
}

// Record is a trade ready to put into a stream.
type Record struct {
	PartitionKey string // the ticker symbol: one ticker's trades stay in order in one shard
	Data         []byte
}

// NextRecord is Next as a Record.
func (g *Generator) NextRecord(now time.Time) Record {
	t := g.Next(now)
	return Record{PartitionKey: t.TickerSymbol, Data: t.JSON()}
}

// roundCents rounds to two decimals: the float nearest to a whole number
// of cents, which encoding/json prints with at most two decimals.
func roundCents(f float64) float64 { return math.Round(f*100) / 100 }
