//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/runc/libcontainer"
)

// ReasonUnknown is the exit reason of a container that exited while no
// manager was attached: its exit code cannot be collected any more.
const ReasonUnknown = "Unknown"

// Load re-attaches to a sandbox created by an earlier (possibly crashed)
// process. The pause and container inits are found by PID plus start time
// and watched through pidfds. A pause found dead puts the sandbox in
// StateUnknown and kills its containers. A sandbox whose Create or Destroy
// was interrupted is refused with ErrInvalidState: Reconcile finishes it.
// Exits of re-attached containers are recorded as any other (status,
// ContainerExited, Wait); one that exited while no manager was attached,
// or whose init did not become this process's child, gets ReasonUnknown
// because only its parent could collect the exit code. Restarting
// containers is the caller's policy (examples/kubelet re-attaches its
// supervision after Load). The pause's orphan events are read again from
// its FIFO, including those that happened while no manager was attached
// (up to the FIFO's 64 KiB). opts give back what the state file cannot
// hold (the Network that detaches the pod when it is destroyed).
func Load(runDir, id string, opts ...LoadOptions) (*Sandbox, error) {
	if err := ValidateID(id); err != nil {
		return nil, newErr("load", id, "", "", err)
	}
	dir := filepath.Join(runDir, id)
	p, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = ErrNotFound
		}
		return nil, newErr("load", id, "", dir, err)
	}
	if p.State == StateCreating || p.State == StateDestroying {
		return nil, newErr("load", id, "", dir, fmt.Errorf("%w: interrupted %s, needs Reconcile", ErrInvalidState, p.State))
	}
	s := discover(dir, p, mergeLoadOptions(opts))
	if err := s.adopt(); err != nil {
		return nil, newErr("load", id, "", dir, err)
	}
	if s.state == StateReady && s.pause != nil {
		s.rewirePauseEvents()
		go s.watchPause(s.pause)
	} else if s.state == StateReady && !s.cfg.NoPause {
		// The pause is gone: namespaces may be gone with it.
		_ = s.setState("load", StateUnknown)
		s.killContainers()
		_ = s.save()
		s.events.emit(Event{Type: EventPauseDied, Sandbox: s.cfg.ID})
	}
	return s, nil
}

// discover rebuilds the in-memory sandbox from its state file and what
// exists on the host (pause, libcontainer containers, cgroup).
func discover(dir string, p *persisted, o LoadOptions) *Sandbox {
	s := &Sandbox{cfg: p.Config, dir: dir, state: p.State, pins: p.Pins, loaded: true,
		containers: map[string]*container{}, created: time.Unix(0, p.Created), manager: p.Manager, guard: p.Guard}
	s.cfg.Network, s.netAttached, s.ips, s.netDetach = o.Network, p.Network, p.IPs, p.NetDetach
	s.takeOverFromGuard()
	if cg, err := loadPodCgroup(s.cfg.CgroupParent, s.cfg.ID); err == nil {
		cg.keepParent = s.cfg.KeepCgroupParent
		s.cg = cg
	}
	if p.Pause != nil {
		if ref, err := attachProc(p.Pause.Pid, p.Pause.StartTime); err == nil {
			s.pause = ref
		}
	}
	// Held while the containers are listed: the exit of one re-attached
	// meanwhile saves the state (containerExited) from its watcher.
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, sc := range p.Containers {
		known[sc.Spec.Name] = true
		s.attachContainer(sc)
	}
	// Containers whose creation was interrupted before the state was saved.
	ents, _ := os.ReadDir(filepath.Join(dir, "libct"))
	for _, e := range ents {
		if !known[e.Name()] && ValidateID(e.Name()) == nil {
			s.attachContainer(savedContainer{Spec: ContainerSpec{Name: e.Name()}})
		}
	}
	return s
}

