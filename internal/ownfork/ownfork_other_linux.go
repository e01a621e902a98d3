//go:build linux && !(cgo && amd64)

package ownfork

import "syscall"

// supported: without cgo on amd64 there is no C stage.
const supported = false

func spawnC(*Request, []int, int) (int, int, string, error) { return 0, -1, "cgo", syscall.ENOSYS }
