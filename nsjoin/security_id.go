//go:build linux && !386 && !arm

package nsjoin

import "golang.org/x/sys/unix"

// The per-thread setresuid/setresgid syscalls with 32-bit ids.
const (
	sysSetresuid = unix.SYS_SETRESUID
	sysSetresgid = unix.SYS_SETRESGID
)
