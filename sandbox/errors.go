//go:build linux

package sandbox

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps one of these
// (or an underlying system error) inside an *Error, so callers can use
// errors.Is and errors.As.
var (
	// ErrInvalidConfig: a Config or ContainerSpec failed validation. Nothing
	// was created.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrInvalidID: an ID or name that becomes a path component is empty,
	// too long, or contains '/', NUL, or is "." / "..".
	ErrInvalidID = errors.New("invalid id")
	// ErrExist: a sandbox or container with that ID already exists.
	ErrExist = errors.New("already exists")
	// ErrNotFound: no such sandbox or container.
	ErrNotFound = errors.New("not found")
	// ErrInvalidState: the operation is not allowed in the current lifecycle
	// state (for example starting a container twice).
	ErrInvalidState = errors.New("invalid state for operation")
	// ErrRootfs: the container root filesystem is missing or not a directory.
	ErrRootfs = errors.New("bad root filesystem")
	// ErrCommandNotFound: the container command does not exist in its rootfs.
	ErrCommandNotFound = errors.New("command not found")
	// ErrPauseDied: the sandbox's pause process is gone.
	ErrPauseDied = errors.New("pause process died")
	// ErrTimeout: a step that waits on another process (the pause
	// signalling readiness) did not finish within its deadline; everything
	// built so far was rolled back.
	ErrTimeout = errors.New("timed out")
)

// Error describes a failed operation on a sandbox or one of its containers.
type Error struct {
	Op        string // operation, e.g. "create", "start", "exec"
	ID        string // sandbox ID
	Container string // container name, if any
	Path      string // file or cgroup path involved, if any
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sandbox ")
	b.WriteString(e.Op)
	if e.ID != "" {
		b.WriteString(" " + e.ID)
	}
	if e.Container != "" {
		b.WriteString("/" + e.Container)
	}
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(op, id, ctr, path string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, ID: id, Container: ctr, Path: path, Err: err}
}
