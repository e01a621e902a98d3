//go:build linux

package nsjoin

import "sync"

// The home namespaces are those every thread the Go scheduler may hand a
// goroutine to must be in. They are taken once per kind, the first time a
// kind is joined, from the thread doing it: a thread of the scheduler's
// pool, not yet moved, i.e. in the namespaces the process started in. The
// descriptors stay open for the life of the process (one per kind used).
//
// Moving a thread back means setns into the home namespace, which is both
// cheaper than re-opening /proc/thread-self/ns/* on every call and
// stricter: a thread some other code left in a foreign namespace is
// brought home too.
var home [numKinds]struct {
	once sync.Once
	h    *Handle
	err  error
}

// homeNS returns the home namespace of kind k. The first call for a kind
// must happen on a thread that has not left the home namespaces (all
// callers call it before their first setns of that kind).
func homeNS(k Kind) (*Handle, error) {
	i := k.index()
	if i < 0 {
		return nil, &Error{Op: "home", Kind: k, Err: ErrUnknownKind}
	}
	e := &home[i]
	e.once.Do(func() { e.h, e.err = Current(k) })
	return e.h, e.err
}

// Prepare opens the home namespace descriptors of every kind that can be
// joined from a thread now, instead of at their first use. They stay open
// for the life of the process; a program that compares its open file
// descriptors over time (a leak check in a test, say) calls Prepare first.
func Prepare() error {
	for _, k := range []Kind{Net, IPC, UTS, Cgroup, PID, Mount} {
		if _, err := homeNS(k); err != nil {
			return err
		}
	}
	return nil
}
