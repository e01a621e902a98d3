//go:build linux

package sandbox

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin"
)

// threadHome is where a forking thread that must live on (it parks for
// the life of a process forked with a parent-death signal) goes back to
// after the fork: the manager's cgroups (v1) and namespaces. A parked
// thread left in a pod's cgroup would be frozen and killed with it; one
// left in its namespaces would keep them alive.
type threadHome struct {
	cg *cgroup.ThreadHome
	ns []*nsjoin.Handle
}

// saveThreadHome opens the way back, on the locked thread, before it
// joins leaf and the namespaces of kinds.
func saveThreadHome(leaf cgroup.Cgroup, kinds []nsjoin.Kind) (*threadHome, error) {
	cg, err := cgroup.SaveThreadHome(leaf)
	if err != nil {
		return nil, err
	}
	h := &threadHome{cg: cg}
	for _, k := range kinds {
		ns, err := nsjoin.Current(k)
		if err != nil {
			h.close()
			return nil, err
		}
		h.ns = append(h.ns, ns)
	}
	return h, nil
}

// goBack moves the calling thread home: every namespace, then the
// cgroups (a thread moving itself takes no global lock).
func (h *threadHome) goBack() error {
	var errs []error
	for _, ns := range h.ns {
		if err := unix.Setns(ns.Fd(), int(ns.Kind())); err != nil {
			errs = append(errs, &nsjoin.Error{Op: "setns home", Kind: ns.Kind(), Err: err})
		}
	}
	if err := h.cg.Return(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (h *threadHome) close() {
	h.cg.Close()
	for _, ns := range h.ns {
		ns.Close()
	}
}
