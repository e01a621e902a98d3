//go:build linux && !(cgo && amd64)

package pause

import "syscall"

// spawnOwnFilesSupported: without cgo on amd64 there is no C stage, and
// every pause is forked by syscall.ForkExec.
const spawnOwnFilesSupported = false

func spawnOwnFilesC(string, []string, []string, []uintptr, int, syscall.Signal) (int, int, string, error) {
	return 0, -1, "cgo", syscall.ENOSYS
}
