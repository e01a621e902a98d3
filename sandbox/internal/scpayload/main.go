//go:build linux

// Command scpayload is the seccomp tests' payload: it prints the Seccomp
// line of /proc/self/status and the errno of keyctl (which the default
// profile refuses and root may otherwise call) and of getcwd (which the
// tests' Localhost profile refuses), "0" when the call ran.
package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			fmt.Println("seccomp", strings.TrimSpace(v))
		}
	}
	_, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0, 0)
	e, _ := err.(unix.Errno)
	if e != unix.EPERM {
		e = 0 // it ran (ENOKEY: no such keyring)
	}
	fmt.Println("keyctl", int(e))
	_, _, e = unix.Syscall(unix.SYS_GETCWD, 0, 0, 0)
	if e == unix.ERANGE || e == unix.EFAULT {
		e = 0 // it ran, and failed on its arguments
	}
	fmt.Println("getcwd", int(e))
}
