//go:build linux

package pause

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/pause/internal/cli"
)

// OrphanPolicy says when a pause in init mode (Options.Args set) exits.
type OrphanPolicy int

const (
	// ExitWithCommand: exit as soon as the command exits (the default).
	ExitWithCommand OrphanPolicy = iota
	// WaitForDescendants: after the command exits, keep reaping and exit
	// only when every descendant is gone.
	WaitForDescendants
)

// NamespaceFlags are the Cloneflags Start accepts.
const NamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP |
	unix.CLONE_NEWTIME

// PodNamespaces is the usual set for a pod's pause: its own network, IPC, UTS
// and PID namespaces (the pause becomes PID 1).
const PodNamespaces = unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWPID

// Options configure Start. The zero value starts a pause found by Find in the
// caller's namespaces with stdio on /dev/null.
type Options struct {
	// Path of the podkit-pause binary; empty means Find().
	Path string
	// Cloneflags: the CLONE_NEW* namespaces to create (see NamespaceFlags).
	Cloneflags uintptr
	// UseCgroupFD starts the pause directly inside the cgroup v2 directory
	// open as CgroupFD (clone3 CLONE_INTO_CGROUP): no window where it runs
	// in the caller's cgroup.
	UseCgroupFD bool
	CgroupFD    int
	// DieWithParent: the kernel SIGKILLs the pause when the caller dies.
	// The fork happens on a dedicated, locked OS thread that lives as long as
	// the process, because the parent-death signal fires when the forking
	// *thread* exits.
	DieWithParent bool
	// DieWithThread: the kernel SIGKILLs the pause when the calling OS
	// thread exits. The caller runs on a goroutine locked to its thread
	// (runtime.LockOSThread) and keeps that thread alive for as long as
	// the pause must live: a runtime forks from a thread that joined the
	// pause's cgroup and namespaces, moves it back, then parks it. Unlike
	// DieWithParent the thread is the caller's, so per-thread setup done
	// before the fork (cgroup.JoinThread) is inherited by the pause.
	DieWithThread bool
	// BeforeFork, if set, runs on the OS thread that forks the pause, right
	// before the fork, for per-thread setup the pause must inherit: for
	// example cgroup.JoinThread, so that on cgroup v1 the pause is born in
	// its cgroup leaf instead of being migrated there by pid (which waits
	// for an RCU grace period). That thread is a fresh locked one, thrown
	// away afterwards, so whatever BeforeFork changes on it goes with it.
	// An error aborts Start before anything is forked. Not allowed with
	// DieWithParent, whose forks share one long-lived thread.
	BeforeFork func() error
	// Stdin, Stdout and Stderr of the pause (and of its command); nil means
	// /dev/null. The pause itself writes to stderr only when it is not PID 1
	// (one line) or when something fails.
	Stdin, Stdout, Stderr *os.File
	// Env of the pause; nil means a minimal tuned environment in pause mode
	// and os.Environ() in init mode.
	Env []string
	// Args puts the pause in init mode: Args[0] (looked up in the pause's
	// $PATH) is run with Args as its argv.
	Args []string
	// Orphans is the init-mode orphan policy.
	Orphans OrphanPolicy
	// Events, if set, receives one JSON object per line for each process
	// reaped, the command's exit and each signal acted on (forwarded in
	// init mode; SIGTERM/SIGINT in pause mode, which ignores the others).
	Events *os.File
	// DropEvents makes the pause never block on Events: an event that does
	// not fit (the reader is slow or gone and the pipe is full) is dropped.
	// Use it for a FIFO whose reader may go away and come back (a manager
	// that restarts), where a blocked write would stop the pause reaping.
	DropEvents bool
}

// pauseModeEnv keeps the Go runtime of an idle pause small: one P (fewer
// threads and per-P caches) and no GC pacing. The bare pause has no runtime
// and ignores it; it matters where pause mode runs the Go program (a build
// without BareLinkFlag). It is not used in init mode, where the command
// would inherit it. (GODEBUG=sbrk=1 saves another ~150 kB but crashed the
// runtime under a 10,000-orphan burst; see BENCHMARKS.md.)
var pauseModeEnv = []string{"GOMAXPROCS=1", "GOGC=off"}

func (o *Options) validate() error {
	bad := func(field, value, why string) error {
		return &Error{Op: "options", Path: o.Path,
			Err: errors.Join(ErrInvalidOptions, errors.New(field+"="+value+": "+why))}
	}
	switch {
	case o.Cloneflags&^uintptr(NamespaceFlags) != 0:
		return bad("Cloneflags", "0x"+strconv.FormatUint(uint64(o.Cloneflags), 16), "only CLONE_NEW* flags are allowed")
	case o.UseCgroupFD && o.CgroupFD < 0:
		return bad("CgroupFD", strconv.Itoa(o.CgroupFD), "UseCgroupFD needs an open cgroup directory fd")
	case o.Orphans != ExitWithCommand && o.Orphans != WaitForDescendants:
		return bad("Orphans", strconv.Itoa(int(o.Orphans)), "unknown policy")
	case o.Orphans != ExitWithCommand && len(o.Args) == 0:
		return bad("Orphans", "WaitForDescendants", "only valid in init mode (Args set)")
	case o.DropEvents && o.Events == nil:
		return bad("DropEvents", "true", "needs Events")
	case o.BeforeFork != nil && o.DieWithParent:
		return bad("BeforeFork", "set", "not allowed with DieWithParent (the spawner thread is shared)")
	case o.DieWithThread && (o.DieWithParent || o.BeforeFork != nil):
		return bad("DieWithThread", "true", "not with DieWithParent or BeforeFork (those fork on another thread)")
	case len(o.Args) > 0 && o.Args[0] == "":
		return bad("Args[0]", `""`, "empty command")
	}
	return nil
}

// argv builds the command line: fd 3 is the ready pipe, fd 4 the events fd.
func (o *Options) argv(path string) []string {
	c := cli.Config{ReadyFD: 3, EventsFD: -1, Command: o.Args}
	if o.Events != nil {
		c.EventsFD, c.EventsDrop = 4, o.DropEvents
	}
	if o.Orphans == WaitForDescendants {
		c.Orphans = cli.OrphansWait
	}
	return append([]string{path}, c.Args()...)
}

func (o *Options) env() []string {
	switch {
	case o.Env != nil:
		return o.Env
	case len(o.Args) > 0:
		return os.Environ()
	}
	return pauseModeEnv
}
