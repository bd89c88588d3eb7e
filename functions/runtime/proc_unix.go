//go:build unix

package runtime

import "syscall"

// killGroup kills the process group an instance leads: the runtime and
// every child that stayed in its group.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
