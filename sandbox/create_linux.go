//go:build linux

package sandbox

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/pause"
)

func (s *Sandbox) kinds() []nsjoin.Kind {
	k := []nsjoin.Kind{nsjoin.Net, nsjoin.IPC, nsjoin.UTS}
	if s.cfg.SharePID {
		k = append(k, nsjoin.PID)
	}
	return k
}

// cgroupAndNamespaces builds the pod cgroup and the shared namespaces,
// pinned and set up inside (loopback, hostname, sysctls), with the pause
// (if any) forked into them before they are pinned and set up, so that it
// boots meanwhile. It returns open handles of the namespaces for
// the caller to close; the pause is not awaited (see awaitPause).
//
// The cgroup and the namespaces are independent kernel work (cgroupfs
// mkdirs; a network namespace), so they are built at once, on two
// threads: net, ipc and uts are created with no process (as for a
// pinned-only pod) and the pause joins them when forked, creating only the
// PID namespace it is PID 1 of. The exception is DieWithParent, whose
// pause is forked by a long-lived thread that cannot join anything: it
// creates every namespace itself (startPauseCloning).
func (s *Sandbox) cgroupAndNamespaces(ctx context.Context, fail func(step, path string, err error) error) (*nsjoin.Set, error) {
	cgFail := func(err error) error { return fail("cgroup", cgroupRel(s.cfg.CgroupParent, s.cfg.ID), err) }
	if s.cfg.DieWithParent && !s.cfg.NoPause {
		if err := s.makeCgroup(); err != nil {
			return nil, cgFail(err)
		}
		set, err := s.startPauseCloning(ctx)
		if err != nil {
			return nil, fail("namespaces", "", err)
		}
		return set, nil
	}
	cgDone := make(chan error, 1)
	go func() { cgDone <- s.makeCgroup() }()
	set, nsErr := nsjoin.Create(nsjoin.Net, nsjoin.IPC, nsjoin.UTS)
	if nsErr == nil && s.cfg.NoPause {
		nsErr = s.pinAndSetUp(set)
	}
	cgErr := <-cgDone // s.cg is ours again
	err := nsErr
	switch {
	case cgErr != nil:
		err = cgFail(cgErr)
	case nsErr != nil:
		err = fail("namespaces", "", nsErr)
	case !s.cfg.NoPause:
		// The pause boots while its namespaces are pinned and set up.
		err = s.startPauseIn(ctx, set)
		if err == nil {
			err = s.pinAndSetUp(set)
		}
		if err != nil {
			err = fail("namespaces", "", err)
		}
	}
	if err != nil {
		if set != nil {
			set.Close()
		}
		return nil, err
	}
	return set, nil
}

// pinAndSetUp pins every namespace of set and sets them up inside
// (loopback, hostname, sysctls).
func (s *Sandbox) pinAndSetUp(set *nsjoin.Set) error {
	pins, err := pinSet(s.dir, set)
	if err != nil {
		return err
	}
	s.pins = pins
	return setupInside(set, s.cfg.Hostname, s.cfg.Sysctls)
}

// makeCgroup creates the pod cgroup (with a pause leaf unless NoPause).
func (s *Sandbox) makeCgroup() error {
	cg, err := newPodCgroup(s.cfg.CgroupParent, s.cfg.ID, s.cfg.Resources, s.cfg.NoPause)
	if err == nil {
		s.cg = cg
	}
	return err
}

// startPauseIn forks the pause into the namespaces of set (created
// already), born in its cgroup leaf: the forking thread joins
// set's namespaces and, on cgroup v1, the leaf (cgroup.JoinThread; on v2
// the pause is cloned into it, CLONE_INTO_CGROUP). With SharePID the pause
// is forked into a new PID namespace, which is added to set.
func (s *Sandbox) startPauseIn(ctx context.Context, set *nsjoin.Set) error {
	leaf := s.cg.pod.Pause()
	opts := pause.Options{Path: s.cfg.PauseBinary}
	if s.cfg.SharePID {
		opts.Cloneflags = unix.CLONE_NEWPID
	}
	joinLeaf := func() error { return cgroup.JoinThread(leaf) }
	if dir, err := cgroup.OpenDir(leaf); err == nil {
		defer dir.Close()
		opts.UseCgroupFD, opts.CgroupFD = true, int(dir.Fd())
		joinLeaf = func() error { return nil }
	}
	opts.BeforeFork = func() error {
		for _, k := range []nsjoin.Kind{nsjoin.Net, nsjoin.IPC, nsjoin.UTS} {
			if err := unix.Setns(set.Get(k).Fd(), int(k)); err != nil {
				return &nsjoin.Error{Op: "setns", Kind: k, Err: err}
			}
		}
		return joinLeaf()
	}
	pp, err := s.spawnPause(ctx, opts)
	if err != nil || !s.cfg.SharePID {
		return err
	}
	h, err := nsjoin.OpenPidfd(pp.PidFD(), nsjoin.PID)
	if err != nil {
		return err
	}
	if err := set.Add(h); err != nil {
		h.Close()
		return err
	}
	return nil
}

// startPauseCloning starts a die-with-parent pause that creates every
// shared namespace itself (clone flags), moves it into its leaf by pid (its
// forks share one long-lived thread, which must not join the leaf), then
// pins and sets up its namespaces.
func (s *Sandbox) startPauseCloning(ctx context.Context) (*nsjoin.Set, error) {
	flags := 0
	for _, k := range s.kinds() {
		flags |= int(k)
	}
	opts := pause.Options{Path: s.cfg.PauseBinary, Cloneflags: uintptr(flags), DieWithParent: true}
	pp, err := s.spawnPause(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := s.cg.pod.Pause().AddProcess(pp.Pid); err != nil {
		return nil, err
	}
	set, err := nsjoin.OpenSetPidfd(pp.PidFD(), s.kinds()...)
	if err != nil {
		return nil, err
	}
	if err := s.pinAndSetUp(set); err != nil {
		set.Close()
		return nil, err
	}
	return set, nil
}

// spawnPause forks the pause with its events FIFO and records it (state
// saved at once, so that Reconcile can kill it after a crash right here).
// It does not wait for the pause to be ready: awaitPause does.
func (s *Sandbox) spawnPause(ctx context.Context, opts pause.Options) (*pause.Process, error) {
	evr, evw, err := s.pauseEventsFIFO()
	if err != nil {
		return nil, err
	}
	opts.Events, opts.DropEvents = evw, true
	pp, err := pause.Spawn(ctx, opts)
	evw.Close()
	if err != nil {
		evr.Close()
		return nil, err
	}
	s.pauseEvents = make(chan struct{})
	go s.readPauseEvents(evr, s.pauseEvents)
	p, err := fromPause(pp)
	if err != nil {
		return nil, err
	}
	s.pause = p
	if err := s.save(); err != nil {
		return nil, err
	}
	return pp, nil
}
