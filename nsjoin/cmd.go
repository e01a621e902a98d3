//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Cmd starts a process inside a set of namespaces. Its fields up to
// SysProcAttr mean what exec.Cmd's do (Path, Args, Env, Dir, Stdin,
// Stdout, Stderr, ExtraFiles, SysProcAttr with Credential, Setsid,
// Pdeathsig, Cloneflags, ...); Process and ProcessState are set by Start
// and Wait. Cmd is not an exec.Cmd and exposes none: every way to start the
// process (Start, Run, Output, CombinedOutput) goes through the
// namespaces. Start does not modify the Cmd's fields (it works on a copy of
// them and of SysProcAttr).
//
// How the namespaces are entered:
//
//   - net, ipc, uts, cgroup, pid: the process is forked from a fresh
//     goroutine locked to its OS thread and setns'd into them (a child
//     inherits the namespaces of the thread that forks it; for pid,
//     pid_for_children). The thread is never handed back to the Go
//     scheduler: after the fork it is moved back as far as possible and
//     terminated. (Handing it back after a successful move, as Do does,
//     measured no faster: thread creation is lost in the ~0.6 ms spawn.)
//   - mnt: on that same thread, unshare(CLONE_FS) first (Go threads share
//     their fs_struct, so setns(CLONE_NEWNS) would fail with EINVAL), then
//     setns into the mount namespace; root and working directory become
//     the namespace's root, Dir is resolved inside it. Path must be
//     absolute and is resolved inside the mount namespace too.
//   - user, time: the kernel lets only single-threaded processes join them,
//     so the process is started through nsenter(1) (util-linux), which
//     enters user, mnt and time and then execs Path; the other kinds are
//     still entered on the thread. The Cmd's process is then nsenter
//     itself, replaced by Path via exec (nsenter forks only for --pid,
//     which is never passed). Credential becomes nsenter -S/-G
//     (supplementary groups are refused), Dir becomes --wd.
//
// SysProcAttr.Pdeathsig is delivered when the thread that forked the
// process exits. With namespaces that thread is a throwaway one, so when
// Pdeathsig is set it is kept parked until Wait returns (call Wait). Go's
// fork kills a child with Pdeathsig whose parent is outside its PID
// namespace (getppid() is 0 there), so when the process is held at its
// exec under ptrace (AtExecStop, or Security's stop) the signal is set at
// that stop instead (amd64): a manager that dies between the fork and the
// stop leaves the process without it.
type Cmd struct {
	Path        string
	Args        []string // Args[0] is the program's argv[0]; empty means Path
	Env         []string
	Dir         string
	Stdin       io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
	ExtraFiles  []*os.File
	SysProcAttr *syscall.SysProcAttr

	Process      *os.Process      // set by Start
	ProcessState *os.ProcessState // set by Wait

	// Namespaces is the set to start the process in; nil or empty starts
	// it like exec.Cmd would. The set must stay open until Start returns
	// (for user/time until Wait returns; Start keeps duplicates for that).
	Namespaces *Set

	// IntoCgroup, if not empty, is a cgroup v2 directory the process is
	// born in (clone3 CLONE_INTO_CGROUP): it never runs outside it. cgroup
	// v1 hierarchies are refused with ErrNotCgroup2.
	IntoCgroup string

	// BeforeFork, if set, runs on the forking thread after it entered the
	// namespaces except mnt (so paths resolve as in the caller) and
	// before Security is applied (it runs with the caller's privileges).
	// It may change per-thread state the process must be born with, for
	// example cgroup.JoinThread on cgroup v1: the thread is never handed
	// back. An error aborts Start.
	BeforeFork func() error

	// AfterStart, if set, runs on the forking thread once the process has
	// started (after AtExecStop), before the thread parks (Pdeathsig) or
	// ends: it undoes what BeforeFork changed that must not stay with a
	// parked thread, for example its cgroup v1 membership. It runs with
	// the privileges Security left the thread.
	AfterStart func()

	// Security, if set, is the identity and privilege the process starts
	// with (capabilities, no_new_privs, uid/gid/groups, rlimits); see
	// Security. It is validated by Start before anything else happens
	// (errors wrap ErrInvalidSecurity). It cannot be combined with
	// SysProcAttr.Credential or AmbientCaps, nor with user or time
	// namespaces.
	Security *Security

	// AtExecStop, if set, runs while the process is held at its exec (the
	// new program is loaded, not one of its instructions has run): pid is
	// the process, and it runs on the forking thread, its ptrace tracer,
	// before the rlimits are set. A container runtime mounts there what
	// needs the process to exist (a /proc of its new PID namespace). It
	// requires Security (the hold is Security's stop at exec) and a
	// ptrace the kernel allows (ExecStopRefused is ""): otherwise Start
	// fails with ErrNoExecStop (a tracer of the manager is found only
	// then, when the fork failed). An error kills the process and fails
	// Start.
	AtExecStop func(pid int) error

	ec      *exec.Cmd // what Start runs: built from the fields, never exposed
	lookErr error     // PATH lookup failure from Command
	sec     *secPlan
	freeze  *freezeStop // holds the child before exec where ptrace cannot
	started bool
	dups    *Set          // duplicated handles nsenter opens via /proc/<us>/fd
	park    chan struct{} // closed by Wait: lets a Pdeathsig thread end
	closers []pipeEnd     // pipe ends closed after Start/Wait (see cmdio.go)
	copies  func() error  // waits for an ownfork start's stream copies (ownfork.go)
}

