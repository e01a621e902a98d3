//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/nsjoin/seccomp"
	"golang.org/x/sys/unix"
)

// StartPath says how a container's process is started (ContainerSpec.
// StartPath, reported by ContainerStatus).
type StartPath string

const (
	// StartFast (also the zero value) starts the process with no runtime
	// in between: the mount namespace is built at create by a throwaway
	// thread of the manager, and the process is forked into it at start
	// by nsjoin.Command. Where it does not apply (see fastReason) the
	// container is started by libcontainer instead, and
	// ContainerStatus.StartPathReason says why.
	StartFast StartPath = "fast"
	// StartLibcontainer starts the process through runc's libcontainer
	// (its init, re-executed from this binary, waits on an exec fifo).
	StartLibcontainer StartPath = "libcontainer"
)

func (p StartPath) valid() bool { return p == "" || p == StartFast || p == StartLibcontainer }

// fastSeccomp, when set, puts the filter of an OCI seccomp section into
// the Security the fast path starts the init with (the seccomp compiler's
// hook, wired at merge: nsjoin applies it on the forking thread, after
// no_new_privs, like an exec's). While it is nil, a spec with
// Linux.Seccomp is started by libcontainer.
var fastSeccomp = func(profile *specs.LinuxSeccomp, sec *nsjoin.Security) error {
	f, err := seccomp.Compile(profile)
	if err != nil {
		return fmt.Errorf("%w: seccomp profile: %w", ErrInvalidConfig, err)
	}
	sec.Seccomp = f
	return nil
}

// fastState is where a fast container's run is (guarded by container.mu).
type fastState int

const (
	fastCreated   fastState = iota // mount namespace built, no process
	fastStarting                   // start in flight
	fastStarted                    // the process runs (or ran)
	fastAbandoned                  // killed or removed before it started
)

// fastRun is a container run of the fast path.
type fastRun struct {
	cfg     *configs.Config // what libcontainer would have got
	seccomp *specs.LinuxSeccomp
	plan    *rootPlan
	mnt     *nsjoin.Handle // the mount namespace, until the init holds it
	cgm     fastCgroups
	v2dir   string   // CLONE_INTO_CGROUP (v2, or the hybrid unified dir)
	v1dirs  []string // joined by the forking thread (tasks)
	oomBase uint64
	state   fastState
	cmd     *nsjoin.Cmd
	start   uint64 // the init's start time, saved for Load
}

// createFast builds a fast container: its cgroups (podkit's leaf with its
// limits; the device rules and the hierarchies the leaf does not manage,
// as libcontainer makes them: newFastCgroups) and, meanwhile, its mount
// namespace; no process yet. On error nothing is left.
func (c *container) createFast(ctx context.Context, spec *specs.Spec, cfg *configs.Config) error {
	f := &fastRun{cfg: cfg, seccomp: spec.Linux.Seccomp}
	f.plan = &rootPlan{cfg: cfg, rootfs: cfg.Rootfs, cwd: c.spec.cwd(), joins: map[int]string{}}
	cgPlan := fastCgroupsPlan{pod: c.sb.cg, name: c.spec.Name, limits: c.spec.Resources, cfg: cfg.Cgroups,
		propagation: f.plan.rootPropagation()}
	for _, m := range cfg.Mounts {
		if isCgroupMount(m) {
			cgPlan.mount, f.plan.cgroupMount = m, m
		}
	}
	f.plan.cgroups = newPendingCgroups()
	flags := map[specs.LinuxNamespaceType]int{specs.NetworkNamespace: unix.CLONE_NEWNET,
		specs.IPCNamespace: unix.CLONE_NEWIPC, specs.UTSNamespace: unix.CLONE_NEWUTS}
	for _, ns := range spec.Linux.Namespaces {
		if fl, ok := flags[ns.Type]; ok {
			f.plan.joins[fl] = ns.Path
		} else if ns.Type == specs.PIDNamespace {
			f.plan.pidns = ns.Path
		}
	}
	// The build thread mounts while this goroutine makes the cgroups: the
	// kernel's cgroup mkdirs (cgroup_mutex) and its mounts (namespace_sem)
	// do not wait for each other, and this goroutine already has a thread.
	built := startBuildRoot(f.plan)
	f.plan.cgroups.make(ctx, cgPlan)
	mnt, err := built()
	cg, m, err := f.plan.cgroups.settle(ctx, cgPlan, err)
	if err != nil {
		if mnt != nil {
			mnt.Close()
		}
		return err
	}
	f.mnt, f.cgm = mnt, m
	f.v2dir, f.v1dirs = splitCgroupDirs(m.GetPaths())
	f.oomBase = oomKills(cg)
	c.mu.Lock()
	c.fast, c.cg, c.done, c.created = f, cg, make(chan struct{}), time.Now()
	c.mu.Unlock()
	return nil
}

