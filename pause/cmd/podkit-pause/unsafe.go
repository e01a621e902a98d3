//go:build linux

package main

import (
	"syscall"
	"unsafe"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER, missing from package syscall

func uintptrOf(p *int32) uintptr { return uintptr(unsafe.Pointer(p)) }

// waitWritable blocks in ppoll(2) until fd is writable (or in error).
func waitWritable(fd int) {
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: 0x4} // POLLOUT
	syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, 0, 0, 0, 0)
}
