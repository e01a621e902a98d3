//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	// Device rules need the devices controller implementation registered.
	_ "github.com/opencontainers/cgroups/devices"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin/seccomp"
	"golang.org/x/sys/unix"
)

// ContainerPhase is the Kubernetes container state.
type ContainerPhase string

// Container phases.
const (
	ContainerWaiting    ContainerPhase = "Waiting"    // created, not started (or backing off)
	ContainerRunning    ContainerPhase = "Running"    // started, not exited
	ContainerTerminated ContainerPhase = "Terminated" // exited
)

// container is one libcontainer container of the sandbox: one run of its
// init. Running it again is the caller's business (remove, create again
// with the next Attempt).
type container struct {
	sb    *Sandbox
	spec  ContainerSpec
	added bool // fully created and listed in sb.order (guarded by sb.mu)

	// startMu is held by start from the exec of the user process until
	// the container is marked Running; the reaper takes it before
	// recording an exit, so a process that exits at once is never marked
	// Running after its exit (and Started precedes Exited).
	startMu sync.Mutex

	mu         sync.Mutex
	libct      *libcontainer.Container
	cg         cgroup.Cgroup // the container's leaf in the pod cgroup
	proc       *libcontainer.Process
	phase      ContainerPhase
	pid        int
	created    time.Time
	started    time.Time
	exit       *ExitStatus
	killedHard bool          // SIGKILLed at the end of a grace period
	done       chan struct{} // closed when the init is reaped

	execMu  sync.Mutex  // guards execTgt and its refs
	execTgt *execTarget // cached for execs into the current init
	// execFilter is the init's seccomp profile compiled for Exec, from
	// execFilterOf (guarded by execMu; seccomp_linux.go).
	execFilter   *seccomp.Filter
	execFilterOf *configs.Seccomp

	// fast is the current run when the fast path made it (faststart_linux.go);
	// startPath is the path that did, pathReason why not the fast one.
	fast       *fastRun
	startPath  StartPath
	pathReason string

	logs  *logSink    // the log file and its copiers (guarded by mu); see logs_linux.go
	stdin *stdinPipe  // the current run's stdin (guarded by mu); see stdin_linux.go
	tty   *ttyConsole // the current run's terminal (guarded by mu); see tty_linux.go
}

func (c *container) libctRoot() string { return filepath.Join(c.sb.dir, "libct") }
func (c *container) logPath() string {
	if c.spec.LogPath != "" {
		return c.spec.LogPath
	}
	return filepath.Join(c.sb.dir, "logs", c.spec.Name+".log")
}

// create builds the libcontainer container and spawns its init, which
// waits on the exec fifo: namespaces, mounts, cgroup and rootfs are all set
// up, only the user process has not been exec'd yet.
func (c *container) create(ctx context.Context) (retErr error) {
	sb := c.sb
	defer func() {
		if retErr != nil { // runs last: after libcontainer's Destroy below
			reapStrays()
		}
	}()
	if !c.spec.ReadOnlyRootfs { // else missing ones go in a skeleton (mountpoints_linux.go)
		ensureEtcMountpoints(c.spec.Rootfs)
	}
	planned := c.spec // the plan is this create's, not c.spec's (read under c.mu)
	if err := sb.prepareMounts(&planned); err != nil {
		return err
	}
	defer planned.plan.releaseAfter(&retErr)
	spec := ociSpec(&planned, sb.dir, sb.pins, sb.cg.containerPath(c.spec.Name))
	cfg, err := libcontainerConfig(spec, c.spec.Name)
	if err != nil {
		return err
	}
	if sb.cfg.DieWithParent {
		cfg.ParentDeathSignal = int(unix.SIGKILL)
	}
	reason := fastReason(&c.spec, spec, cfg)
	c.mu.Lock()
	c.startPath, c.pathReason = StartLibcontainer, reason
	if reason == "" {
		c.startPath = StartFast
	}
	c.mu.Unlock()
	if reason == "" {
		return c.createFast(ctx, spec, cfg) // the leaf is made meanwhile
	}
	cg, err := sb.cg.newContainer(ctx, c.spec.Name, c.spec.Resources)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = sb.cg.removeContainer(ctx, c.spec.Name)
		}
	}()
	lc, err := libcontainer.Create(c.libctRoot(), c.spec.Name, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = lc.Destroy()
		}
	}()
	p, pid, err := c.startInit(lc)
	if err != nil {
		return err
	}
	// The OOM count before the user process runs (the init still waits on
	// the exec fifo): only kills after this point are this attempt's.
	oomBase := oomKills(cg)
	done := make(chan struct{})
	c.mu.Lock()
	c.libct, c.cg, c.proc, c.pid, c.done = lc, cg, p, pid, done
	c.created = time.Now()
	c.mu.Unlock()
	// Reap concurrently: the init is our child (CLONE_PARENT); nobody may
	// block on anything that needs it reaped first.
	go c.reap(p, pid, cg, oomBase, done)
	if sb.cfg.Lifetime == OutliveManager {
		guardWatch(sb.dir, c.spec.Name, pid)
	}
	return nil
}