// Command returns a Cmd that runs name with args inside s. Like
// exec.Command, a name without a slash is looked up in PATH of the host;
// when s holds a mount namespace it is not looked up (give an absolute
// path inside that namespace).
func Command(s *Set, name string, args ...string) *Cmd {
	c := &Cmd{Path: name, Args: append([]string{name}, args...), Namespaces: s}
	if s.Get(Mount) == nil {
		ec := exec.Command(name)
		c.Path, c.lookErr = ec.Path, ec.Err
	}
	return c
}

// PidFD returns the pidfd of the started process (Process's own, valid
// until Wait returns), or -1. Signal the process through it, or via
// Process, to be immune to PID reuse. If the caller set SysProcAttr.PidFD,
// that descriptor is the caller's and is returned here but not closed by
// Wait.
func (c *Cmd) PidFD() int {
	if c.SysProcAttr != nil && c.SysProcAttr.PidFD != nil {
		return *c.SysProcAttr.PidFD
	}
	fd := -1
	if c.Process != nil {
		_ = c.Process.WithHandle(func(h uintptr) { fd = int(h) })
	}
	return fd
}

// Start starts the process inside the namespaces.
func (c *Cmd) Start() error {
	if c.started {
		return &Error{Op: "start", Path: c.Path, Err: ErrStarted}
	}
	c.started = true
	c.ec = c.execCmd()
	if err := c.start(); err != nil {
		c.release()
		c.closeAll()
		return err
	}
	c.Process = c.ec.Process
	c.closeAfterStart()
	return nil
}

