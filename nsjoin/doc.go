// Package nsjoin treats Linux namespaces as values: open them, compare
// them, pin them, join them from Go code, and start processes inside them,
// without ever leaving a goroutine in the wrong namespace.
//
// # Handles and sets
//
// A Handle is a file descriptor verified to be an nsfs file (fstatfs
// NSFS_MAGIC) of the expected kind (ioctl NS_GET_NSTYPE), with the
// namespace's identity (device, inode). Handles compare by identity
// (Equal), print like the /proc links ("net:[4026531840]") and close
// idempotently; Close waits for in-flight users so a descriptor number is
// never reused under a setns. Open takes any path (checked with O_PATH
// first, so FIFOs and devices are never really opened), Current the calling
// thread's namespaces, OpenPid and OpenPidfd those of a process. A Set holds
// at most one handle per kind and prints as "net:[...] ipc:[...]".
//
// PID reuse (cri-o#2849): OpenPid pins the process with pidfd_open first
// and then asks the pidfd for the namespace (PIDFD_GET_*_NAMESPACE, Linux
// 6.11+); on older kernels it opens /proc/<pid>/ns/<kind> and re-checks the
// pidfd with pidfd_send_signal(0), which fails once the process was reaped,
// the precondition for reuse. Callers holding a pidfd (from clone or from
// Cmd.PidFD) use OpenPidfd and never deal with a pid at all.
//
// # Creating and pinning
//
// Create makes net, ipc, uts, cgroup and time namespaces with no process:
// unshare(2) on a throwaway locked thread. pid is not supported there
// (unshare(CLONE_NEWPID) only sets pid_for_children; the namespace is born
// with its first process: start one with Command and Cloneflags, or use the
// pause process, then OpenPid); user needs a single-threaded caller; mnt is
// left to whoever builds the container's mount tree (libcontainer).
//
// A PinDir (default /run/podkit/ns) keeps namespaces alive with no process
// and no open descriptor: <dir>/<name>/<kind> is an empty file with the
// nsfs file bind-mounted on it, usable by Open, nsenter --net=PATH and the
// like. The directory is a mount of its own (a tmpfs) with shared
// propagation in a private peer group: pins do not spread into the host's
// other mount namespaces, mount namespaces created later get the directory
// as a peer, and an unpin (umount2 MNT_DETACH, then unlink) propagates into
// them instead of leaving copies that keep namespaces alive forever
// (cri-o#273, kata runtime#2457, containerd/cri#568). Unpin is idempotent;
// Sweep removes pin names that nobody keeps and whose namespaces no process
// is in; Teardown removes the directory's mount once it is empty.
// PinDir.Create creates and pins in one step.
// PinNetnsForIPTool pins a netns as /run/netns/NAME for ip-netns(8).
//
// # Joining from Go: Do
//
// Do(set, fn) runs fn on a fresh goroutine locked to its OS thread, setns'd
// into the set, then moves the thread back into the process's home
// namespaces. Only when that succeeded is the thread unlocked; otherwise
// the goroutine exits locked, the runtime kills the thread, and Do returns
// an error wrapping ErrRestore (vishvananda/netns#75,
// containernetworking/cni#183, golang/go#28979). Do joins net, ipc, uts,
// cgroup and pid (pid_for_children). mnt, user and time are refused with
// ErrNotJoinable: the kernel lets a thread of a multi-threaded process join
// a mount namespace only with an unshared fs_struct (which a pool thread
// must never have), and user and time namespaces only when single-threaded
// (EINVAL, EUSERS).
//
// The package keeps one descriptor per kind it has joined open for the life
// of the process: the home namespaces, taken from a pool thread the first
// time a kind is used. Moving back is a single setns into them.
//
// # Starting processes: Command
//
// Command returns a Cmd: the settings of an exec.Cmd (but no exec.Cmd to
// start outside the namespaces by mistake) plus a namespace set, an
// optional cgroup v2 directory to be born in (CLONE_INTO_CGROUP) and a
// pidfd. The
// process is forked from a throwaway locked thread that has joined the set
// (children inherit the namespaces of the forking thread); for mnt the
// thread first does unshare(CLONE_FS). The thread is never reused. user and
// time namespaces are entered through nsenter(1), which is single-threaded.
// The fork itself is internal/ownfork's wherever the Cmd asks only for what
// its small C stage does (what a container runtime asks: standard streams,
// session and controlling terminal, credentials, ambient capabilities,
// directory, parent-death signal, ptrace, CLONE_INTO_CGROUP): the child
// never holds a copy of the manager's descriptor table, so a manager of a
// thousand pods starts processes as fast as one of a single pod. A Reader
// or Writer stream gets a pipe and a copying goroutine, as os/exec gives
// it. Anything else is forked by os/exec.
//
// Because the forking thread is thrown away, it may also be changed in ways
// no pool thread may be: Cmd.BeforeFork runs on it after the namespaces
// were joined (cgroup.JoinThread there makes the child born in a cgroup v1
// hierarchy), and Cmd.Security gives the child a container's credentials
// the way runc's init orders them: the thread drops the bounding set, sets
// the other capability sets (kept across the uid switch) and no_new_privs;
// the child switches uid, gid and groups as it forks; rlimits are set on
// the child by prlimit(2) before it runs (held at its exec by ptrace, or,
// where Yama or a tracer refuses that, born in a frozen cgroup v2
// directory). Cmd.AtExecStop runs a function of the caller's while the
// process is held at its exec under ptrace (a container runtime mounts
// the /proc of the process's new PID namespace there). While such a fork is in flight
// the process is non-dumpable, so a process in the target namespaces
// cannot ptrace or open the manager's /proc entries; the previous value
// comes back when the last one finished.
// Security.Seccomp, a filter compiled by package
// github.com/podkit/podkit/nsjoin/seccomp, is installed into the child while it
// is stopped at its exec under ptrace (a seccomp(2) call injected at its
// first instruction, amd64), never on the forking thread: nothing of the
// manager, not even the fork, runs under the filter (seccomp_inject.go
// says why).
//
//	| kind   | Open/Pin | Create | Do  | Command         |
//	|--------|----------|--------|-----|-----------------|
//	| net    | yes      | yes    | yes | thread          |
//	| ipc    | yes      | yes    | yes | thread          |
//	| uts    | yes      | yes    | yes | thread          |
//	| cgroup | yes      | yes    | yes | thread          |
//	| pid    | yes      | no     | yes | thread          |
//	| mnt    | yes      | no     | no  | thread+CLONE_FS |
//	| time   | yes      | yes    | no  | nsenter(1)      |
//	| user   | yes      | no     | no  | nsenter(1)      |
//
// # Network helpers
//
// NetlinkHandle returns a vishvananda/netlink handle whose socket was
// created inside Do: a netlink socket stays in the namespace it was made in,
// so the caller's thread never switches (netlink.NewHandleAt would switch
// and unlock it even if switching back failed). LoopbackUp brings lo up;
// SetSysctl and Sysctl write and read validated net.* keys under
// /proc/sys/net from a thread inside the namespace.
package nsjoin