// startInit starts the init of lc (as the spec's user, with its output
// wired) and tracks its pid as one of ours until it is reaped.
func (c *container) startInit(lc *libcontainer.Container) (*libcontainer.Process, int, error) {
	stdout, stderr, err := c.outputs()
	if err != nil {
		return nil, 0, err
	}
	defer c.closeLog(stdout, stderr) // the child has its own copies
	var groups []int
	for _, g := range c.spec.AdditionalGIDs {
		groups = append(groups, int(g))
	}
	p := &libcontainer.Process{
		Args: c.spec.Args, Env: c.spec.env(), Cwd: c.spec.cwd(),
		UID: int(c.spec.UID), GID: int(c.spec.GID), AdditionalGroups: groups,
		Stdout: stdout, Stderr: stderr, Init: true,
	}
	stdinDone, err := c.wireStdin(p) // ContainerSpec.Stdin: stdin_linux.go
	if err != nil {
		return nil, 0, err
	}
	spawnMu.RLock()
	defer spawnMu.RUnlock()
	err = lc.Start(p)
	if derr := stdinDone(err == nil); err == nil && derr != nil {
		err = derr // the terminal was not received: create's rollback kills the init
	}
	if err != nil {
		return nil, 0, err
	}
	pid, _ := p.Pid()
	trackedInits.Store(pid, struct{}{})
	return p, pid, nil
}

// outputs returns the init's stdout and stderr: the caller's files where
// the spec has them, else the container's log file (opened only if one of
// the two needs it).
func (c *container) outputs() (stdout, stderr *os.File, err error) {
	stdout, stderr = c.spec.Stdout, c.spec.Stderr
	if stdout != nil && stderr != nil || c.spec.TTY { // a terminal: tty_linux.go
		return stdout, stderr, nil
	}
	// Pipes copied into the log file (ReopenContainerLog): logs_linux.go.
	out, errw, err := c.logPipes(stdout == nil, stderr == nil)
	if err != nil {
		return nil, nil, err
	}
	if stdout == nil {
		stdout = out
	}
	if stderr == nil {
		stderr = errw
	}
	return stdout, stderr, nil
}

// closeLog closes the log pipes outputs opened (never the caller's files).
func (c *container) closeLog(stdout, stderr *os.File) {
	if stdout != c.spec.Stdout {
		_ = stdout.Close()
	}
	if stderr != c.spec.Stderr && stderr != stdout {
		_ = stderr.Close()
	}
}

// start lets the created init exec the user process.
func (c *container) start() error {
	c.startMu.Lock()
	defer c.startMu.Unlock()
	c.mu.Lock()
	lc, f, phase := c.libct, c.fast, c.phase
	c.mu.Unlock()
	if (lc == nil && f == nil) || !containerCanMove(phase, ContainerRunning) {
		return fmt.Errorf("%w: container %s", ErrInvalidState, phase)
	}
	if f != nil {
		if err := c.startFast(f); err != nil {
			return err
		}
	} else if err := lc.Exec(); err != nil {
		return err
	}
	c.mu.Lock()
	err := c.setPhase(ContainerRunning)
	c.started = time.Now()
	attempt, pid := c.spec.Attempt, c.pid
	c.mu.Unlock()
	if err != nil { // unreachable: startMu keeps the reaper out
		return err
	}
	c.sb.events.emit(Event{Type: EventContainerStarted, Sandbox: c.sb.cfg.ID, Container: c.spec.Name, Pid: pid, Attempt: attempt})
	return nil
}

// reap waits for the init this process started (its child) and records
// its exit.
func (c *container) reap(p *libcontainer.Process, pid int, cg cgroup.Cgroup, oomBase uint64, done chan struct{}) {
	ps, _ := p.Wait()
	var ws *syscall.WaitStatus
	if ps != nil {
		w := ps.Sys().(syscall.WaitStatus)
		ws = &w
	}
	c.exited(pid, ws, cg, oomBase, done)
}

