//go:build linux

package sandbox

// The fast path's runs beyond their start: signals, removal, the exec
// config, and the state file and Load.

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// signalFast signals a fast container's init. A container never started
// has no process: SIGKILL abandons it and records the exit libcontainer's
// killed init would have (killed by SIGKILL).
func (c *container) signalFast(ctx context.Context, f *fastRun, sig unix.Signal) error {
	c.mu.Lock()
	st, cmd, done, cg, pid, phase := f.state, f.cmd, c.done, c.cg, c.pid, c.phase
	if st == fastCreated && sig == unix.SIGKILL {
		f.state = fastAbandoned
		_ = f.mnt.Close()
	}
	c.mu.Unlock()
	switch {
	case st == fastCreated && sig == unix.SIGKILL:
		ws := syscall.WaitStatus(unix.SIGKILL)
		go c.exited(0, &ws, cg, f.oomBase, done)
		return nil
	case st != fastStarted:
		return nil
	case sig == unix.SIGKILL:
		return killLeaf(ctx, cg)
	}
	if cmd == nil { // re-attached by Load: by pidfd, while the run is live
		if phase == ContainerTerminated {
			return nil
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return nil // gone
		}
		defer unix.Close(fd)
		if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && err != unix.ESRCH {
			return os.NewSyscallError("pidfd_send_signal", err)
		}
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// destroyFast removes what createFast made, once the run is over.
func (c *container) destroyFast(f *fastRun) error {
	c.mu.Lock()
	if f.state == fastCreated {
		f.state = fastAbandoned
	}
	started := f.state == fastStarted
	c.mu.Unlock()
	if f.mnt != nil && !started { // a started run's reaper releases it
		_ = f.mnt.Close()
	}
	m := f.cgm
	if m == nil { // re-attached by Load
		cg := c.leaf()
		if cg == nil {
			return nil
		}
		var err error
		if m, err = manager.New(&cgroups.Cgroup{Path: cg.Path(), Resources: &cgroups.Resources{}}); err != nil {
			return err
		}
	}
	return m.Destroy()
}

// runConfig is the libcontainer config of the current run (exec takes the
// process settings from it); nil when the container has no run.
func (c *container) runConfig() *configs.Config {
	c.mu.Lock()
	lc, f, cg := c.libct, c.fast, c.cg
	var fcfg *configs.Config
	if f != nil {
		fcfg = f.cfg
	}
	c.mu.Unlock()
	switch {
	case lc != nil:
		cfg := lc.Config()
		return &cfg
	case f == nil:
		return nil
	case fcfg != nil:
		return fcfg
	case cg == nil:
		return nil
	}
	cfg, err := libcontainerConfig(ociSpec(&c.spec, c.sb.dir, c.sb.pins, cg.Path()), c.spec.Name)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	f.cfg = cfg
	c.mu.Unlock()
	return cfg
}

// attachFast re-attaches (Load) a run the fast path started, from the
// pid and start time saved in the state file. A run saved as created
// has lost its mount namespace with the manager: it is over.
func (s *Sandbox) attachFast(c *container, r *savedRun) {
	f := &fastRun{state: fastAbandoned}
	c.fast, c.startPath = f, StartFast
	if s.cg != nil && s.cg.pod != nil {
		c.cg, _ = s.cg.pod.Container(c.spec.Name)
	}
	done := make(chan struct{})
	c.done = done
	// A zombie is over too (as libcontainer's status says for its inits).
	if r.Pid == 0 || !procMatches(r.Pid, r.StartTime) {
		c.exitFromGuard(nil, r)
		close(done)
		return
	}
	ref, err := attachProc(r.Pid, r.StartTime)
	if err != nil {
		c.exitFromGuard(nil, r)
		close(done)
		return
	}
	f.state, f.start = fastStarted, r.StartTime
	c.watchAttached(ref, r.Created, false, done)
}

// savedPath records the path of the current run in the state file.
func (c *container) savedPath(r *savedRun) {
	if f := c.fast; f != nil {
		r.Path, r.StartTime = StartFast, f.start
	} else if c.libct != nil {
		r.Path = StartLibcontainer
	}
}

// fastAlive tells List whether a fast run saved as running still runs.
func fastAlive(r *savedRun) bool {
	return r.Path == StartFast && r.Pid > 0 && procMatches(r.Pid, r.StartTime)
}
