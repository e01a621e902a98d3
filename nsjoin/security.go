//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/podkit/podkit/nsjoin/seccomp"
	"golang.org/x/sys/unix"
)

// ErrInvalidSecurity: a Cmd's Security is malformed (unknown capability,
// inconsistent sets, bad rlimit) or conflicts with other settings of the
// Cmd. Start reports it before anything is entered or started.
var ErrInvalidSecurity = errors.New("invalid security settings")

// Security is the identity and privilege a Cmd's process starts with, the
// way a container runtime sets up a process it execs into a container
// (runc's setns process): capability bounding set, capability sets,
// no_new_privs, user and groups, resource limits. Everything is explicit:
// a nil capability list is the empty set, nil Groups means no
// supplementary groups.
//
// Capability names are those of capabilities(7), e.g. "CAP_NET_RAW" (the
// "CAP_" prefix and case are optional). Effective must be a subset of
// Permitted, Inheritable of Bounding, Ambient of Permitted and
// Inheritable.
//
// How it is applied: capabilities and no_new_privs are per-thread
// attributes a child inherits from the thread that forks it, so they are
// set on Cmd's throwaway forking thread right before the fork (bounding
// set first, which needs CAP_SETPCAP; then capset; then no_new_privs). The
// user and groups are switched in the child by Go's fork code
// (SysProcAttr.Credential, setgroups/setgid/setuid as raw syscalls of the
// single-threaded child), not on the thread: a manager thread with the
// container's uid would, until it exits, be signalable (tgkill SIGKILL
// kills the whole manager) by any host process running as that uid, and on
// cgroup v2 clone3(CLONE_INTO_CGROUP) checks write access to cgroup.procs
// with the forking thread's credentials. The thread therefore keeps uid 0
// and additionally holds CAP_SETUID and CAP_SETGID in its effective and
// permitted sets for the child's switch; PR_SET_KEEPCAPS keeps the
// permitted set across the child's setuid, as runc does, and execve(2) then
// computes the final sets from Bounding, Inheritable and Ambient, with
// no_new_privs capping them at the permitted set. The only visible
// difference from runc: if Bounding holds CAP_SETUID or CAP_SETGID and
// Permitted does not, an executable with those file capabilities could
// still gain them under no_new_privs.
//
// Rlimits are per process, not per thread, so they cannot be inherited
// from the forking thread without changing the whole manager: they are set
// with prlimit(2) on the child. With NoNewPrivs the child is held before
// its exec for that (stopped at its exec under ptrace, or, where Yama or a
// tracer of the manager refuses ptrace, born frozen in a cgroup v2
// directory), so the program starts with them; without NoNewPrivs they are
// set right after the exec (the program may run a few microseconds with
// the caller's limits) so that setuid programs keep working. See Cmd.Start.
type Security struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups

	Bounding    []string
	Effective   []string
	Permitted   []string
	Inheritable []string
	Ambient     []string

	// NoNewPrivs sets PR_SET_NO_NEW_PRIVS: setuid bits and file
	// capabilities grant nothing on execve.
	NoNewPrivs bool

	// Rlimits are resource limits set on the process.
	Rlimits []Rlimit

	// Seccomp, if set, is a compiled seccomp filter the process runs
	// under from the first instruction of its program (see
	// seccomp_inject.go): installed into the child by ptrace while it is
	// stopped at its exec, so no code of the manager and no syscall of
	// the fork itself ever runs under it. The kernel lets a process
	// install a filter only with no_new_privs or CAP_SYS_ADMIN: without
	// NoNewPrivs and CAP_SYS_ADMIN in Effective, no_new_privs is set on
	// the process first (runc installs the filter earlier, while its init
	// is still privileged, and leaves no_new_privs off; with the filter a
	// setuid program the exec'd process runs gains nothing). Needs a
	// manager allowed to ptrace its children (Yama ptrace_scope 0 or 1,
	// not itself traced); amd64 only for now. Errors wrap
	// ErrInvalidSecurity, or ErrSeccomp when the installation failed.
	Seccomp *seccomp.Filter
}

// Rlimit is one resource limit: Resource is unix.RLIMIT_NOFILE and the
// like, Soft <= Hard.
type Rlimit struct {
	Resource int
	Soft     uint64
	Hard     uint64
}

// secPlan is a validated Security in the form the syscalls take.
type secPlan struct {
	bnd, eff, prm, inh uint64
	amb                []uintptr
	cred               *syscall.Credential
	noNewPrivs         bool
	rlimits            []Rlimit
	seccomp            *seccomp.Filter
	// deathSig is the child's parent-death signal, set at its exec stop
	// rather than by Go's fork (see Cmd.Start).
	deathSig syscall.Signal
}

// threadCaps are the capabilities the forking thread keeps effective on
// top of the process's own, for the child's setgroups/setgid/setuid.
const threadCaps = 1<<unix.CAP_SETUID | 1<<unix.CAP_SETGID

