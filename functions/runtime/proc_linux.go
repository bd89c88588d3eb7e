package runtime

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr puts an instance in a process group of its own (so its
// children are killed with it) and has the kernel kill it if Spate dies
// (kill -9 of the server must not leave orphans behind).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// peakMemoryMB is the instance's peak resident memory (VmHWM), rounded up
// to MB, for the REPORT line; 0 when unknown.
func peakMemoryMB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("VmHWM:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))))
	if err != nil {
		return 0
	}
	return (kb + 1023) / 1024
}
