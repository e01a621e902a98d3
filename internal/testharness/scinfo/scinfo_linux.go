//go:build linux

// Package scinfo is the seccomp report shared by the tests' seccomp
// payloads (sandbox/internal/scpayload, run in containers, and nsjoin's
// "seccompinfo" helper), so that both print the same lines the same way.
package scinfo

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Print prints the Seccomp line of /proc/self/status ("seccomp <mode>")
// and the errno of keyctl ("keyctl <errno>"; the default profile refuses
// it and root may otherwise call it without any capability) and of getcwd
// ("getcwd <errno>"; the tests' Localhost profiles refuse it), 0 when the
// call ran, even if it failed on its arguments.
func Print() {
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