// capNames lists the capabilities by number (capabilities(7), Linux 6.x).
var capNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// ParseCapability returns the number of a capability name ("CAP_NET_RAW",
// "net_raw", ...). Names the running kernel does not know are refused.
func ParseCapability(name string) (int, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "CAP_")
	i := slices.Index(capNames, n)
	if i < 0 {
		return -1, &Error{Op: "security", ID: name, Err: fmt.Errorf("%w: unknown capability", ErrInvalidSecurity)}
	}
	if i > lastCap() {
		return -1, &Error{Op: "security", ID: name, Err: fmt.Errorf("%w: capability not supported by this kernel (last is %d)", ErrInvalidSecurity, lastCap())}
	}
	return i, nil
}

var lastCapOnce = sync.OnceValue(func() int {
	// PR_CAPBSET_READ fails with EINVAL past the kernel's last capability.
	n := 0
	for n < 63 {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n+1), 0, 0, 0); err != nil {
			break
		}
		n++
	}
	return n
})

// lastCap is the highest capability number the kernel knows.
func lastCap() int { return lastCapOnce() }

func capMask(names []string) (uint64, error) {
	var m uint64
	for _, n := range names {
		c, err := ParseCapability(n)
		if err != nil {
			return 0, err
		}
		m |= 1 << c
	}
	return m, nil
}

// plan validates s and translates it.
func (s *Security) plan() (*secPlan, error) {
	p := &secPlan{noNewPrivs: s.NoNewPrivs}
	sets := []struct {
		dst   *uint64
		names []string
	}{{&p.bnd, s.Bounding}, {&p.eff, s.Effective}, {&p.prm, s.Permitted}, {&p.inh, s.Inheritable}}
	for _, set := range sets {
		m, err := capMask(set.names)
		if err != nil {
			return nil, err
		}
		*set.dst = m
	}
	amb, err := capMask(s.Ambient)
	if err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return &Error{Op: "security", Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidSecurity}, a...)...)}
	}
	switch {
	case p.eff&^p.prm != 0:
		return nil, bad("Effective is not a subset of Permitted")
	case p.inh&^p.bnd != 0:
		return nil, bad("Inheritable is not a subset of Bounding")
	case amb&^(p.prm&p.inh) != 0:
		return nil, bad("Ambient is not a subset of Permitted and Inheritable")
	}
	for c := 0; c <= lastCap(); c++ {
		if amb&(1<<c) != 0 {
			p.amb = append(p.amb, uintptr(c))
		}
	}
	seen := map[int]bool{}
	for _, r := range s.Rlimits {
		switch {
		case r.Resource < 0 || r.Resource > unix.RLIMIT_RTTIME:
			return nil, bad("unknown rlimit resource %d", r.Resource)
		case r.Soft > r.Hard:
			return nil, bad("rlimit %d: soft %d above hard %d", r.Resource, r.Soft, r.Hard)
		case seen[r.Resource]:
			return nil, bad("rlimit %d given twice", r.Resource)
		}
		seen[r.Resource] = true
	}
	p.rlimits = slices.Clone(s.Rlimits)
	if s.Seccomp != nil {
		if err := seccompSupported(); err != nil {
			return nil, bad("Seccomp: %v", err)
		}
		p.seccomp = s.Seccomp
	}
	p.cred = &syscall.Credential{Uid: s.UID, Gid: s.GID, Groups: slices.Clone(s.Groups)}
	if p.cred.Groups == nil {
		p.cred.Groups = []uint32{} // setgroups(0): drop the caller's groups
	}
	return p, nil
}

// planSecurity validates Security against the rest of the Cmd and stores
// the translated form. The credential and ambient set are the child's own
// business (Go's fork code), so the caller may not set them too.
func (c *Cmd) planSecurity(nsenter []Kind) error {
	c.sec = nil
	if c.Security == nil {
		return nil
	}
	bad := func(why string) error {
		return &Error{Op: "start", Path: c.Path, Err: fmt.Errorf("%w: %s", ErrInvalidSecurity, why)}
	}
	if sp := c.SysProcAttr; sp != nil && (sp.Credential != nil || len(sp.AmbientCaps) > 0) {
		return bad("SysProcAttr.Credential and AmbientCaps cannot be combined with Security")
	}
	if sp := c.SysProcAttr; sp != nil && sp.Cloneflags&unix.CLONE_NEWUSER != 0 {
		return bad("Security cannot be combined with a new user namespace")
	}
	if len(nsenter) > 0 {
		return bad("Security cannot be combined with user or time namespaces (they are entered by nsenter, which needs the privileges Security drops)")
	}
	p, err := c.Security.plan()
	if err != nil {
		var ne *Error
		if errors.As(err, &ne) && ne.Path == "" {
			ne.Path = c.Path
		}
		return err
	}
	c.sec = p
	return nil
}
