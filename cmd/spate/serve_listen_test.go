package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFitConnLimit(t *testing.T) {
	tests := []struct {
		name      string
		want, n   int
		nofile    uint64
		fit       int
		wantError bool
	}{
		{name: "fits", want: 10000, n: 2, nofile: 1 << 20, fit: 10000},
		{name: "lowered", want: 10000, n: 2, nofile: 20000, fit: (20000 - fdReserve) / 2},
		{name: "three listeners", want: 10000, n: 3, nofile: 20000, fit: (20000 - fdReserve) / 3},
		{name: "small limit", want: 10000, n: 2, nofile: 4096, fit: (4096 - fdReserve) / 2},
		{name: "limit under the reserve", want: 10, n: 2, nofile: 1024, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fitConnLimit(tt.want, tt.n, tt.nofile)
			if (err != nil) != tt.wantError {
				t.Fatalf("fitConnLimit(%d, %d, %d) error %v, want error %v", tt.want, tt.n, tt.nofile, err, tt.wantError)
			}
			if err == nil && got != tt.fit {
				t.Errorf("fitConnLimit(%d, %d, %d) = %d, want %d", tt.want, tt.n, tt.nofile, got, tt.fit)
			}
		})
	}
}

func TestListenConfigCheck(t *testing.T) {
	valid := listenConfig{
		readHeaderTimeout: time.Second, readTimeout: time.Second, writeTimeout: time.Second,
		idleTimeout: time.Second, maxConns: 10,
	}
	tests := []struct {
		name    string
		edit    func(*listenConfig)
		wantErr string
	}{
		{name: "valid", edit: func(*listenConfig) {}},
		{name: "zero idle", edit: func(c *listenConfig) { c.idleTimeout = 0 }, wantErr: "--idle-timeout"},
		{name: "negative read", edit: func(c *listenConfig) { c.readTimeout = -time.Second }, wantErr: "--read-timeout"},
		{name: "zero connections", edit: func(c *listenConfig) { c.maxConns = 0 }, wantErr: "--max-connections"},
		{name: "explicit cap over the limit", edit: func(c *listenConfig) { c.maxConns, c.maxConnsSet = 1<<40, true }, wantErr: "ulimit -n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.edit(&c)
			err := c.check(2, slog.New(slog.DiscardHandler))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("check error %v, want one about %s", err, tt.wantErr)
			}
		})
	}

	// A default cap over the limit is lowered, not refused.
	c := valid
	c.maxConns = 1 << 40
	if err := c.check(2, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("check with a default cap over the limit: %v", err)
	}
	if c.maxConns >= 1<<40 {
		t.Errorf("default cap %d not lowered to the open-file limit", c.maxConns)
	}
}