// splitCgroupDirs sorts a cgroup manager's paths into the v2 directory
// (CLONE_INTO_CGROUP) and the distinct v1 ones (joined by the thread).
func splitCgroupDirs(paths map[string]string) (v2 string, v1 []string) {
	for ctrl, dir := range paths {
		switch {
		case ctrl == "":
			v2 = dir
		case !slices.Contains(v1, dir):
			v1 = append(v1, dir)
		}
	}
	return v2, v1
}

// startFast forks the container's process into its namespaces and
// cgroups (the CRI's StartContainer); the caller holds startMu.
func (c *container) startFast(f *fastRun) error {
	c.mu.Lock()
	if f.state != fastCreated {
		c.mu.Unlock()
		return fmt.Errorf("%w: container %s", ErrInvalidState, c.phase)
	}
	f.state = fastStarting
	c.mu.Unlock()
	cmd, err := c.spawnFast(f)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		f.state = fastCreated
		return err
	}
	pid := cmd.Process.Pid
	f.cmd, f.state, c.pid = cmd, fastStarted, pid
	f.start, _ = procStartTime(pid)
	trackedInits.Store(pid, struct{}{})
	release := f.holdMountNS()
	go c.reapFast(cmd, pid, c.cg, f.oomBase, c.done, release)
	if c.sb.cfg.Lifetime == OutliveManager {
		guardWatch(c.sb.dir, c.spec.Name, pid)
	}
	return nil
}

// spawnFast starts the process: a throwaway thread joins the pod's
// namespaces and the container's mount namespace and cgroups, takes the
// container's capabilities and no_new_privs, and forks; the child is
// born in the container's cgroups, switches user and execs. With a PID
// namespace of its own the process is its first one, held at its exec
// until its /proc is mounted.
func (c *container) spawnFast(f *fastRun) (*nsjoin.Cmd, error) {
	argv0, err := c.spec.resolveCommand()
	if err != nil {
		return nil, err
	}
	set, err := f.namespaces()
	if err != nil {
		return nil, err
	}
	defer set.Close()
	stdout, stderr, err := c.outputs()
	if err != nil {
		return nil, err
	}
	defer c.closeLog(stdout, stderr)
	var lp libcontainer.Process // only to carry the stdin FIFO
	stdinDone, err := c.wireStdin(&lp)
	if err != nil {
		return nil, err
	}
	cmd := nsjoin.Command(set, argv0, c.spec.Args[1:]...)
	cmd.Args[0] = c.spec.Args[0]
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = withHome(c.spec.env(), f.cfg.Rootfs, c.spec.UID), c.spec.cwd(), stdout, stderr
	if lp.Stdin != nil {
		cmd.Stdin = lp.Stdin
	}
	// A session of its own, as libcontainer's init makes.
	attr := &syscall.SysProcAttr{Setsid: true}
	if f.cfg.ParentDeathSignal != 0 {
		attr.Pdeathsig = syscall.Signal(f.cfg.ParentDeathSignal)
	}
	cmd.SysProcAttr = attr
	cmd.IntoCgroup = f.v2dir
	own := f.plan.procLater()
	started := false
	if own {
		pm, err := startProcMounter(f.mnt, f.cfg, f.v2dir)
		if err != nil {
			stdinDone(false)
			return nil, err
		}
		defer func() { pm.finish(started) }()
		cmd.AtExecStop = pm.mount
	}
	// On the forking thread, with the manager's privileges: the v1
	// cgroups, and a new PID namespace for its children (CLONE_NEWPID in
	// the clone would need CAP_SYS_ADMIN, which Security has dropped).
	cmd.BeforeFork = func() error {
		if err := joinV1(f.v1dirs); err != nil {
			return err
		}
		if own {
			return os.NewSyscallError("unshare pid", unix.Unshare(unix.CLONE_NEWPID))
		}
		return nil
	}
	if f.cfg.ParentDeathSignal != 0 {
		defer f.parkedThreadLeaves(cmd)()
	}
	cmd.Security = execSecurity(&c.spec, f.cfg)
	if f.seccomp != nil {
		if err := fastSeccomp(f.seccomp, cmd.Security); err != nil {
			stdinDone(false)
			return nil, err
		}
	}
	err = cmd.Start()
	started = err == nil
	stdinDone(started)
	return cmd, err
}

