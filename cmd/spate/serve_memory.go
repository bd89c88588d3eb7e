package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/spatehq/spate/shard"
)

// Memory settings of `spate serve` (issue 11): a soft limit for the Go
// runtime (debug.SetMemoryLimit, what GOMEMLIMIT sets) and the store's read
// budget, the bytes that GetRecords, Subscribe, Firehose and Analytics reads
// may hold at once (shard.WithReadBudget).
//
// Pebble's memtables (up to 4 of 64 MiB) and block cache (--block-cache)
// are allocated outside the Go heap, so the Go limit does not count them:
// the default leaves room for them below the machine's or container's
// memory.
const (
	// pebbleMemtables is what Pebble's memtables may take outside the Go
	// heap (shard's pebbleOptions: MemTableStopWritesThreshold ×
	// MemTableSize); the block cache comes on top.
	pebbleMemtables = 4 * 64 << 20
	// blockCacheShare is the part of the machine's (or cgroup's) memory
	// that the default block cache takes at most (shard.DefaultBlockCache
	// otherwise), and minAutoBlockCache its floor, Pebble's own default.
	blockCacheShare   = 16
	minAutoBlockCache = 8 << 20
	// defaultMemoryShare is the part of the machine's (or cgroup's) memory
	// that the default limit leaves the whole process.
	defaultMemoryShare = 0.75
	// defaultReadBudgetShare is the part of the Go memory limit the default
	// read budget takes: the rest is for writes, Firehose buffers, Analytics
	// state and the garbage collector's headroom.
	defaultReadBudgetShare = 0.25
	// maxDefaultReadBudget caps the default read budget: a hundred 10 MiB
	// replies in flight saturate any network this server is on.
	maxDefaultReadBudget = 2 << 30
	// readBudgetWait is how long a GetRecords queues for the read budget
	// before it answers ProvisionedThroughputExceededException.
	readBudgetWait = 500 * time.Millisecond
)

// memoryFlags are the flags as given.
type memoryFlags struct {
	limit      string // --memory-limit
	readBudget string // --max-read-bytes-in-flight
	blockCache string // --block-cache
}

func addMemoryFlags(f *pflag.FlagSet, m *memoryFlags) {
	f.StringVar(&m.limit, "memory-limit", "auto",
		"soft memory limit of the Go runtime (like GOMEMLIMIT, which takes precedence), a size such as 2GiB or 512MiB; "+
			"auto: 3/4 of the cgroup's or machine's memory, less what Pebble holds outside the Go heap (256 MiB of memtables and --block-cache); off: none")
	f.StringVar(&m.readBudget, "max-read-bytes-in-flight", "auto",
		"bytes that reads (GetRecords, Subscribe, Firehose, Analytics) may hold at once, records and encoded replies; "+
			"beyond it GetRecords answers ProvisionedThroughputExceededException and the others wait; "+
			"auto: 1/4 of the memory limit, at most 2GiB (256MiB without a limit); off: no bound")
	f.StringVar(&m.blockCache, "block-cache", "auto",
		"size of the cache of decompressed blocks of the store's files (Pebble's block cache, outside the Go heap), "+
			"which reads of records no longer in a memtable go through, a size such as 256MiB; "+
			"auto: 1/16 of the cgroup's or machine's memory, from 8MiB to 128MiB")
}

// memorySettings is what the flags resolve to.
type memorySettings struct {
	goLimit    int64  // math.MaxInt64: none
	limitFrom  string // "GOMEMLIMIT", "--memory-limit", "cgroup", "machine" or "off"
	readBudget int64  // 0: none
	blockCache int64
}

// applyMemoryFlags resolves m, sets the Go runtime's memory limit, logs
// the settings and returns the store's read-budget and block cache options.
func applyMemoryFlags(m memoryFlags, logger *slog.Logger) ([]shard.Option, error) {
	s, err := resolveMemory(m, os.LookupEnv, systemMemory)
	if err != nil {
		return nil, err
	}
	if s.limitFrom != "GOMEMLIMIT" {
		debug.SetMemoryLimit(s.goLimit)
	}
	logger.Info("memory limits",
		slog.String("go_memory_limit", formatSize(s.goLimit)), slog.String("from", s.limitFrom),
		slog.String("max_read_bytes_in_flight", formatSize(s.readBudget)),
		slog.String("block_cache", formatSize(s.blockCache)))
	return []shard.Option{shard.WithReadBudget(s.readBudget, readBudgetWait), shard.WithBlockCache(s.blockCache)}, nil
}

