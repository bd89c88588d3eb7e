package essink

import (
	"fmt"
	"time"
)

// Rotation is a Firehose IndexRotationPeriod: how often the index a delivery
// stream writes to changes. The zero value is NoRotation; note that Firehose's
// default for an absent IndexRotationPeriod is OneDay (see [ParseRotation]).
type Rotation int

// The rotation periods of the Firehose API (ElasticsearchIndexRotationPeriod
// and AmazonopensearchserviceIndexRotationPeriod).
const (
	NoRotation Rotation = iota
	OneHour
	OneDay
	OneWeek
	OneMonth
)

var rotationNames = [...]string{
	NoRotation: "NoRotation",
	OneHour:    "OneHour",
	OneDay:     "OneDay",
	OneWeek:    "OneWeek",
	OneMonth:   "OneMonth",
}

// DefaultRotation is the rotation Firehose applies when a destination
// configuration leaves IndexRotationPeriod out.
const DefaultRotation = OneDay

// String returns the Firehose API name of r ("OneDay", ...).
func (r Rotation) String() string {
	if r < 0 || int(r) >= len(rotationNames) {
		return fmt.Sprintf("Rotation(%d)", int(r))
	}
	return rotationNames[r]
}

// ParseRotation parses a Firehose IndexRotationPeriod value. The names are
// case-sensitive, as in the API. The empty string yields [DefaultRotation]
// (OneDay), Firehose's default.
func ParseRotation(s string) (Rotation, error) {
	if s == "" {
		return DefaultRotation, nil
	}
	for r, name := range rotationNames {
		if s == name {
			return Rotation(r), nil
		}
	}
	return 0, fmt.Errorf("invalid IndexRotationPeriod %q: must be one of NoRotation, OneHour, OneDay, OneWeek, OneMonth", s)
}

// MarshalText implements encoding.TextMarshaler with the API name.
func (r Rotation) MarshalText() ([]byte, error) {
	if r < 0 || int(r) >= len(rotationNames) {
		return nil, fmt.Errorf("marshal rotation: unknown value %d", int(r))
	}
	return []byte(rotationNames[r]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; see [ParseRotation].
func (r *Rotation) UnmarshalText(b []byte) error {
	v, err := ParseRotation(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// IndexName returns the index a document arriving at t goes to: base with the
// part of t's UTC time that rotation names appended, exactly as Firehose does
// (https://docs.aws.amazon.com/firehose/latest/dev/es-index-rotation.html):
//
//	NoRotation  base
//	OneHour     base-YYYY-MM-DD-HH    myindex-2016-02-25-13
//	OneDay      base-YYYY-MM-DD       myindex-2016-02-25
//	OneWeek     base-YYYY-wWW         myindex-2016-w09
//	OneMonth    base-YYYY-MM          myindex-2016-02
//
// OneWeek follows the note on that page rather than its example table: weeks
// are numbered "according to US conventions": a week starts on Sunday, and
// week 1 is the first week that contains a Saturday of the year (that is,
// the Sunday-to-Saturday week holding January 1). YYYY is the year that week
// numbering belongs to, the year of the week's Saturday, so 2014-12-29 is in
// 2015-w01 and 2016-12-31 is in 2016-w53. (The page's table shows w08 for
// 2016-02-25, the ISO 8601 week; under the conventions the note spells out
// it is w09.)
//
// An unknown rotation is treated as NoRotation; use [ParseRotation] to reject
// bad configuration.
func IndexName(base string, rotation Rotation, t time.Time) string {
	t = t.UTC()
	switch rotation {
	case OneHour:
		return base + t.Format("-2006-01-02-15")
	case OneDay:
		return base + t.Format("-2006-01-02")
	case OneWeek:
		year, week := usWeek(t)
		return fmt.Sprintf("%s-%04d-w%02d", base, year, week)
	case OneMonth:
		return base + t.Format("-2006-01")
	default:
		return base
	}
}

// usWeek returns the week-numbering year and week of t (already UTC) under
// US conventions: weeks run Sunday to Saturday, and a week belongs to the year
// its Saturday falls in, so week 1 is the week that holds January 1.
func usWeek(t time.Time) (year, week int) {
	sat := t.AddDate(0, 0, int(time.Saturday-t.Weekday()))
	return sat.Year(), (sat.YearDay()-1)/7 + 1
}
