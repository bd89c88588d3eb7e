package integration

import "syscall"

// sysProcAttr makes the kernel kill the server when the test binary dies
// (a test timeout panics without running cleanups), so no server outlives
// its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
