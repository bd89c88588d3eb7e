//go:build unix && !linux

package runtime

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func peakMemoryMB(int) int { return 0 }
