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
		wantErr    bool
	}{
		{"auto from the machine", memoryFlags{"auto", "auto"}, machine, 12*gib - pebbleOffHeap, "machine", 2 * gib, false},
		{"auto from a small cgroup", memoryFlags{"auto", "auto"}, func() (int64, string) { return 2 * gib, "cgroup" },
			1536<<20 - pebbleOffHeap, "cgroup", (1536<<20 - pebbleOffHeap) / 4, false},
		{"explicit limit", memoryFlags{"1GiB", "auto"}, machine, gib, "--memory-limit", gib / 4, false},
		{"explicit budget", memoryFlags{"1GiB", "100MiB"}, machine, gib, "--memory-limit", 100 << 20, false},
		{"limit off", memoryFlags{"off", "auto"}, machine, math.MaxInt64, "off", 256 << 20, false},
		{"budget off", memoryFlags{"1GiB", "0"}, machine, gib, "--memory-limit", 0, false},
		{"unknown memory", memoryFlags{"auto", "auto"}, func() (int64, string) { return 0, "" }, math.MaxInt64, "off", 256 << 20, false},
		{"bad limit", memoryFlags{"lots", "auto"}, machine, 0, "", 0, true},
		{"negative budget", memoryFlags{"1GiB", "-1MiB"}, machine, 0, "", 0, true},
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
			if s.goLimit != tt.wantLimit || s.limitFrom != tt.wantFrom || s.readBudget != tt.wantBudget {
				t.Errorf("got limit %d from %s, budget %d; want %d from %s, budget %d",
					s.goLimit, s.limitFrom, s.readBudget, tt.wantLimit, tt.wantFrom, tt.wantBudget)
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
