//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// notJoinable explains why a kind cannot be joined by one Go thread.
func notJoinable(op string, k Kind) error {
	var why string
	switch k {
	case Mount:
		why = "setns(CLONE_NEWNS) needs an fs_struct no other thread shares, and Go threads share one (CLONE_FS); start a process in it with Command"
	case User:
		why = "setns(CLONE_NEWUSER) needs a single-threaded caller (EINVAL); start a process in it with Command, which goes through nsenter(1)"
	case Time:
		why = "setns(CLONE_NEWTIME) needs a single-threaded caller (EUSERS); start a process in it with Command, which goes through nsenter(1)"
	default:
		return &Error{Op: op, Kind: k, Err: ErrUnknownKind}
	}
	return &Error{Op: op, Kind: k, Err: fmt.Errorf("%w: %s", ErrNotJoinable, why)}
}

// Do runs fn on a fresh goroutine locked to its OS thread, with that thread
// inside the namespaces of s, and returns fn's error. s may hold net, ipc,
// uts, cgroup and pid (pid sets pid_for_children: processes fn forks are
// born in it); mnt, user and time are refused with ErrNotJoinable.
//
// Afterwards the thread is moved back into the namespaces it came from.
// Only if every move back succeeded is the thread unlocked and returned to
// the Go scheduler; otherwise the goroutine exits still locked, so the
// runtime terminates the thread and no other goroutine ever runs in a
// foreign namespace (the failure mode of vishvananda/netns#75,
// containernetworking/cni#183 and golang/go#28979); the error then wraps
// ErrRestore. A panic in fn is carried over and re-raised in the caller
// after the thread has been dealt with. If fn calls runtime.Goexit (as
// t.FailNow does) the thread is discarded and Do returns ErrGoexit.
//
// Goroutines started by fn do not inherit the namespaces. fn must not call
// runtime.UnlockOSThread more often than it called LockOSThread.
func Do(s *Set, fn func() error) error {
	kinds, err := joinKinds("do", s)
	if err != nil {
		return err
	}
	type result struct {
		err      error
		panicked bool
		pv       any
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// Preset for the case fn calls runtime.Goexit: then nothing after
		// fn runs but this defer, and the thread, still inside s, dies.
		r := result{err: &Error{Op: "do", ID: s.String(), Err: ErrGoexit}}
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			}
			ch <- r
		}()
		restored, r.err = doLocked(s, kinds, func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					r.panicked, r.pv = true, v
				}
			}()
			return fn()
		})
	}()
	r := <-ch
	if r.panicked {
		panic(r.pv)
	}
	return r.err
}

// joinKinds validates that s is non-empty and thread-joinable.
func joinKinds(op string, s *Set) ([]Kind, error) {
	kinds := s.Kinds()
	if len(kinds) == 0 {
		return nil, &Error{Op: op, Err: ErrEmptySet}
	}
	for _, k := range kinds {
		if !k.ThreadJoinable() {
			return nil, notJoinable(op, k)
		}
	}
	return kinds, nil
}

// doLocked runs on a locked thread: it enters s, runs fn, and moves back.
// restored reports whether the thread is back where it started.
func doLocked(s *Set, kinds []Kind, fn func() error) (restored bool, err error) {
	orig, err := enterSet(s, kinds)
	if err != nil {
		return !errors.Is(err, ErrRestore), err
	}
	ferr := fn()
	rerr := leaveSet(orig)
	if rerr != nil {
		return false, errors.Join(ferr, rerr)
	}
	return true, ferr
}

// enterSet moves the calling (locked) thread into the namespaces of s and
// returns the kinds it entered. On error it moves back what it moved and
// returns the error; if even that fails the error wraps ErrRestore and the
// thread must be discarded.
func enterSet(s *Set, kinds []Kind) ([]Kind, error) {
	for i, k := range kinds {
		if _, err := homeNS(k); err != nil {
			return nil, errors.Join(err, leaveSet(kinds[:i]))
		}
		err := s.Get(k).use("setns", func(fd int) error { return unix.Setns(fd, int(k)) })
		if err != nil {
			return nil, errors.Join(err, leaveSet(kinds[:i]))
		}
	}
	return kinds, nil
}

// leaveSet moves the thread back into the home namespaces, in reverse order.
func leaveSet(kinds []Kind) error {
	var errs []error
	for i := len(kinds) - 1; i >= 0; i-- {
		k := kinds[i]
		h, err := homeNS(k)
		if err == nil {
			err = unix.Setns(h.fd, int(k))
		}
		if err != nil {
			errs = append(errs, &Error{Op: "restore", Kind: k, ID: h.String(), Err: both(ErrRestore, err)})
		}
	}
	return errors.Join(errs...)
}
