//go:build linux

package sandbox

import (
	"context"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/pause"
)

// sharedKinds are the namespaces made before the pause: net (unless
// HostNetwork), ipc (unless HostIPC) and uts.
func (s *Sandbox) sharedKinds() []nsjoin.Kind {
	var k []nsjoin.Kind
	if !s.cfg.HostNetwork {
		k = append(k, nsjoin.Net)
	}
	if !s.cfg.HostIPC {
		k = append(k, nsjoin.IPC)
	}
	return append(k, nsjoin.UTS)
}

// cgroupAndNamespaces builds the pod cgroup and the shared namespaces,
// pinned and set up inside (loopback, hostname, sysctls), with the pause
// (if any) forked into them while they are pinned and set up. It returns
// open handles of the namespaces for the caller to close; the pause is not
// awaited (see awaitPause).
//
// The cgroup and the namespaces are independent kernel work (cgroupfs
// mkdirs; a network namespace), so they are built at once, on two
// threads: net, ipc and uts are created with no process (as for a
// pinned-only pod) and the pause joins them when forked, creating only the
// PID namespace it is PID 1 of.
func (s *Sandbox) cgroupAndNamespaces(ctx context.Context, fail func(step, path string, err error) error) (*nsjoin.Set, error) {
	cgFail := func(err error) error { return fail("cgroup", cgroupRel(s.cfg.CgroupParent, s.cfg.ID), err) }
	nsFail := func(err error) error { return fail("namespaces", "", err) }
	switch {
	case s.cfg.NoPause:
		return s.buildPinnedOnly(cgFail, nsFail)
	}
	return s.buildWithPause(ctx, cgFail, nsFail)
}

// buildPinnedOnly creates the cgroup on one thread while the namespaces
// are created, pinned and set up on another.
func (s *Sandbox) buildPinnedOnly(cgFail, nsFail func(error) error) (*nsjoin.Set, error) {
	cgDone := make(chan error, 1)
	go func() { cgDone <- s.makeCgroup() }()
	set, err := nsjoin.Create(s.sharedKinds()...)
	if err == nil {
		err = s.pinAndSetUp(set)
	}
	if err != nil {
		err = nsFail(err)
	}
	if cgErr := <-cgDone; cgErr != nil { // s.cg is ours again
		err = cgFail(cgErr)
	}
	return setOrClose(set, err)
}

// setOrClose returns set, or closes it (if any) and returns err.
func setOrClose(set *nsjoin.Set, err error) (*nsjoin.Set, error) {
	if err != nil {
		if set != nil {
			set.Close()
		}
		return nil, err
	}
	return set, nil
}

// pauseNamespaces is what the pause's forking thread needs from the
// namespace side: the namespaces (nil when they failed) and the events
// FIFO, which the forking thread then owns.
type pauseNamespaces struct {
	set      *nsjoin.Set
	evr, evw *os.File
}

// buildWithPause forks the pause as early as it can be: a throwaway
// thread builds the pod cgroup and joins the pause's leaf (cgroup v1)
// while this goroutine creates the namespaces and the events FIFO; that
// thread then joins the namespaces and forks the pause, while they are
// pinned and set up here. A shared PID namespace, made by the pause's
// fork, is pinned once it exists.
func (s *Sandbox) buildWithPause(ctx context.Context, cgFail, nsFail func(error) error) (*nsjoin.Set, error) {
	nsReady := make(chan *pauseNamespaces, 1)
	type forkResult struct {
		pp           *pause.Process
		cgErr, spErr error
	}
	forked := make(chan forkResult, 1)
	var parked chan struct{} // closed once the pause is reaped (DieWithParent)
	if s.cfg.DieWithParent {
		parked = make(chan struct{})
	}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		pp, cgErr, spErr := s.forkPause(ctx, nsReady, parked != nil)
		forked <- forkResult{pp, cgErr, spErr}
		if pp != nil && parked != nil {
			<-parked // the pause's parent-death signal follows this thread
		}
	}()
	set, err := nsjoin.Create(s.sharedKinds()...)
	var evr, evw *os.File
	if err == nil && s.cfg.SharePID { // the only pause with children to reap
		evr, evw, err = s.pauseEventsFIFO()
	}
	var setUpErr error
	if err != nil {
		nsReady <- nil
	} else {
		nsReady <- &pauseNamespaces{set: set, evr: evr, evw: evw}
		setUpErr = s.pinAndSetUp(set)
	}
	r := <-forked // s.cg is ours again
	switch {
	case r.cgErr != nil:
		err = cgFail(r.cgErr)
	case err != nil:
		err = nsFail(err)
	case r.spErr != nil:
		err = nsFail(r.spErr)
	default:
		err = s.recordPause(r.pp, evr, parked) // from here teardown kills the pause
		if err == nil {
			err = setUpErr
		}
		if err == nil {
			err = s.addPausePID(set, r.pp)
		}
		if err != nil {
			err = nsFail(err)
		}
	}
	return setOrClose(set, err)
}

