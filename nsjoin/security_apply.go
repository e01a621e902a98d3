//go:build linux

package nsjoin

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// applyThread gives the calling (locked, throwaway) thread the
// capabilities and no_new_privs the child must inherit. Order matters:
// dropping from the bounding set needs CAP_SETPCAP, which the capset may
// take away; no_new_privs restricts nothing used here but is set last, like
// runc does. The thread keeps uid 0 (see Security).
func (p *secPlan) applyThread() error {
	for c := 0; c <= lastCap(); c++ {
		if p.bnd&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_CAPBSET_DROP", err)
		}
	}
	// The child's setuid away from 0 would clear its permitted set; runc
	// keeps it (the no_new_privs clamp of execve uses it).
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_SET_KEEPCAPS", err)
	}
	eff, prm := p.eff|threadCaps, p.prm|threadCaps
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(prm), Inheritable: uint32(p.inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(prm >> 32), Inheritable: uint32(p.inh >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	if p.noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_SET_NO_NEW_PRIVS", err)
		}
	}
	return nil
}

// applyRlimits sets the rlimits on the started child pid. It runs on the
// forking thread, which is thrown away afterwards. prlimit(2) on another
// process needs CAP_SYS_RESOURCE (which the thread no longer has in its
// effective set, and which a manager may lack altogether) or the caller's
// real uid and gid equal to the target's: when the first try is refused,
// the thread switches its real ids to the child's (setresuid(uid, -1, -1),
// a raw per-thread syscall; effective and saved stay 0, so the thread
// cannot be ptraced by that uid) and tries again. Until the thread exits,
// a few microseconds later, a process of that uid could signal it (and
// SIGKILL kills the whole process): a window that exists only for
// non-root processes with Rlimits.
func (p *secPlan) applyRlimits(pid int) error {
	set := func() error {
		for _, r := range p.rlimits {
			lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
			if err := unix.Prlimit(pid, r.Resource, &lim, nil); err != nil {
				return err
			}
		}
		return nil
	}
	err := set()
	if err != unix.EPERM {
		return wrapSyscall("prlimit", err)
	}
	if _, _, e := unix.RawSyscall(sysSetresgid, uintptr(p.cred.Gid), ^uintptr(0), ^uintptr(0)); e != 0 {
		return os.NewSyscallError("setresgid", e)
	}
	if _, _, e := unix.RawSyscall(sysSetresuid, uintptr(p.cred.Uid), ^uintptr(0), ^uintptr(0)); e != 0 {
		return os.NewSyscallError("setresuid", e)
	}
	return wrapSyscall("prlimit", set())
}

// stopAtExec says whether the child is held before its exec so that its
// rlimits are set before it runs: started traced (PTRACE_TRACEME), it stops
// at its exec and rlimitsAtExecStop sets them; where ptrace is refused it
// is born frozen instead (freezeStop, execstop.go). Whenever there are
// rlimits and no_new_privs is set, and always with a seccomp filter, which
// is installed at that stop (ptrace only: injectSeccomp). A
// traced exec never raises privileges (setuid bits, file capabilities are
// ignored, LSM_UNSAFE_PTRACE), which no_new_privs forbids anyway; without
// no_new_privs the rlimits are set right after the exec instead
// (applyRlimits), so a setuid binary keeps working, and the process runs
// its first microseconds with the manager's limits.
func (p *secPlan) stopAtExec() bool {
	return p != nil && (len(p.rlimits) > 0 && p.noNewPrivs || p.seccomp != nil)
}

// cldTrapped is si_code CLD_TRAPPED: the child stopped under ptrace.
const cldTrapped = 4

// waitTrapped waits until the traced child pid stops or ends, without
// reaping it (WNOWAIT), and says whether it stopped under ptrace.
func waitTrapped(pid int) (bool, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("waitid", err)
		}
		return info.Code == cldTrapped, nil
	}
}

// rlimitsAtExecStop waits (on the forking thread, its tracer) for the
// traced child's stop at exec, runs hook (Cmd.AtExecStop, may be nil),
// installs its seccomp filter, sets the rlimits and detaches, which lets
// it run. A child that died instead is left for Wait to reap (WNOWAIT).
func (p *secPlan) rlimitsAtExecStop(pid int, hook func(int) error) error {
	if trapped, err := waitTrapped(pid); err != nil || !trapped {
		return err
	}
	var err error
	if p.deathSig != 0 {
		err = injectDeathSig(pid, p.deathSig)
	}
	if err == nil && hook != nil {
		err = hook(pid)
	}
	if err == nil && p.seccomp != nil {
		err = injectSeccomp(pid, p.seccomp)
	}
	if err == nil {
		err = p.applyRlimits(pid)
	}
	if derr := unix.PtraceDetach(pid); derr != nil && err == nil {
		err = os.NewSyscallError("ptrace detach", derr)
	}
	return err
}

func wrapSyscall(name string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(name, err)
}

// The forked child shares the manager's memory (CLONE_VM|CLONE_VFORK)
// until it execs, while already in the target's PID namespace with the
// target's uid and capabilities. A process there with the same uid and
// capabilities could ptrace it in that window (PTRACE_ATTACH, or open
// /proc/<pid>/mem, or /proc/<pid>/exe, the manager's binary) and so write
// into the manager. The kernel refuses that when the mm is not dumpable
// (__ptrace_may_access), which is why runc makes its init non-dumpable.
// The dumpable flag belongs to the mm, so the whole manager is made
// non-dumpable while at least one such fork is in flight, and restored
// when the last one has exec'd. (The child's own setuid would set the
// shared mm's flag to fs.suid_dumpable anyway, Go programs that exec with
// a Credential through vfork lose their dumpability that way; restoring
// the value from before also undoes that.) The flag is a single bit
// flipped by prctl: a handful of nanoseconds. Side effects while it is
// held: no core dumps, and /proc/<manager>/* owned by root.
var dumpGuard struct {
	mu   sync.Mutex
	n    int
	prev int
}

// holdUndumpable makes the process non-dumpable until the matching
// releaseUndumpable.
func holdUndumpable() error {
	dumpGuard.mu.Lock()
	defer dumpGuard.mu.Unlock()
	if dumpGuard.n == 0 {
		v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			return os.NewSyscallError("prctl PR_GET_DUMPABLE", err)
		}
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_SET_DUMPABLE", err)
		}
		dumpGuard.prev = v
	}
	dumpGuard.n++
	return nil
}

func releaseUndumpable() {
	dumpGuard.mu.Lock()
	defer dumpGuard.mu.Unlock()
	dumpGuard.n--
	// Only 0 and 1 can be set by prctl; 2 (suid_dumpable=2) stays 0,
	// which is stricter.
	if dumpGuard.n == 0 && dumpGuard.prev == 1 {
		_ = unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
	}
}
