//go:build linux

package pause

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps one of them (or
// a context error / errno) and is an *Error or *NotFoundError.
var (
	// ErrNotFound: the podkit-pause binary could not be located.
	ErrNotFound = errors.New("podkit-pause binary not found")
	// ErrInvalidOptions: Options failed validation; nothing was started.
	ErrInvalidOptions = errors.New("invalid pause options")
	// ErrExited: the pause exited before it reported readiness.
	ErrExited = errors.New("pause exited before it was ready")
	// ErrClosed: the Process was closed.
	ErrClosed = errors.New("pause process closed")
)

// BuildHint says how to build and install the binary.
// (BareLinkFlag is for amd64 and arm64; elsewhere leave it out.)
const BuildHint = "build it with: CGO_ENABLED=0 go build -ldflags=" + BareLinkFlag +
	" -o /usr/local/bin/podkit-pause ./pause/cmd/podkit-pause (or set $" + EnvPath + " to its path)"

// NotFoundError is returned by Find.
type NotFoundError struct {
	Op    string   // "find"
	Path  string   // the path that was rejected, if any ($PODKIT_PAUSE)
	Tried []string // every location tried, in order
	Err   error    // detail, e.g. the stat error for $PODKIT_PAUSE
}

func (e *NotFoundError) Error() string {
	s := "pause: " + e.Op + ": " + ErrNotFound.Error()
	if e.Path != "" {
		s += " at " + e.Path
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if len(e.Tried) > 0 {
		s += " (tried"
		for i, t := range e.Tried {
			if i > 0 {
				s += ","
			}
			s += " " + t
		}
		s += ")"
	}
	return s + "; " + BuildHint
}

// Unwrap returns ErrNotFound and the detail.
func (e *NotFoundError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotFound}
	}
	return []error{ErrNotFound, e.Err}
}

// Error describes a failed operation on a pause process.
type Error struct {
	Op     string      // "start", "signal", "wait", "options", ...
	Path   string      // the binary
	Pid    int         // 0 if no process was created
	Status *ExitStatus // set when the pause had exited
	Err    error
}

func (e *Error) Error() string {
	s := "pause: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Pid > 0 {
		s += " (pid " + strconv.Itoa(e.Pid) + ")"
	}
	s += ": " + e.Err.Error()
	if e.Status != nil {
		s += " (" + e.Status.String() + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
