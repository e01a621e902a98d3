//go:build linux

package nsjoin

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Creatable reports whether Create can make a namespace of kind k without a
// process: net, ipc, uts, cgroup and time. Not pid (unshare(CLONE_NEWPID)
// only sets pid_for_children; the namespace comes into being with its first
// process, so start that process with Command and SysProcAttr.Cloneflags,
// or use a holder such as the pause process), not user (unshare needs a
// single-threaded caller) and not mnt (a mount namespace copied from a
// multi-threaded process is better created by the process that will use it,
// e.g. libcontainer).
func (k Kind) Creatable() bool {
	switch k {
	case Net, IPC, UTS, Cgroup, Time:
		return true
	}
	return false
}

// Create makes new namespaces of the given kinds and returns handles to
// them; no process is kept alive for them. Pin them (PinDir.PinSet) if they
// must outlive the returned handles.
//
// The namespaces are made with unshare(2) on a fresh goroutine locked to
// its OS thread, opened from /proc/thread-self/ns, and the thread is moved
// back into its original namespaces. As with Do, the thread goes back to
// the scheduler only if that move succeeded; with Time among the kinds it
// never can (setns into a time namespace needs a single-threaded caller),
// so the thread is always discarded then.
func Create(kinds ...Kind) (*Set, error) {
	flags, err := createFlags(kinds)
	if err != nil {
		return nil, err
	}
	type result struct {
		s   *Set
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		s, restored, err := createLocked(kinds, flags)
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{s, err}
	}()
	r := <-ch
	return r.s, r.err
}

func createFlags(kinds []Kind) (int, error) {
	if len(kinds) == 0 {
		return 0, &Error{Op: "create", Err: ErrEmptySet}
	}
	flags := 0
	for _, k := range kinds {
		if !k.Valid() {
			return 0, &Error{Op: "create", Kind: k, Err: ErrUnknownKind}
		}
		if !k.Creatable() {
			return 0, &Error{Op: "create", Kind: k, Err: fmt.Errorf("%w (see Kind.Creatable)", ErrNotCreatable)}
		}
		if flags&int(k) != 0 {
			return 0, &Error{Op: "create", Kind: k, Err: ErrDuplicateKind}
		}
		flags |= int(k)
	}
	return flags, nil
}

// createLocked runs on a locked thread.
func createLocked(kinds []Kind, flags int) (s *Set, restored bool, err error) {
	var back []Kind
	for _, k := range kinds {
		if !k.ThreadJoinable() {
			continue // time: cannot be restored anyway
		}
		if _, err := homeNS(k); err != nil {
			return nil, true, err
		}
		back = append(back, k)
	}
	if err := unix.Unshare(flags); err != nil {
		return nil, true, &Error{Op: "create", Err: err}
	}
	s = &Set{}
	for _, k := range kinds {
		h, err := Current(k)
		if err != nil {
			s.Close()
			return nil, leaveSet(back) == nil && flags&unix.CLONE_NEWTIME == 0, err
		}
		s.Add(h)
	}
	if rerr := leaveSet(back); rerr != nil {
		s.Close()
		return nil, false, rerr
	}
	return s, flags&unix.CLONE_NEWTIME == 0, nil
}