// exited records the end of the init's run: the one path for the reaper
// of an init this process started (reap) and for the watcher of one Load
// re-attached (attachContainer). ws is nil when the exit status could not
// be collected (the init was not our child): the exit is then recorded as
// ReasonUnknown. It marks the container Terminated, closes done, emits
// ContainerExited and saves the state.
func (c *container) exited(pid int, ws *syscall.WaitStatus, cg cgroup.Cgroup, oomBase uint64, done chan struct{}) {
	trackedInits.Delete(pid)
	c.dropExecTarget()
	es := &ExitStatus{ExitCode: -1, Reason: ReasonUnknown, Finished: time.Now()}
	if ws != nil {
		es = exitStatusOf(*ws, es.Finished)
	}
	// A barrier: a start in flight holds startMu until it has marked the
	// container Running.
	c.startMu.Lock()
	c.startMu.Unlock() //lint:ignore SA2001 the barrier above

	// Read after the init is reaped and before anything can remove the
	// cgroup (destroy waits for done). The kernel counts oom_kill before it
	// sends the SIGKILL (mm/oom_kill.c __oom_kill_process), so a kill that
	// caused this exit is always visible here: no polling, no race.
	if oomKills(cg) > oomBase {
		es.Reason = ReasonOOMKilled
	}
	if c.sb.cfg.SharePID || c.sb.cfg.HostPID {
		// Leftovers of the container live on in the shared (or the host's)
		// PID namespace (with a private one the kernel killed them with
		// the init). No
		// caller to take a deadline from: bounded here.
		ctx, cancel := context.WithTimeout(context.Background(), reaperKillTimeout)
		_ = killLeaf(ctx, cg)
		cancel()
	}
	c.awaitLogs() // the output before the exit is in the log file
	c.mu.Lock()
	if c.killedHard && es.Reason != ReasonOOMKilled {
		es.Reason = ReasonKilledAfterGrace
	}
	c.exit = es
	_ = c.setPhase(ContainerTerminated) // allowed from Waiting and Running
	c.mu.Unlock()
	close(done)
	// A waiter (Wait, a reaper of the CRI) was readied on this P: let it
	// run before the event and the state save below (~0.07 ms).
	runtime.Gosched()
	c.sb.events.emit(Event{Type: EventContainerExited, Sandbox: c.sb.cfg.ID, Container: c.spec.Name, Exit: es, Pid: pid, Attempt: c.spec.Attempt})
	c.sb.containerExited(c)
}

// reaperKillTimeout bounds the reaper's kill of a shared-PID container's
// leftovers: the reaper runs for no caller whose context could bound it.
const reaperKillTimeout = 10 * time.Second

// exitStatusOf turns a wait status into the Kubernetes terms: exit code
// (128+N when killed by signal N) and reason Completed or Error.
func exitStatusOf(ws syscall.WaitStatus, finished time.Time) *ExitStatus {
	es := &ExitStatus{Finished: finished, Reason: ReasonCompleted}
	switch {
	case ws.Signaled():
		es.Signal = ws.Signal()
		es.ExitCode = 128 + int(es.Signal)
		es.Reason = ReasonError
	default:
		es.ExitCode = ws.ExitStatus()
		if es.ExitCode != 0 {
			es.Reason = ReasonError
		}
	}
	return es
}

// oomKills reads how many processes the kernel OOM killer has killed in
// the container's leaf (v1 memory.oom_control, v2 memory.events.local);
// 0 when it cannot be read. One file, not Stats: it is read twice per run
// of every container, on the create and exit paths.
func oomKills(cg cgroup.Cgroup) uint64 {
	if cg == nil {
		return 0
	}
	n, err := cg.OOMKills()
	if err != nil {
		return 0
	}
	return n
}

// signal sends sig to the container init; SIGKILL kills the whole
// container cgroup (waiting, within ctx, until it is empty).
func (c *container) signal(ctx context.Context, sig unix.Signal) error {
	c.mu.Lock()
	lc, f, phase := c.libct, c.fast, c.phase
	if sig == unix.SIGKILL && phase == ContainerRunning {
		c.killedHard = true
	}
	c.mu.Unlock()
	if (lc == nil && f == nil) || phase == ContainerTerminated {
		return nil
	}
	if f != nil {
		return c.signalFast(ctx, f, sig)
	}
	if sig == unix.SIGKILL {
		return killLeaf(ctx, c.leaf())
	}
	err := lc.Signal(sig)
	if errors.Is(err, libcontainer.ErrNotRunning) {
		return nil
	}
	return err
}

func (c *container) leaf() cgroup.Cgroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cg
}

// killLeaf SIGKILLs every process in a container's cgroup leaf and waits
// (within ctx) until it is empty.
func killLeaf(ctx context.Context, cg cgroup.Cgroup) error {
	if cg == nil {
		return nil
	}
	if err := cg.KillAll(ctx); err != nil && !errors.Is(err, cgroup.ErrNotExist) {
		return err
	}
	return nil
}

// destroy kills the container if needed, waits for the reaper and removes
// the libcontainer state and cgroup, within ctx. Safe to call repeatedly.
func (c *container) destroy(ctx context.Context) error {
	c.mu.Lock()
	lc, f, cg, done := c.libct, c.fast, c.cg, c.done
	c.mu.Unlock()
	if lc == nil && f == nil && cg == nil {
		return nil
	}
	_ = killLeaf(ctx, cg)
	if f != nil {
		_ = c.signalFast(ctx, f, unix.SIGKILL) // a run never started
	}
	if done != nil && !isClosed(done) {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("container %s: init not reaped: %w", c.spec.Name, ctx.Err())
		}
	}
	c.dropExecTarget()
	c.closeStdin()
	c.stopLogs()
	var errs []error
	if lc != nil {
		errs = append(errs, lc.Destroy())
	}
	if f != nil {
		errs = append(errs, c.destroyFast(f))
	}
	errs = append(errs, c.sb.cg.removeContainer(ctx, c.spec.Name))
	c.mu.Lock()
	c.libct, c.fast, c.cg = nil, nil, nil
	c.mu.Unlock()
	return errors.Join(errs...)
}

// isClosed reports whether ch is closed (a select picks at random among
// ready cases: an ended ctx must not win over a run already reaped).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