// start prepares the exec.Cmd and forks it inside the namespaces.
func (c *Cmd) start() (retErr error) {
	thread, viaNsenter := c.splitKinds()
	if c.Namespaces.Get(Mount) != nil && !filepath.IsAbs(c.Path) {
		return &Error{Op: "start", Kind: Mount, Path: c.Path, Err: errors.New("path must be absolute when joining a mount namespace")}
	}
	if err := c.planSecurity(viaNsenter); err != nil {
		return err
	}
	attr := c.ec.SysProcAttr
	if c.sec != nil {
		// The child switches user and groups itself, after the fork.
		attr.Credential, attr.AmbientCaps = c.sec.cred, c.sec.amb
	}
	closeCg, err := c.setupCgroup()
	if err != nil {
		return err
	}
	defer closeCg()
	if c.AtExecStop != nil {
		if c.sec == nil {
			return &Error{Op: "start", Path: c.Path, Err: fmt.Errorf("%w: AtExecStop needs Security", ErrInvalidSecurity)}
		}
		if why := yamaRefused(); why != "" {
			return &Error{Op: "start", Path: c.Path, Err: fmt.Errorf("%w: AtExecStop: %s", ErrNoExecStop, why)}
		}
		attr.Ptrace = true
		defer func() { retErr = explainTraced(retErr) }()
	} else if c.sec.stopAtExec() {
		// Rlimits land while the child is held before its exec: stopped
		// at it under ptrace (rlimitsAtExecStop) or, where ptrace is
		// refused, born frozen (freezeStop).
		why := ptraceRefused()
		switch {
		case why == "":
			attr.Ptrace = true
		case c.sec.seccomp != nil:
			return &Error{Op: "start", Path: c.Path, Err: fmt.Errorf("%w: Seccomp is installed by ptrace, refused here: %s", ErrInvalidSecurity, why)}
		default:
			f, err := newFreezeStop(c.IntoCgroup, why, c.sec.rlimits)
			if err != nil {
				return err
			}
			defer f.close()
			c.freeze = f
			attr.UseCgroupFD, attr.CgroupFD = true, f.fd
		}
	}
	if attr.Ptrace && attr.Pdeathsig != 0 && seccompSupported() == nil {
		// Go's fork would kill a child whose getppid() is not the
		// manager, as it is 0 in another PID namespace: the signal is
		// set at the exec stop instead, by the tracer (the parked
		// forking thread).
		c.sec.deathSig, attr.Pdeathsig = attr.Pdeathsig, 0
	}
	if len(viaNsenter) > 0 {
		if err := c.wrapNsenter(viaNsenter); err != nil {
			return err
		}
	}
	warmPidfdCheck()
	return c.startOnThread(thread)
}

// explainTraced turns the failed fork of an AtExecStop start into
// ErrNoExecStop when the manager is traced: the child, traced by the
// manager's tracer from birth, could not PTRACE_TRACEME.
func explainTraced(err error) error {
	if err == nil || errors.Is(err, ErrNoExecStop) {
		return err
	}
	if why := tracedBy(); why != "" {
		return fmt.Errorf("%w: AtExecStop: %s: %w", ErrNoExecStop, why, err)
	}
	return err
}

// warmPidfdCheck makes the os package run, once and here, its check that
// pidfds work, which forks a child that exits at once. Run first on the
// forking thread it would be that child that became PID 1 of a PID
// namespace BeforeFork made (unshare(CLONE_NEWPID)), leaving the
// namespace dead and the real fork failing with ENOMEM.
var warmPidfdCheck = sync.OnceFunc(func() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Release()
	}
})

// splitKinds separates thread-joinable kinds (plus mnt when no nsenter is
// needed) from the ones nsenter must enter.
func (c *Cmd) splitKinds() (thread, nsenter []Kind) {
	kinds := c.Namespaces.Kinds()
	needNsenter := c.Namespaces.Get(User) != nil || c.Namespaces.Get(Time) != nil
	for _, k := range kinds {
		switch {
		case k.ThreadJoinable():
			thread = append(thread, k)
		case k == Mount && !needNsenter:
			thread = append(thread, k)
		default:
			nsenter = append(nsenter, k)
		}
	}
	return thread, nsenter
}

// setupCgroup opens IntoCgroup for CLONE_INTO_CGROUP.
func (c *Cmd) setupCgroup() (func(), error) {
	if c.IntoCgroup == "" {
		return func() {}, nil
	}
	fd, err := unix.Open(c.IntoCgroup, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "start", Path: c.IntoCgroup, Err: err}
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		unix.Close(fd)
		return nil, &Error{Op: "start", Path: c.IntoCgroup, Err: both(ErrNotCgroup2, err)}
	}
	c.ec.SysProcAttr.UseCgroupFD = true
	c.ec.SysProcAttr.CgroupFD = fd
	return func() { unix.Close(fd) }, nil
}

// startOnThread forks the process from a throwaway thread inside kinds.
func (c *Cmd) startOnThread(kinds []Kind) error {
	if len(kinds) == 0 && c.sec == nil && c.BeforeFork == nil {
		return c.ec.Start()
	}
	ch := make(chan error, 1)
	var park chan struct{}
	if c.ec.SysProcAttr.Pdeathsig != 0 || c.sec != nil && c.sec.deathSig != 0 {
		// Pdeathsig fires when the forking *thread* exits, so that
		// thread must live as long as the process: it parks until Wait.
		park = make(chan struct{})
		c.park = park
	}
	go c.forkThread(kinds, ch, park, nil)
	return <-ch
}

