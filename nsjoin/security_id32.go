//go:build linux && (386 || arm)

package nsjoin

import "golang.org/x/sys/unix"

// The per-thread setresuid/setresgid syscalls with 32-bit ids (the plain
// numbers are the old 16-bit ones on these architectures).
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
