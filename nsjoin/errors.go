package nsjoin

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps one of these
// (or a syscall errno) inside an *Error, so errors.Is and errors.As work.
var (
	// ErrNotNamespace: the file is not an nsfs namespace file.
	ErrNotNamespace = errors.New("not a namespace file (not on nsfs)")
	// ErrWrongKind: the namespace file is of another kind than requested.
	ErrWrongKind = errors.New("namespace of the wrong kind")
	// ErrUnknownKind: the Kind value or name is not one of the eight kinds.
	ErrUnknownKind = errors.New("unknown namespace kind")
	// ErrClosed: the handle (or set) was closed.
	ErrClosed = errors.New("namespace handle is closed")
	// ErrProcessGone: the process exited (or its pid was reused) before
	// its namespaces could be opened.
	ErrProcessGone = errors.New("process is gone")
	// ErrDuplicateKind: a set got two handles of the same kind.
	ErrDuplicateKind = errors.New("set already holds a namespace of this kind")
	// ErrEmptySet: the operation needs at least one namespace.
	ErrEmptySet = errors.New("empty namespace set")
	// ErrNotJoinable: the kind cannot be joined by one thread of a
	// multi-threaded process (mnt needs an unshared fs_struct, user needs a
	// single-threaded caller, time needs a single-threaded caller).
	ErrNotJoinable = errors.New("namespace kind cannot be joined by a thread of a multi-threaded Go process")
	// ErrNotCreatable: the kind cannot be created without a process
	// (pid is only materialised by its first process; user and mnt need a
	// single-threaded caller or an unshared fs_struct).
	ErrNotCreatable = errors.New("namespace kind cannot be created on a thread without a process")
	// ErrRestore: the thread could not be moved back into its original
	// namespaces; the thread was left locked so the Go runtime destroys it.
	ErrRestore = errors.New("could not restore the thread's namespaces; thread discarded")
	// ErrGoexit: the function given to Do called runtime.Goexit (t.FailNow,
	// say); its thread was discarded.
	ErrGoexit = errors.New("function called runtime.Goexit; thread discarded")
	// ErrInvalidName: a pin name or sysctl key failed validation.
	ErrInvalidName = errors.New("invalid name")
	// ErrExists: a pin with this name and kind already exists.
	ErrExists = errors.New("pin already exists")
	// ErrNotPinned: no pin with this name (and kind).
	ErrNotPinned = errors.New("no such pin")
	// ErrBusy: the pin directory still holds pins.
	ErrBusy = errors.New("pin directory still holds pins")
	// ErrNotCgroup2: IntoCgroup does not name a cgroup v2 directory.
	ErrNotCgroup2 = errors.New("not a cgroup v2 directory")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("command already started")
	// ErrNoNsenter: the nsenter(1) helper needed for user/time was not found.
	ErrNoNsenter = errors.New("nsenter(1) not found in PATH; needed to enter user or time namespaces")
	// ErrNoExecStop: Security has rlimits and no_new_privs, so the process
	// must be held before its exec, and neither way to hold it is
	// available: ptrace is refused (Yama ptrace_scope 2 or 3, or the
	// manager is traced) and there is no cgroup v2 hierarchy to be born
	// frozen in.
	ErrNoExecStop = errors.New("cannot hold the process before its exec to set its rlimits")
)

// Error records a failed operation with its context, in the manner of
// os.PathError. Err is the underlying cause: a sentinel of this package, a
// syscall errno, or both (use errors.Is for either).
type Error struct {
	Op   string // "open", "pin", "unpin", "do", "start", "create", ...
	Kind Kind   // namespace kind involved, or 0
	Path string // file involved, if any
	Pid  int    // process involved, if any
	ID   string // namespace identity or pin name, if any
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nsjoin: ")
	b.WriteString(e.Op)
	if e.Kind != 0 {
		b.WriteString(" " + e.Kind.String())
	}
	if e.Pid != 0 {
		b.WriteString(" pid " + strconv.Itoa(e.Pid))
	}
	if e.ID != "" {
		b.WriteString(" " + e.ID)
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

// both returns an error matching both a sentinel and a cause (an errno).
func both(sentinel, cause error) error {
	if cause == nil {
		return sentinel
	}
	return &twoErr{sentinel, cause}
}

type twoErr struct{ sentinel, cause error }

func (j *twoErr) Error() string   { return j.sentinel.Error() + ": " + j.cause.Error() }
func (j *twoErr) Unwrap() []error { return []error{j.sentinel, j.cause} }