// resolveMemory works the settings out from the flags, the environment and
// the system's memory (total bytes and where that figure came from).
func resolveMemory(m memoryFlags, env func(string) (string, bool), system func() (int64, string)) (memorySettings, error) {
	var s memorySettings
	total, from := system()
	switch m.blockCache {
	case "auto", "":
		s.blockCache = shard.DefaultBlockCache
		if total > 0 {
			s.blockCache = min(max(total/blockCacheShare, minAutoBlockCache), shard.DefaultBlockCache)
		}
	default:
		n, err := parseSize(m.blockCache)
		if err != nil {
			return s, fmt.Errorf("--block-cache %q: want a size such as 256MiB, or auto", m.blockCache)
		}
		s.blockCache = n
	}
	switch v, set := env("GOMEMLIMIT"); {
	case set && v != "":
		// The runtime parsed it already; -1 reads the limit without changing it.
		s.goLimit, s.limitFrom = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	case isOff(m.limit):
		s.goLimit, s.limitFrom = math.MaxInt64, "off"
	case m.limit == "auto" || m.limit == "":
		s.goLimit, s.limitFrom = math.MaxInt64, "off"
		if total > 0 {
			s.goLimit = max(int64(float64(total)*defaultMemoryShare)-pebbleMemtables-s.blockCache, 64<<20)
			s.limitFrom = from
		}
	default:
		n, err := parseSize(m.limit)
		if err != nil {
			return s, fmt.Errorf("--memory-limit: %w", err)
		}
		s.goLimit, s.limitFrom = n, "--memory-limit"
	}
	switch {
	case isOff(m.readBudget):
	case m.readBudget == "auto" || m.readBudget == "":
		s.readBudget = 256 << 20
		if s.goLimit != math.MaxInt64 {
			s.readBudget = min(int64(float64(s.goLimit)*defaultReadBudgetShare), maxDefaultReadBudget)
		}
	default:
		n, err := parseSize(m.readBudget)
		if err != nil {
			return s, fmt.Errorf("--max-read-bytes-in-flight: %w", err)
		}
		s.readBudget = n
	}
	return s, nil
}

func isOff(v string) bool { return v == "off" || v == "0" || v == "none" }

// sizeUnits are the suffixes parseSize takes, longest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// parseSize parses a positive byte count: 1073741824, 1GiB, 512MiB, 1.5GB.
func parseSize(v string) (int64, error) {
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes such as 2GiB, 512MiB or 1073741824 (or off)", v)
	}
	return int64(f * float64(mult)), nil
}

func formatSize(n int64) string {
	switch {
	case n == 0 || n == math.MaxInt64:
		return "none"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

// systemMemory returns the memory this process may use: its cgroup's limit
// when it has one (v2 memory.max, or v1 memory.limit_in_bytes), else the
// machine's MemTotal; 0 when neither can be read. A dependency such as
// automemlimit would walk cgroup hierarchies more thoroughly; this reads the
// files a container sees (its cgroup namespace makes its own cgroup the
// root) and the process's own v2 cgroup, which covers Docker, Kubernetes
// and systemd services, without a new module.
func systemMemory() (int64, string) {
	if n := cgroupMemoryLimit("/sys/fs/cgroup", "/proc/self/cgroup"); n > 0 {
		return n, "cgroup"
	}
	if n := memTotal("/proc/meminfo"); n > 0 {
		return n, "machine"
	}
	return 0, ""
}

// cgroupMemoryLimit reads the cgroup memory limit under root, 0 if none.
func cgroupMemoryLimit(root, selfCgroup string) int64 {
	var dirs []string
	if b, err := os.ReadFile(selfCgroup); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok { // cgroup v2
				dirs = append(dirs, filepath.Join(root, p))
			}
		}
	}
	dirs = append(dirs, root)
	for _, d := range dirs {
		if n := readLimit(filepath.Join(d, "memory.max")); n > 0 {
			return n
		}
	}
	return readLimit(filepath.Join(root, "memory", "memory.limit_in_bytes")) // cgroup v1
}

// readLimit reads a cgroup limit file: a number, or "max" (none). cgroup v1
// writes "no limit" as a number near 2^63.
func readLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
