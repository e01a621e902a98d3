//go:build linux

package nsjoin

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// Set is a group of namespaces, at most one per kind: the namespaces a pod
// shares, or the ones a process should be started in. The zero Set is empty
// and ready to use. A Set owns its handles: Close closes all of them.
type Set struct {
	h [numKinds]*Handle
}

// NewSet builds a set from handles of distinct kinds.
func NewSet(handles ...*Handle) (*Set, error) {
	s := &Set{}
	for _, h := range handles {
		if err := s.Add(h); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add puts h into the set; a second handle of the same kind is refused.
func (s *Set) Add(h *Handle) error {
	if h == nil {
		return &Error{Op: "set add", Err: ErrClosed}
	}
	i := h.kind.index()
	if i < 0 {
		return &Error{Op: "set add", Kind: h.kind, Err: ErrUnknownKind}
	}
	if s.h[i] != nil {
		return &Error{Op: "set add", Kind: h.kind, ID: s.h[i].String() + " vs " + h.String(), Err: ErrDuplicateKind}
	}
	s.h[i] = h
	return nil
}

// Get returns the handle of kind k, or nil.
func (s *Set) Get(k Kind) *Handle {
	if s == nil {
		return nil
	}
	if i := k.index(); i >= 0 {
		return s.h[i]
	}
	return nil
}

// Kinds lists the kinds present, in canonical order.
func (s *Set) Kinds() []Kind {
	var ks []Kind
	for _, k := range allKinds {
		if s.Get(k) != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// Len is the number of namespaces in the set.
func (s *Set) Len() int { return len(s.Kinds()) }

// Equal reports whether both sets hold the same namespaces.
func (s *Set) Equal(o *Set) bool {
	for _, k := range allKinds {
		a, b := s.Get(k), o.Get(k)
		if (a == nil) != (b == nil) || (a != nil && !a.Equal(b)) {
			return false
		}
	}
	return true
}

// String lists the namespaces like "net:[4026531840] ipc:[4026531839]".
func (s *Set) String() string {
	var parts []string
	for _, k := range allKinds {
		if h := s.Get(k); h != nil {
			parts = append(parts, h.String())
		}
	}
	if len(parts) == 0 {
		return "{}"
	}
	return strings.Join(parts, " ")
}

// Close closes every handle in the set. It is idempotent.
func (s *Set) Close() error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, h := range s.h {
		if h != nil {
			errs = append(errs, h.Close())
		}
	}
	return errors.Join(errs...)
}

// OpenSetPid opens the given kinds of process pid (pinned by a pidfd while
// opening, see OpenPid). On error nothing stays open.
func OpenSetPid(pid int, kinds ...Kind) (*Set, error) {
	pidfd, err := pidfdOpen(pid)
	if err != nil {
		return nil, &Error{Op: "open", Pid: pid, Err: err}
	}
	defer unix.Close(pidfd)
	return OpenSetPidfd(pidfd, kinds...)
}

// OpenSetPidfd opens the given kinds of the process behind pidfd.
func OpenSetPidfd(pidfd int, kinds ...Kind) (*Set, error) {
	if len(kinds) == 0 {
		return nil, &Error{Op: "open set", Err: ErrEmptySet}
	}
	s := &Set{}
	for _, k := range kinds {
		h, err := OpenPidfd(pidfd, k)
		if err == nil {
			err = s.Add(h)
			if err != nil {
				h.Close()
			}
		}
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}
