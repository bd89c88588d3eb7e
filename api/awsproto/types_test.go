package awsproto

import (
	"testing"
	"time"
)

func TestEpochSecondsJSON(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1700000000123), "1700000000.123"},
		{time.UnixMilli(1700000000000), "1700000000.000"},
		{time.UnixMilli(1700000000005), "1700000000.005"},
		{time.Unix(1700000000, 999999999), "1700000000.999"},
		{time.UnixMilli(-1), "-0.001"}, // was "-1.999", which reads back as -1999 ms
		{time.UnixMilli(-1500), "-1.500"},
		{time.Unix(0, 0), "0.000"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			b, err := EpochSeconds(tt.t).MarshalJSON()
			if err != nil || string(b) != tt.want {
				t.Errorf("MarshalJSON = %s, %v; want %s", b, err, tt.want)
			}
			var back EpochSeconds
			if err := back.UnmarshalJSON(b); err != nil || !time.Time(back).Equal(tt.t.Truncate(time.Millisecond)) {
				t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v", b, time.Time(back), err, tt.t)
			}
		})
	}
}
