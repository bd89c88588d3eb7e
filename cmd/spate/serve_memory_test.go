package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveMemory(t *testing.T) {
	const gib = 1 << 30
	noEnv := func(string) (string, bool) { return "", false }
	machine := func() (int64, string) { return 16 * gib, "machine" }
	tests := []struct {
		name       string
		flags      memoryFlags
		system     func() (int64, string)
		wantLimit  int64
		wantFrom   string
		wantBudget int64
		wantCache  int64
		wantErr    bool
	}{
		// 3/4 of 16 GiB, less 256 MiB of memtables and the 128 MiB cache.
		{"auto from the machine", memoryFlags{"auto", "auto", "auto"}, machine, 12*gib - 384<<20, "machine", 2 * gib, 128 << 20, false},
		// The cache is 1/16 of 2 GiB: the default's 128 MiB.
		{"auto from a small cgroup", memoryFlags{"auto", "auto", "auto"}, func() (int64, string) { return 2 * gib, "cgroup" },
			1536<<20 - 384<<20, "cgroup", (1536<<20 - 384<<20) / 4, 128 << 20, false},
		// 1/16 of 512 MiB is 32 MiB: 384 - 256 - 32 = 96 MiB for Go.
		{"auto from a tiny cgroup", memoryFlags{"auto", "auto", "auto"}, func() (int64, string) { return 512 << 20, "cgroup" },
			96 << 20, "cgroup", 24 << 20, 32 << 20, false},
		// 1/16 of 64 MiB is below Pebble's own default of 8 MiB.
		{"cache floor", memoryFlags{"1GiB", "auto", "auto"}, func() (int64, string) { return 64 << 20, "cgroup" },
			gib, "--memory-limit", gib / 4, 8 << 20, false},
		{"explicit cache", memoryFlags{"auto", "auto", "1GiB"}, machine, 12*gib - 1280<<20, "machine", 2 * gib, gib, false},
		{"explicit limit", memoryFlags{"1GiB", "auto", "auto"}, machine, gib, "--memory-limit", gib / 4, 128 << 20, false},
		{"explicit budget", memoryFlags{"1GiB", "100MiB", "auto"}, machine, gib, "--memory-limit", 100 << 20, 128 << 20, false},
		{"limit off", memoryFlags{"off", "auto", "auto"}, machine, math.MaxInt64, "off", 256 << 20, 128 << 20, false},
		{"budget off", memoryFlags{"1GiB", "0", "auto"}, machine, gib, "--memory-limit", 0, 128 << 20, false},
		{"unknown memory", memoryFlags{"auto", "auto", "auto"}, func() (int64, string) { return 0, "" }, math.MaxInt64, "off", 256 << 20, 128 << 20, false},
		{"bad limit", memoryFlags{"lots", "auto", "auto"}, machine, 0, "", 0, 0, true},
		{"negative budget", memoryFlags{"1GiB", "-1MiB", "auto"}, machine, 0, "", 0, 0, true},
		{"bad cache", memoryFlags{"auto", "auto", "off"}, machine, 0, "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolveMemory(tt.flags, noEnv, tt.system)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if s.goLimit != tt.wantLimit || s.limitFrom != tt.wantFrom || s.readBudget != tt.wantBudget || s.blockCache != tt.wantCache {
				t.Errorf("got limit %d from %s, budget %d, block cache %d; want %d from %s, budget %d, block cache %d",
					s.goLimit, s.limitFrom, s.readBudget, s.blockCache, tt.wantLimit, tt.wantFrom, tt.wantBudget, tt.wantCache)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1073741824": 1 << 30, "2GiB": 2 << 30, "512MiB": 512 << 20, "1.5GiB": 3 << 29, "1GB": 1e9, "64M": 64 << 20, "10 KiB": 10 << 10,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "0", "1XB", "9EiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	write := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("v2 own cgroup", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "memory.max"), "max\n")
		write(t, filepath.Join(root, "system.slice/spate.service/memory.max"), "1073741824\n")
		self := filepath.Join(t.TempDir(), "cgroup")
		write(t, self, "0::/system.slice/spate.service\n")
		if got := cgroupMemoryLimit(root, self); got != 1<<30 {
			t.Errorf("got %d, want 1 GiB", got)
		}
	})
	t.Run("v2 unlimited", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "memory.max"), "max\n")
		if got := cgroupMemoryLimit(root, "/nonexistent"); got != 0 {
			t.Errorf("got %d, want 0", got)
		}
	})
	t.Run("v1", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "memory/memory.limit_in_bytes"), "536870912\n")
		if got := cgroupMemoryLimit(root, "/nonexistent"); got != 512<<20 {
			t.Errorf("got %d, want 512 MiB", got)
		}
	})
	t.Run("v1 unlimited", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "memory/memory.limit_in_bytes"), "9223372036854771712\n")
		if got := cgroupMemoryLimit(root, "/nonexistent"); got != 0 {
			t.Errorf("got %d, want 0", got)
		}
	})
	t.Run("meminfo", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "meminfo")
		write(t, p, "MemTotal:       24683784 kB\nMemFree: 1 kB\n")
		if got := memTotal(p); got != 24683784<<10 {
			t.Errorf("got %d", got)
		}
	})
}
