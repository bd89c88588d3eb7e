package runtime

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
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

// sameUser reports whether the process at the other end of c, a loopback
// TCP connection to a Runtime API, runs as Spate's user: another user on
// the machine must not take a function's events or answer for it. The
// peer socket's owner is in /proc/net/tcp; when it cannot be found the
// connection is allowed (as it would be without the check).
func sameUser(c net.Conn) bool {
	local, ok1 := c.LocalAddr().(*net.TCPAddr)
	peer, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return true
	}
	uid, found := socketUID("/proc/net/tcp", peer.Port, local.Port)
	return !found || uid == os.Getuid()
}

// socketUID finds the IPv4 socket bound to localPort and connected to
// remotePort in a /proc/net/tcp table and returns its owner's uid.
func socketUID(path string, localPort, remotePort int) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || hexPort(fields[1]) != localPort || hexPort(fields[2]) != remotePort {
			continue
		}
		uid, err := strconv.Atoi(fields[7])
		return uid, err == nil
	}
	return 0, false
}

// hexPort is the port of a /proc/net/tcp address (HEXIP:HEXPORT), or -1.
func hexPort(addr string) int {
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}
