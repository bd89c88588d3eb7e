//go:build !linux

package s3test

import "syscall"

// dieWithParent has no portable equivalent outside Linux: without Main the
// server outlives the test process there.
func dieWithParent() *syscall.SysProcAttr { return nil }
