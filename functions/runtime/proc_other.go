//go:build !unix

package runtime

import (
	"net"
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func peakMemoryMB(int) int { return 0 }

// killGroup kills the runtime alone: there are no process groups here.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func sameUser(net.Conn) bool { return true }