func (s *Sandbox) attachContainer(sc savedContainer) {
	c := &container{sb: s, spec: sc.Spec, added: true,
		phase: ContainerTerminated, exit: &ExitStatus{ExitCode: -1, Reason: ReasonUnknown}}
	c.restoreRun(sc.Run) // what was saved; a live init below overrides it
	s.containers[sc.Spec.Name] = c
	s.order = append(s.order, sc.Spec.Name)
	if sc.Run != nil && sc.Run.Path == StartFast {
		s.attachFast(c, sc.Run)
		return
	}
	lc, err := libcontainer.Load(filepath.Join(s.dir, "libct"), sc.Spec.Name)
	if err != nil {
		return
	}
	c.libct = lc
	if s.cg != nil && s.cg.pod != nil {
		c.cg, _ = s.cg.pod.Container(sc.Spec.Name)
	}
	done := make(chan struct{})
	c.done = done
	st, err := lc.State()
	status, _ := lc.Status()
	if err != nil || (status != libcontainer.Running && status != libcontainer.Created) {
		c.exitFromGuard(st, sc.Run)
		close(done)
		return
	}
	ref, err := attachProc(st.InitProcessPid, st.InitProcessStartTime)
	if err != nil {
		c.exitFromGuard(st, sc.Run)
		close(done)
		return
	}
	c.startPath = StartLibcontainer
	c.watchAttached(ref, st.Created, status == libcontainer.Created, done)
}

// watchAttached takes over a live init found by Load (either start path):
// the run is Running (Waiting when created is set) and its exit is
// recorded by the one exit path.
func (c *container) watchAttached(ref *procRef, created time.Time, waiting bool, done chan struct{}) {
	s := c.sb
	trackedInits.Store(ref.Pid, struct{}{}) // reaped by ref if it became our child
	c.resumeLogs()
	c.pid, c.created, c.exit = ref.Pid, created, nil
	c.phase, c.started = ContainerRunning, runStarted(c.started, created)
	if waiting {
		c.phase, c.started = ContainerWaiting, time.Time{}
	}
	// Kills from here on are this run's (earlier ones are not known).
	oomBase := oomKills(c.cg)
	go func() {
		<-ref.done
		ws, ok := ref.exitStatus() // it had become our child
		ref.release()
		if !ok && s.cfg.Lifetime == OutliveManager {
			var e procExit
			e, ok = procExitWatcher().wait(ref.Pid, time.Second)
			ws = e.Status
		}
		if !ok {
			c.exited(ref.Pid, nil, c.cg, oomBase, done)
			return
		}
		c.exited(ref.Pid, &ws, c.cg, oomBase, done)
	}()
}

// Reconcile scans runDir after a crash or restart of the managing process.
// Sandboxes whose Create or Destroy was interrupted, and leftovers without
// a readable state file, are torn down completely; every other sandbox is
// re-attached with Load and returned. opts are passed to both (the
// Network detaches the pods that are torn down).
func Reconcile(ctx context.Context, runDir string, opts ...LoadOptions) ([]*Sandbox, error) {
	ents, err := os.ReadDir(runDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newErr("reconcile", "", "", runDir, err)
	}
	var live []*Sandbox
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(runDir, e.Name())
		p, err := readState(dir)
		switch {
		case err != nil:
			errs = append(errs, newErr("reconcile", e.Name(), "", dir, removeLeftovers(dir)))
		case p.State == StateCreating || p.State == StateDestroying:
			s := discover(dir, p, mergeLoadOptions(opts))
			_ = s.setState("reconcile", StateDestroying) // allowed from both
			errs = append(errs, s.Destroy(ctx))
		default:
			s, err := Load(runDir, e.Name(), opts...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			live = append(live, s)
		}
	}
	return live, errors.Join(errs...)
}

// removeLeftovers cleans a sandbox directory whose state file is gone
// (teardown removes it last): only mounts and files can remain.
func removeLeftovers(dir string) error {
	var errs []error
	errs = append(errs, unmountVolumes(dir))
	errs = append(errs, unpinAll(dir))
	errs = append(errs, os.RemoveAll(dir))
	return errors.Join(errs...)
}
