//go:build linux

package nsjoin

import "errors"

// ErrSeccomp: the seccomp filter of a Cmd's Security could not be
// installed into the child (the child is killed and reaped; Start fails).
var ErrSeccomp = errors.New("seccomp filter not installed")

// Why the filter is injected by ptrace rather than installed on the
// forking thread (where the child would inherit it, as runc's init
// installs it on itself right before execve): a filter cannot be removed,
// and whatever runs under it after the install would be the manager's.
// On the thread that is the rest of the fork (Go uses clone3 for
// CLONE_INTO_CGROUP, which the default profile answers ENOSYS without
// CAP_SYS_ADMIN), the child's setgroups/setuid/dup/chdir, the runtime's
// futex, mmap, sigaltstack and rt_sigprocmask (the runtime crashes the
// whole manager when some of these fail), the wait for the exec and the
// thread's exit; a Localhost profile with SCMP_ACT_KILL_PROCESS on any of
// them would kill the manager. Injected at the exec stop, the filter
// starts at the program's first instruction and nothing of the manager
// ever runs under it; the price is a few ptrace round trips and the
// conditions in Security.Seccomp.
