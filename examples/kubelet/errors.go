package kubelet

import (
	"errors"
	"strings"
)

// ErrInitFailed: an init container failed and its restart policy does not
// allow another attempt; the pod is Failed.
var ErrInitFailed = errors.New("init container failed")

// Error describes a failed operation of a Pod. Bad input wraps
// sandbox.ErrInvalidConfig, a call in the wrong state
// sandbox.ErrInvalidState, so errors.Is works across both packages.
type Error struct {
	Op        string // "run", "resume", "validate", ...
	Pod       string // sandbox ID
	Container string // container name, if any
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kubelet " + e.Op)
	if e.Pod != "" {
		b.WriteString(" " + e.Pod)
	}
	if e.Container != "" {
		b.WriteString("/" + e.Container)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(op, pod, ctr string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Pod: pod, Container: ctr, Err: err}
}

// FieldError names the PodSpec field that validation refused, in
// Kubernetes' path form (initContainers[1].startupProbe.periodSeconds). It
// wraps sandbox.ErrInvalidConfig and sits inside an *Error.
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func (e *FieldError) Unwrap() error { return e.Err }
