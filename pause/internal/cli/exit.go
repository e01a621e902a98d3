//go:build linux

package cli

import (
	"errors"
	"syscall"
)

// Exit codes used by init mode, as in POSIX shells.
const (
	CodeNotExecutable = 126 // CMD exists but could not be executed
	CodeNotFound      = 127 // CMD not found
	CodeSignalBase    = 128 // CMD killed by signal N -> 128+N
	CodeUsage         = 2   // bad command line
)

// StatusCode maps a wait status to a shell-style exit code: the exit code if
// the process exited, 128+N if signal N killed it, and -1 for statuses that
// are not terminations (stopped, continued).
func StatusCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return CodeSignalBase + int(ws.Signal())
	}
	return -1
}

// ExecErrorCode maps the error from starting CMD to 127 (not found) or 126
// (found but not executable, or any other exec failure).
func ExecErrorCode(err error) int {
	if errors.Is(err, ErrNotFound) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.ENOTDIR) {
		return CodeNotFound
	}
	return CodeNotExecutable
}