// parkedThreadLeaves prepares a start with a parent-death signal, whose
// forking thread stays parked as long as the process runs: the signal is
// set at the init's exec stop (always held, nsjoin), and the thread goes
// back to the manager's v1 cgroups after the fork, or it would be frozen
// and killed (with the whole manager) with the container's cgroup.
func (f *fastRun) parkedThreadLeaves(cmd *nsjoin.Cmd) (closeTasks func()) {
	if cmd.AtExecStop == nil {
		cmd.AtExecStop = func(int) error { return nil }
	}
	// The way back is opened on the forking thread before it joins,
	// still in the manager's mount namespace: the thread cannot leave the
	// container's once Security dropped CAP_SYS_ADMIN, and cgroup v1
	// checks the opener's credentials.
	var home *cgroup.ThreadHome
	join := cmd.BeforeFork
	cmd.BeforeFork = func() error {
		var err error
		if home, err = cgroup.SaveThreadHomeDirs(f.v1dirs); err != nil {
			return fmt.Errorf("the manager's cgroups: %w", err)
		}
		return join()
	}
	cmd.AfterStart = func() { _ = home.Return() }
	return func() {
		if home != nil {
			home.Close()
		}
	}
}

// namespaces opens what the process joins: the pod's pins and the
// container's mount namespace.
func (f *fastRun) namespaces() (*nsjoin.Set, error) {
	set, _ := nsjoin.NewSet()
	add := func(h *nsjoin.Handle, err error) error {
		if err == nil {
			err = set.Add(h)
		}
		return err
	}
	kinds := map[int]nsjoin.Kind{unix.CLONE_NEWNET: nsjoin.Net, unix.CLONE_NEWIPC: nsjoin.IPC, unix.CLONE_NEWUTS: nsjoin.UTS}
	for fl, pin := range f.plan.joins {
		if err := add(nsjoin.Open(pin, kinds[fl])); err != nil {
			set.Close()
			return nil, err
		}
	}
	if f.plan.pidns != "" {
		if err := add(nsjoin.Open(f.plan.pidns, nsjoin.PID)); err != nil {
			set.Close()
			return nil, err
		}
	}
	if err := add(f.mnt.Dup()); err != nil {
		set.Close()
		return nil, err
	}
	return set, nil
}

// withHome adds HOME, as libcontainer does when the environment has none:
// the user's home in the rootfs' /etc/passwd, else "/".
func withHome(env []string, rootfs string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if p, err := securejoin.SecureJoin(rootfs, "/etc/passwd"); err == nil {
		if b, err := os.ReadFile(p); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				f := strings.Split(l, ":")
				if len(f) >= 7 && f[2] == strconv.FormatUint(uint64(uid), 10) && f[5] != "" {
					home = f[5]
					break
				}
			}
		}
	}
	return append(slices.Clip(env), "HOME="+home)
}

// joinV1 moves the calling (forking) thread into each v1 directory.
func joinV1(dirs []string) error {
	for _, d := range dirs {
		if err := os.WriteFile(d+"/tasks", []byte("0"), 0); err != nil {
			return fmt.Errorf("join container cgroup: %w", err)
		}
	}
	return nil
}

// mntHold is how long the manager keeps its handle on a started
// container's mount namespace. An init that exits within it is not the
// namespace's last holder, so its exit (and the exit's notice) does not
// wait for the namespace's teardown (every mount undone, an RCU grace
// period: ~0.15 ms for a small rootfs), which runs on the reaper once the
// exit is recorded. After it the handle is closed anyway, so that running
// containers do not grow the manager's descriptor table, which every fork
// copies.
const mntHold = time.Second

// holdMountNS keeps f's mount namespace handle for mntHold at most and
// returns what releases it at once (the reaper, after the exit).
func (f *fastRun) holdMountNS() (release func()) {
	t := time.AfterFunc(mntHold, func() { _ = f.mnt.Close() })
	return func() {
		t.Stop()
		_ = f.mnt.Close()
	}
}

// reapFast waits for the init (our child), records its exit, and then
// releases the mount namespace.
func (c *container) reapFast(cmd *nsjoin.Cmd, pid int, cg cgroup.Cgroup, oomBase uint64, done chan struct{}, release func()) {
	awaitPidfd(cmd.PidFD()) // Process's, closed by Wait
	_ = cmd.Wait()
	var ws *syscall.WaitStatus
	if ps := cmd.ProcessState; ps != nil {
		w := ps.Sys().(syscall.WaitStatus)
		ws = &w
	}
	c.exited(pid, ws, cg, oomBase, done)
	release()
}