// forkPause runs on a locked thread that is thrown away afterwards. It
// builds the pod cgroup, puts the thread in the pause's leaf (v1; on v2
// the pause is cloned into it, CLONE_INTO_CGROUP), waits for the
// namespaces, joins them and forks the pause there: born in its leaf and
// its namespaces, with a new PID namespace if SharePID. It returns the
// cgroup's error and the spawn's apart, for the caller to tell them.
// Nothing else runs on the thread once it is in the leaf: memory it
// touched would be charged to the pause's cgroup (the caller records the
// pause). With dieWithThread (DieWithParent) the pause dies with this
// thread, which goes back to the manager's cgroups and namespaces after
// the fork and parks for the pause's life.
func (s *Sandbox) forkPause(ctx context.Context, nsReady <-chan *pauseNamespaces, dieWithThread bool) (pp *pause.Process, cgErr, spErr error) {
	opts := pause.Options{Path: s.cfg.PauseBinary, DieWithThread: dieWithThread}
	if s.cfg.SharePID {
		opts.Cloneflags = unix.CLONE_NEWPID
	}
	var home *threadHome
	cgErr = s.makeCgroup()
	if cgErr == nil && dieWithThread {
		home, cgErr = saveThreadHome(s.cg.pod.Pause(), s.sharedKinds())
		if home != nil {
			defer home.close()
		}
	}
	if cgErr == nil {
		var dir *os.File
		dir, cgErr = s.joinPauseLeaf()
		if dir != nil {
			defer dir.Close()
			opts.UseCgroupFD, opts.CgroupFD = true, int(dir.Fd())
		}
	}
	ns := <-nsReady
	if ns == nil || cgErr != nil {
		if ns != nil {
			ns.evr.Close()
			ns.evw.Close()
		}
		return nil, cgErr, nil
	}
	for _, k := range s.sharedKinds() {
		if err := unix.Setns(ns.set.Get(k).Fd(), int(k)); err != nil {
			ns.evr.Close()
			ns.evw.Close()
			return nil, nil, &nsjoin.Error{Op: "setns", Kind: k, Err: err}
		}
	}
	pp, spErr = spawnPause(ctx, opts, ns.evr, ns.evw)
	if spErr == nil && home != nil {
		if err := home.goBack(); err != nil { // the thread must not park in the pod
			killAndReap(pp)
			return nil, nil, err
		}
	}
	return pp, nil, spErr
}

// joinPauseLeaf prepares the calling (locked, throwaway) thread to fork
// the pause into its leaf: on v1 the thread joins the leaf; on v2 it
// returns the leaf's directory for CLONE_INTO_CGROUP.
func (s *Sandbox) joinPauseLeaf() (*os.File, error) {
	leaf := s.cg.pod.Pause()
	if dir, err := cgroup.OpenDir(leaf); err == nil {
		return dir, nil
	}
	return nil, cgroup.JoinThread(leaf)
}

// addPausePID adds the PID namespace of a pause that was forked into a
// new one (SharePID) to set, and pins it.
func (s *Sandbox) addPausePID(set *nsjoin.Set, pp *pause.Process) error {
	if !s.cfg.SharePID {
		return nil
	}
	h, err := nsjoin.OpenPidfd(pp.PidFD(), nsjoin.PID)
	if err != nil {
		return err
	}
	if err := set.Add(h); err != nil {
		h.Close()
		return err
	}
	path, err := pinOne(s.dir, h)
	if err != nil {
		return err
	}
	s.pins[nsjoin.PID.String()] = path
	return nil
}

// pinAndSetUp pins every namespace of set and sets them up inside
// (loopback, hostname, sysctls).
func (s *Sandbox) pinAndSetUp(set *nsjoin.Set) error {
	pins, err := pinSet(s.dir, set)
	if err != nil {
		return err
	}
	s.pins = pins
	return setupInside(set, s.cfg.Hostname, s.cfg.Sysctls, !s.cfg.HostNetwork)
}

// makeCgroup creates the pod cgroup (with a pause leaf unless NoPause).
func (s *Sandbox) makeCgroup() error {
	cg, err := newPodCgroup(s.cfg.CgroupParent, s.cfg.ID, s.cfg.Resources, s.cfg.NoPause)
	if err == nil {
		cg.keepParent = s.cfg.KeepCgroupParent
		s.cg = cg
	}
	return err
}

// spawnPause forks the pause with the write end of its events FIFO (if
// any), which it closes (and the read end too if the fork fails). It does
// not wait for the pause to be ready: awaitPause does.
func spawnPause(ctx context.Context, opts pause.Options, evr, evw *os.File) (*pause.Process, error) {
	if evw != nil {
		opts.Events, opts.DropEvents = evw, true
	}
	pp, err := pause.Spawn(ctx, opts)
	evw.Close()
	if err != nil {
		evr.Close()
	}
	return pp, err
}

// recordPause starts reading the pause's events from evr and records the
// pause, with the state saved at once so that Reconcile can kill it after
// a crash right here.
func (s *Sandbox) recordPause(pp *pause.Process, evr *os.File, parked chan struct{}) error {
	if evr != nil {
		s.pauseEvents = make(chan struct{})
		go s.readPauseEvents(evr, s.pauseEvents)
	}
	p, err := fromPause(pp, parked) // kills pp if it fails
	if err != nil {
		return err
	}
	s.pause = p
	return s.save()
}