// forkThread runs as its own goroutine, locks it to its OS thread and
// forks from there. The thread is never unlocked: the goroutine exits
// locked and the runtime terminates the thread, once the process no longer
// needs it. The main thread is the exception (the runtime parks it instead
// of ending it), so changes that cannot be undone (Security, BeforeFork)
// are never made on it: the work moves to a goroutine started while the
// main thread is held, which therefore gets another thread.
func (c *Cmd) forkThread(kinds []Kind, ch chan<- error, park chan struct{}, locked chan<- struct{}) {
	runtime.LockOSThread()
	if locked != nil {
		close(locked)
	}
	if (c.sec != nil || c.BeforeFork != nil) && unix.Gettid() == unix.Getpid() {
		l := make(chan struct{})
		go c.forkThread(kinds, ch, park, l)
		<-l
		runtime.UnlockOSThread() // nothing changed on this thread
		return
	}
	err := c.forkInside(kinds)
	if err == nil && c.AfterStart != nil {
		c.AfterStart()
	}
	ch <- err
	if err == nil && park != nil {
		<-park
	}
}

// forkInside runs on a locked, throwaway thread: it enters the
// namespaces, starts the process and moves the thread back home anyway, as
// far as it can: Go parks a locked main thread instead of ending it, and a
// parked thread must not hold namespaces alive.
func (c *Cmd) forkInside(kinds []Kind) error {
	var joinable []Kind
	var mnt *Handle
	for _, k := range kinds {
		if k == Mount {
			mnt = c.Namespaces.Get(Mount)
		} else {
			joinable = append(joinable, k)
		}
	}
	back, err := enterSet(c.Namespaces, joinable)
	if err != nil {
		return &Error{Op: "start", Path: c.Path, ID: c.Namespaces.String(), Err: err}
	}
	// Fails once Security took CAP_SYS_ADMIN: the thread dies anyway.
	defer leaveSet(back)
	if c.BeforeFork != nil {
		if err := c.BeforeFork(); err != nil {
			return &Error{Op: "start: before fork", Path: c.Path, Err: err}
		}
	}
	if mnt != nil {
		origMnt, err := homeNS(Mount)
		if err != nil {
			return err
		}
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return &Error{Op: "start", Kind: Mount, Err: err}
		}
		err = mnt.use("start", func(fd int) error { return unix.Setns(fd, unix.CLONE_NEWNS) })
		if err != nil {
			return err
		}
		defer unix.Setns(origMnt.fd, unix.CLONE_NEWNS)
	}
	if c.sec != nil {
		return c.startSecure()
	}
	if err := c.startProcess(); err != nil {
		return &Error{Op: "start", Path: c.Path, ID: c.Namespaces.String(), Err: err}
	}
	return nil
}

// startSecure applies Security to the thread, forks with the manager
// non-dumpable until the child has exec'd, and sets the rlimits.
func (c *Cmd) startSecure() error {
	if err := c.sec.applyThread(); err != nil {
		return &Error{Op: "start: security", Path: c.Path, Err: err}
	}
	if err := holdUndumpable(); err != nil {
		return &Error{Op: "start: security", Path: c.Path, Err: err}
	}
	err := c.startProcess() // returns once the child exec'd (or failed to)
	releaseUndumpable()
	var ferr error
	if c.freeze != nil {
		ferr = c.freeze.wait()
	}
	if err != nil {
		return &Error{Op: "start", Path: c.Path, ID: c.Namespaces.String(), Err: err}
	}
	setRlimits := c.sec.applyRlimits
	switch {
	case c.freeze != nil:
		setRlimits = func(int) error { return ferr }
	case c.sec.stopAtExec() || c.AtExecStop != nil:
		setRlimits = func(pid int) error { return c.sec.rlimitsAtExecStop(pid, c.AtExecStop) }
	}
	if err := setRlimits(c.ec.Process.Pid); err != nil {
		_ = c.ec.Process.Kill()
		_ = c.waitExec()
		return &Error{Op: "start: rlimits", Path: c.Path, Pid: c.ec.Process.Pid, Err: err}
	}
	return nil
}
