package s3test

import "syscall"

// dieWithParent makes the kernel SIGKILL the child when the thread that
// started it exits, so a server never outlives its test process.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
