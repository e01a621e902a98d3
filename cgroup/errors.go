//go:build linux

package cgroup

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of these
// (and, where the kernel refused something, the underlying errno), so callers
// test with errors.Is.
var (
	// ErrInvalidName: a pod, container or path component is empty, ".",
	// "..", contains '/' or NUL, or is longer than 255 bytes.
	ErrInvalidName = errors.New("cgroup: invalid name")
	// ErrEscape: a path resolves outside the parent it must stay under.
	ErrEscape = errors.New("cgroup: path escapes its parent")
	// ErrInvalidResources: a resource value is nonsense (negative, zero
	// period, limit below request, cpuset outside the parent's set, ...).
	ErrInvalidResources = errors.New("cgroup: invalid resources")
	// ErrUnsupported: the host lacks a controller or interface file that the
	// requested operation or resource needs.
	ErrUnsupported = errors.New("cgroup: not supported on this host")
	// ErrNotExist: the cgroup does not exist (never created or deleted).
	ErrNotExist = errors.New("cgroup: does not exist")
	// ErrExist: the cgroup already exists.
	ErrExist = errors.New("cgroup: already exists")
	// ErrBusy: the cgroup still has processes or could not be removed
	// within the bounded retry.
	ErrBusy = errors.New("cgroup: busy")
	// ErrClosed: the object was closed.
	ErrClosed = errors.New("cgroup: closed")
)

// Error records a failed operation on a cgroup, like os.PathError.
// Path is the cgroup's path relative to the hierarchy root (e.g.
// "/podkit/pod1/app"); Op names the operation.
type Error struct {
	Op   string
	Path string
	Err  error
}

func (e *Error) Error() string {
	return "cgroup " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ResourceError reports an invalid resource value. It wraps
// ErrInvalidResources (or ErrUnsupported).
type ResourceError struct {
	Field  string // e.g. "CPU.LimitMilli"
	Value  string // the offending value, formatted
	Reason string
	Err    error
}

func (e *ResourceError) Error() string {
	return fmt.Sprintf("cgroup: resource %s=%s: %s", e.Field, e.Value, e.Reason)
}

func (e *ResourceError) Unwrap() error { return e.Err }

// NameError reports an invalid name or path. It wraps ErrInvalidName or
// ErrEscape.
type NameError struct {
	Op   string
	Name string
	Err  error
}

func (e *NameError) Error() string {
	return fmt.Sprintf("cgroup %s %q: %v", e.Op, e.Name, e.Err)
}

func (e *NameError) Unwrap() error { return e.Err }

func invalidRes(field string, value any, reason string) error {
	return &ResourceError{Field: field, Value: fmt.Sprint(value), Reason: reason, Err: ErrInvalidResources}
}

func unsupportedRes(field string, value any, reason string) error {
	return &ResourceError{Field: field, Value: fmt.Sprint(value), Reason: reason, Err: ErrUnsupported}
}

// both wraps a sentinel and an underlying cause so errors.Is matches either.
type both struct {
	sentinel, cause error
}

func (b *both) Error() string   { return b.sentinel.Error() + ": " + b.cause.Error() }
func (b *both) Unwrap() []error { return []error{b.sentinel, b.cause} }

func wrapBoth(sentinel, cause error) error { return &both{sentinel: sentinel, cause: cause} }
