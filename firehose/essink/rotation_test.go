package essink_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/essink"
)

func TestIndexName(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		rotation essink.Rotation
		t        string
		want     string
	}{
		// The example of https://docs.aws.amazon.com/firehose/latest/dev/es-index-rotation.html
		{"aws example none", essink.NoRotation, "2016-02-25T13:00:00Z", "myindex"},
		{"aws example hour", essink.OneHour, "2016-02-25T13:00:00Z", "myindex-2016-02-25-13"},
		{"aws example day", essink.OneDay, "2016-02-25T13:00:00Z", "myindex-2016-02-25"},
		// The page's table says w08 (the ISO week); its note's US conventions
		// (weeks from Sunday, week 1 holds January 1) give w09. See IndexName.
		{"aws example week", essink.OneWeek, "2016-02-25T13:00:00Z", "myindex-2016-w09"},
		{"aws example month", essink.OneMonth, "2016-02-25T13:00:00Z", "myindex-2016-02"},
		{"aws note week example", essink.OneWeek, "2020-08-12T00:00:00Z", "myindex-2020-w33"},

		// Hour and day boundaries, and UTC conversion.
		{"hour last instant", essink.OneHour, "2016-12-31T23:59:59.999999999Z", "myindex-2016-12-31-23"},
		{"hour new year", essink.OneHour, "2017-01-01T00:00:00Z", "myindex-2017-01-01-00"},
		{"hour from other zone", essink.OneHour, "2017-01-01T08:30:00+09:00", "myindex-2016-12-31-23"},
		{"hour from negative zone", essink.OneHour, "2016-12-31T20:00:00-05:00", "myindex-2017-01-01-01"},
		{"day leap day", essink.OneDay, "2016-02-29T12:00:00Z", "myindex-2016-02-29"},
		{"day year end", essink.OneDay, "2016-12-31T23:59:59Z", "myindex-2016-12-31"},
		{"day new year", essink.OneDay, "2017-01-01T00:00:00Z", "myindex-2017-01-01"},
		{"day from other zone", essink.OneDay, "2017-01-01T01:00:00+02:00", "myindex-2016-12-31"},
		{"month year end", essink.OneMonth, "2016-12-31T23:59:59Z", "myindex-2016-12"},
		{"month new year", essink.OneMonth, "2017-01-01T00:00:00Z", "myindex-2017-01"},
		{"month from other zone", essink.OneMonth, "2017-03-01T00:30:00+01:00", "myindex-2017-02"},

		// Weeks: Sunday to Saturday; week 1 is the week holding January 1 and
		// belongs to that year even where it starts in December.
		{"week jan 1 is sunday", essink.OneWeek, "2017-01-01T00:00:00Z", "myindex-2017-w01"},
		{"week saturday before", essink.OneWeek, "2016-12-31T23:59:59Z", "myindex-2016-w53"},
		{"week jan 7 saturday", essink.OneWeek, "2017-01-07T23:59:59Z", "myindex-2017-w01"},
		{"week jan 8 sunday", essink.OneWeek, "2017-01-08T00:00:00Z", "myindex-2017-w02"},
		{"week december in week 1", essink.OneWeek, "2014-12-28T00:00:00Z", "myindex-2015-w01"},
		{"week december 31 in week 1", essink.OneWeek, "2014-12-31T12:00:00Z", "myindex-2015-w01"},
		{"week saturday before week 1", essink.OneWeek, "2014-12-27T23:59:59Z", "myindex-2014-w52"},
		{"week jan 1 is saturday", essink.OneWeek, "2022-01-01T00:00:00Z", "myindex-2022-w01"},
		{"week sunday after", essink.OneWeek, "2022-01-02T00:00:00Z", "myindex-2022-w02"},
		{"week 53 in 2022", essink.OneWeek, "2022-12-31T00:00:00Z", "myindex-2022-w53"},
		{"week from other zone", essink.OneWeek, "2017-01-01T05:00:00+06:00", "myindex-2016-w53"},
		{"week mid year", essink.OneWeek, "2024-07-04T00:00:00Z", "myindex-2024-w27"},

		{"unknown rotation", essink.Rotation(42), "2016-02-25T13:00:00Z", "myindex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := essink.IndexName("myindex", tt.rotation, at(tt.t)); got != tt.want {
				t.Errorf("IndexName(myindex, %v, %s) = %q, want %q", tt.rotation, tt.t, got, tt.want)
			}
		})
	}
}

// TestIndexNameWeeksAreContiguous walks every day of several years and checks
// the week suffix only ever stays, goes up by one, or restarts at w01 on a
// Sunday, and that it changes exactly on Sundays.
func TestIndexNameWeeksAreContiguous(t *testing.T) {
	day := time.Date(2010, 1, 1, 12, 0, 0, 0, time.UTC)
	prev := essink.IndexName("x", essink.OneWeek, day)
	for range 366 * 20 {
		day = day.AddDate(0, 0, 1)
		got := essink.IndexName("x", essink.OneWeek, day)
		changed := got != prev
		if changed != (day.Weekday() == time.Sunday) {
			t.Fatalf("%s (%s): suffix went from %q to %q", day.Format(time.DateOnly), day.Weekday(), prev, got)
		}
		if changed && got[len(got)-3:] != "w01" {
			var py, pw, gy, gw int
			mustScan(t, prev, &py, &pw)
			mustScan(t, got, &gy, &gw)
			if gy != py || gw != pw+1 {
				t.Fatalf("%s: suffix went from %q to %q", day.Format(time.DateOnly), prev, got)
			}
		}
		prev = got
	}
}

// mustScan parses the suffix of a OneWeek index name "x-YYYY-wWW".
func mustScan(t *testing.T, name string, year, week *int) {
	t.Helper()
	if _, err := fmt.Sscanf(strings.TrimPrefix(name, "x-"), "%04d-w%02d", year, week); err != nil {
		t.Fatalf("parse %q: %v", name, err)
	}
}

func TestParseRotation(t *testing.T) {
	tests := []struct {
		in      string
		want    essink.Rotation
		wantErr bool
	}{
		{"NoRotation", essink.NoRotation, false},
		{"OneHour", essink.OneHour, false},
		{"OneDay", essink.OneDay, false},
		{"OneWeek", essink.OneWeek, false},
		{"OneMonth", essink.OneMonth, false},
		{"", essink.OneDay, false}, // Firehose's default
		{"oneday", 0, true},
		{"OneYear", 0, true},
		{" OneDay", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := essink.ParseRotation(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRotation(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseRotation(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if err == nil && tt.in != "" && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestRotationText(t *testing.T) {
	for _, r := range []essink.Rotation{essink.NoRotation, essink.OneHour, essink.OneDay, essink.OneWeek, essink.OneMonth} {
		t.Run(r.String(), func(t *testing.T) {
			b, err := r.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var back essink.Rotation
			if err := back.UnmarshalText(b); err != nil {
				t.Fatal(err)
			}
			if back != r {
				t.Errorf("round trip of %v gave %v", r, back)
			}
		})
	}
	if _, err := essink.Rotation(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown rotation succeeded")
	}
}
