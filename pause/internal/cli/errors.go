//go:build linux

package cli

import "errors"

// ErrUsage is the sentinel wrapped by every command-line parsing error.
var ErrUsage = errors.New("usage error")

// ErrNotFound is returned by LookPath when no executable file of that name is
// found in $PATH.
var ErrNotFound = errors.New("executable file not found in $PATH")

// UsageError describes one bad command-line argument.
type UsageError struct {
	Op  string // "parse"
	Arg string // the offending argument
	Err error  // detail; errors.Is(e, ErrUsage) is always true
}

func (e *UsageError) Error() string {
	return e.Op + " " + strconvQuote(e.Arg) + ": " + e.Err.Error()
}

// Unwrap returns both the detail and ErrUsage.
func (e *UsageError) Unwrap() []error { return []error{e.Err, ErrUsage} }

func usageErr(arg, msg string) error {
	return &UsageError{Op: "parse", Arg: arg, Err: errors.New(msg)}
}

// PathError is returned by LookPath.
type PathError struct {
	Op   string // "lookpath"
	Path string // the name looked up
	Err  error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }
