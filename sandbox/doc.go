// Package sandbox is the pod lifecycle: a pod as a Go value, at the level
// of the CRI's runtime service. It offers the primitives only: sandbox
// create, stop, destroy and status; container create, start, stop, remove
// and status; Wait, Exec and an event stream. It makes no policy decision:
// init container ordering, restart policies and their back-off, the pod
// phase, preStop hooks and resuming supervision after a restart of the
// manager are a kubelet's, and live in examples/kubelet (package
// github.com/podkit/podkit/examples/kubelet), which builds them on this
// API. Moved there: Run and PodSpec, RestartPolicy, Backoff (was
// Config.Backoff), the pod phase (Status.Phase, Status.InitContainers,
// ContainerStatus.Init and RestartCount; the sandbox reports Attempt),
// ContainerSpec.PreStop and RestartPolicy, ErrInitFailed, and the events
// ContainerRestarted and ContainerRestartFailed.
//
// A sandbox is a "logical host": shared network, IPC and UTS (optionally
// PID) namespaces, a pod cgroup, and containers that join those namespaces
// while keeping their own mount namespace, root filesystem and cgroup
// limits. Containers are started by the manager itself (the fast path,
// below), or in-process through runc's libcontainer where that does not
// apply or the embedder asks for it.
//
// # Lifecycle
//
// Create validates the Config (nothing is touched on bad input), then
// builds, in order: the run directory and an intent record (state.json,
// state Creating), the pod cgroup <CgroupParent>/<ID> in every hierarchy,
// the namespaces, their pins (bind mounts under <RunDir>/<ID>/ns), loopback
// up, hostname, sysctls, the generated /etc/hosts, /etc/hostname and
// /etc/resolv.conf, the volumes, and finally state Ready. Any failure tears
// down what exists, in reverse order. The namespaces are held either by a
// podkit-pause process started with the pause package (PID 1 of the pod when
// Config.SharePID is set, reaping orphans of every container) or, with
// Config.NoPause, by the pins alone (CRI-O style).
//
// The sandbox states form an explicit machine: Creating -> Ready ->
// Stopping -> Stopped -> Destroying -> Destroyed, Ready -> Unknown when the
// pause dies; each run of a container goes Waiting (created) -> Running
// -> Terminated. One table of allowed moves per machine
// (transitions_linux.go) checks every state change. Status reports facts
// per container: state, pid, exit status, created/started/finished times
// and the Attempt the caller passed in ContainerSpec; Events streams typed
// events.
//
// Containers: CreateContainer prepares everything (on the libcontainer
// path it leaves libcontainer's init waiting on its exec fifo; on the fast
// path the container's mount namespace is built and held, with no
// process); StartContainer only starts the process (the CRI's two steps). Running a container again is the caller's: RemoveContainer,
// then CreateContainer with the next Attempt. Exec runs probes. Stop sends
// SIGTERM, waits the grace period, then kills each container's whole
// cgroup, then the pause. As the CRI requires, Stop of a stopped sandbox,
// StopContainer of a stopped container, RemoveContainer of a removed or
// unknown one and a second Destroy succeed. Every wait is bounded by the
// caller's context, not by a timeout of the package's (only the pause's
// readiness gets a default deadline when ctx has none); a Destroy cut
// short by its ctx leaves the sandbox Destroying and may be called again.
// Destroy waits for CreateContainer calls in flight, so no container
// outlives the sandbox. It removes the pod cgroup and the directories of
// CgroupParent left empty (the last pod to leave a parent removes it),
// unless Config.KeepCgroupParent says the parent is someone else's: a
// kubelet's pod cgroup, under QoS cgroups that carry its limits. Load and Reconcile re-attach after a crash of the
// managing process, identifying processes by pidfd plus start time, and
// finish interrupted Creates and Destroys.
//
// # Network
//
// A pod has its own network namespace with loopback only, unless
// Config.Network gives it more: the package runs no CNI itself, the
// embedder passes a Network (examples/internal/podnet binds libcni and the
// standard plugins to a pod with Network.For). Create calls its Attach
// with the pinned namespace once loopback, hostname and sysctls are set
// up, before the /etc files are written, so /etc/hosts carries the pod's
// IPs ("<IP>\t<hostname>", as the kubelet writes it); the IPs are saved
// in the state file and reported by Status, List and SandboxReady. The
// intent is saved before Attach, so a crash inside it is detached by
// Reconcile. Destroy (and a failed Create's rollback) calls Detach while
// the namespace is still pinned; if Detach fails the pins and the state
// file stay and the sandbox stays Destroying (ErrNetwork), for the next
// Destroy or Reconcile to retry: an attachment is never dropped silently.
// Load and Reconcile take the Network back through LoadOptions; without
// it, destroying an attached sandbox fails with ErrNetwork.
//
// Config.HostNetwork (Kubernetes' hostNetwork) creates and pins no network
// namespace: the pause, containers and Exec share the host's, loopback is
// left alone, and net.* sysctls and a Network are refused
// (ErrInvalidConfig). The pod keeps its own UTS (hostname) and IPC
// namespaces.
//
// # Host namespaces
//
// Config.HostPID and Config.HostIPC (Kubernetes' hostPID and hostIPC) do
// the same for the PID and IPC namespaces: none is created or pinned
// (Status.HostNamespaces and List's Info.Config say so), containers and
// Exec run in the host's, and the conflicts are refused by name
// (ErrInvalidConfig): HostPID with SharePID, HostIPC with the IPC sysctls.
// As with runc and containerd, a container of a HostIPC pod still mounts
// an mqueue filesystem at /dev/mqueue, which is then the host's queues.
// With HostPID the pause is PID 1 of nothing: it registers as a child
// subreaper, but container processes are not its descendants (their inits
// are the manager's children), so an orphan of a container re-parents to
// the manager's nearest child subreaper, or the host's init, which reaps
// it: a manager that is itself a subreaper must reap such orphans. No
// kernel kill of a PID namespace ends a container's leftovers either: the
// sandbox kills the container's cgroup when its init exits (as with
// SharePID), Stop and Destroy kill every cgroup, and so does the
// DieWithManager guard, which needs nothing else; DieWithParent reaches
// the pause and the inits only.
//
// # What a runtime needs: listing, stats, updates, logs
//
// Config and ContainerSpec carry Labels and Annotations (the CRI's), kept
// in state.json with the sandbox's creation time and each container's
// current run (phase, pid, created, started, exit), and returned by
// Status, Load and List. List(runDir) reads every sandbox of a run
// directory without side effects (nothing re-attached, signalled or
// written): safe beside a managing process, or after it crashed. It
// checks the processes the state names read-only, by PID plus start
// time: a Ready sandbox whose pause is gone is reported Unknown, a
// container whose init is gone Terminated with ReasonUnknown.
//
// Stats and ContainerStats read the pod cgroup and each container's leaf:
// cumulative CPU time, memory usage and working set (usage minus the
// inactive page cache, as kubelet and cAdvisor compute it), limit, pids
// and OOM kills, with a timestamp (Usage.NanoCores gives a rate from two
// samples); Stats adds the counters of the pod's network interfaces, read
// by netlink through the pinned network namespace.
//
// UpdateContainerResources patches a created or running container's
// limits live: zero fields keep their value, -1 removes a limit. Resources
// take the CRI's units (CPUShares, CPUQuotaUs, CPUPeriodUs, written as
// given; v2 turns shares into cpu.weight) besides Kubernetes' millicores.
// The result is validated before anything is written (a *FieldError
// naming the field, wrapping ErrInvalidConfig); a write the kernel refuses
// is rolled back.
//
// A container without the caller's Stdout and Stderr writes into a FIFO
// (<sandbox dir>/io/<name>.out, fresh for each run) that a goroutine of
// the manager copies into its log file (ContainerSpec.LogPath, default
// <sandbox dir>/logs/<name>.log), as written (LogRaw) or in the CRI's
// format kubelet reads (LogCRI: each line stamped with time and stream,
// stdout and stderr through separate FIFOs, lines over MaxLogLine split
// into partial entries). ReopenContainerLog switches to a new
// file at that path after a rotator renamed the old one. The container's
// end is opened read-write, as containerd's shim does: while no manager
// reads, the container never gets SIGPIPE and its output waits in the
// pipe (1 MiB, then its writes block); Load copies on. An exit is
// recorded once the output before it has been copied.
//
// Standard input: a container created with ContainerSpec.Stdin reads a
// FIFO (<sandbox dir>/io/<name>.in) that the manager keeps open for
// writing, so it sees no EOF between AttachStdin sessions; with StdinOnce
// the end of the first attach closes it. ExecSpec.Stdin is copied through
// a pipe of the manager's (an idle reader never holds up Exec), and
// ExecSpec.TTY runs the process as a session leader on a new terminal of
// the container's own devpts (its /dev/ptmx opened inside the container's
// root with openat2 RESOLVE_IN_ROOT and checked to be the ptmx device),
// resized from ExecSpec.Resize.
//
// # Attach and a container's terminal
//
// AttachContainer (the CRI's Attach) joins a created or running
// container's stdio: its stdin as AttachStdin does, and its output from
// then on, stdout and stderr apart with LogCRI (LogRaw has one pipe, and a
// terminal one stream: both go to Stdout). The output is tapped from the
// copiers of the log file, so the log stays the one reader of the
// container's pipes; several attaches may run at once. A slow attacher
// never blocks the container or the log: each of its streams has a queue
// of at most 1 MiB, and what does not fit is dropped for it (tap_linux.go).
// An attach ends when the run exits (after passing on its output), when
// its stdin ends with StdinOnce (after up to a second more of output), or
// with its ctx; attaching to an exited container is an ErrInvalidState.
//
// ContainerSpec.TTY gives the container a terminal of its own devpts, made
// by libcontainer's init (Process.ConsoleSocket) as its stdio and
// controlling terminal, whose master the manager receives and holds: the
// output goes to the log (one stream, stdout, as the CRI has it) and to
// attaches, stdin from attaches goes to the terminal (StdinOnce: the first
// attach's end types ^D), and ResizeContainerTTY or AttachOptions.Resize
// set its size. The master is taken by ttyStarted whatever made it, so the
// terminal is a spec feature of the container, not of libcontainer; a
// start path that cannot hand its init a console falls back to
// libcontainer's for a TTY container (tty_linux.go).
//
// After a manager restart (Load), attaching a container without a
// terminal works (its FIFOs outlive the manager: output is copied on, and
// stdin can be attached, though a container reading it saw EOF when the
// old manager's keeper died with it). A TTY container's terminal dies with
// the manager that held it (the kernel hangs it up: SIGHUP to the
// container's session); Load finds no terminal to attach or resize
// (ErrInvalidState).
//
// # Cgroups, the pause and Exec
//
// The pod cgroup and every container's leaf are made by podkit's cgroup
// package; Resources use Kubernetes' units (bytes, millicores, tasks).
// The pause lives in its own leaf named "pause" (a container may not take
// that name): libcontainer refuses a cgroup that already has processes, so
// it is given each container's leaf path and device rules only. The pause
// is born in its leaf, never migrated: on cgroup v2 by CLONE_INTO_CGROUP,
// on v1 by forking it from a throwaway thread that joined the leaf
// (cgroup.JoinThread), which skips the 6-10 ms wait a by-pid move pays
// for the kernel's cgroup_threadgroup_rwsem. A pinned-only pod
// (Config.NoPause) has no pause leaf. Create builds the pod cgroup and
// the namespaces at once, on two threads: net, ipc and uts are created
// with no process (as for a pinned-only pod) while the other thread
// builds the cgroup and joins the pause's leaf; that thread then joins
// the namespaces and forks the pause there, with a PID namespace of its
// own when it is shared, while the first pins the namespaces and sets
// them up (loopback, hostname, sysctls). A shared PID namespace is pinned
// once the pause exists; the /etc files and volumes are written, and the
// pause's readiness awaited last (pause.Spawn, then Ready), so the pause
// starts while Create works. A DieWithParent pause is forked the same
// way, with its parent-death signal tied to the forking thread
// (pause.Options.DieWithThread): that thread goes back to the manager's
// cgroups and namespaces after the fork (cgroup.SaveThreadHome) and parks
// for the pause's life.
//
// Exec does not go through libcontainer: the process is forked by
// nsjoin.Command from a throwaway thread that sits in the container's
// namespaces (opened from its init by pidfd) and cgroups, with the
// container's user, groups, capabilities, no_new_privs and rlimits
// (nsjoin.Security). The command is looked up in the container's mount
// namespace (/proc/<init>/root). The namespace handles, cgroup
// directories and open cgroup v1 `tasks` files are kept per run of the
// init, from its first exec until it is reaped. An exec costs about 2x a
// plain fork/exec on the host, against 8x through libcontainer
// (BENCHMARKS.md).
//
// # Start paths
//
// Both paths consume the same OCI spec (ociSpec), converted by runc's
// specconv into the libcontainer config, so they agree by construction on
// mounts and their options, devices, masks, capabilities and limits
// (TestStartPathDifferential compares what the process sees from inside
// and what the cgroups say from outside). ContainerSpec.StartPath picks
// one (default: fast); ContainerStatus.StartPath and StartPathReason say
// which one ran and why it was not the fast one; the state file records
// it, so Load re-attaches runs of either.
//
// The fast path (faststart_linux.go, faststart_mounts_linux.go) runs no
// runtime binary. CreateContainer makes the container's cgroups as
// libcontainer would (podkit's leaf, the device rules, the v1 hierarchies
// the leaf does not manage) while a throwaway locked thread builds its
// mount namespace: it clones the rootfs and every bind source from the
// manager's mount namespace (open_tree), unshares its fs, joins the pod's
// net, ipc and uts namespaces (sysfs and mqueue take the mounter's), enters
// a new copy of a one-mount base namespace (an empty read-only tmpfs the
// manager makes once, Preload: a copy of the host's mount table, which
// every pod grows, would cost milliseconds at a thousand pods), moves the
// rootfs in as a slave of the host's mounts, moves in the binds and mounts
// the spec's other mounts by type with their options and propagation,
// creates /dev's default nodes and links, moves in the v1 cgroup
// directories of a "cgroup" mount (cloned beside it with their flags and
// propagation already set, once the cgroups exist), moves the rootfs onto
// the namespace's root and chroots into it (pivot_root would walk every
// task on the host), creates the working directory, masks and makes
// read-only the spec's paths, remounts read-only tmpfs and root, and ends;
// the manager keeps a handle on the namespace, so a bad mount, rootfs or
// command is reported by CreateContainer and closing the handle leaves
// nothing. StartContainer forks the process with nsjoin.Command (see Exec
// below): born in the container's cgroups (on v1 and hybrid hosts made by
// podkit's cgroup package in every hierarchy, the layout libcontainer uses,
// with libcontainer's device emulator writing the device rules; on v2 by
// libcontainer's cgroup manager, whose device rules are eBPF), in the pod's
// namespaces and the container's mount namespace, with its capabilities,
// no_new_privs, user, groups and rlimits. /proc must belong to the
// container's PID namespace, which a mount(2) from outside it cannot give:
// it is made with fsopen("proc") and fsmount, in that namespace by
// fsconfig's "pidns" where procfs takes it (the host's 6.18 does), else by
// a child forked into the namespace (a procfs context takes its opener's
// PID namespace, and a thread cannot enter one itself; Debian 12's 6.1, the
// v2 lane's kernel): a small C stage (cgo) clones it with
// CLONE_VM|CLONE_VFORK|CLONE_FILES, its first step unshares a descriptor
// table of 0-2 only (close_range), and it mounts the procfs and exits, so
// nothing it opened outlives it even when the namespace's end kills it
// half-way. A shared PID namespace exists at create (the pod's pin); a
// container's own PID namespace is born with its first process, so that
// process is held at its exec (ptrace) until its /proc and the masks under
// it are mounted (nsjoin.Cmd.AtExecStop) by another throwaway thread, made
// before the fork in the container's mount namespace, which mounts them as
// soon as the init exists (its cgroup v2 directory's cgroup.events says
// populated), while the init is still on its way to its exec; a start that
// fails after that unmounts them. The manager drops its handle once the
// process's exit is recorded (or a second after the start): the namespace
// and its mounts die with the process, and an init that exits quickly is
// not their last holder, so its exit does not wait for their teardown.
// Exit, OOM, events, the guard and Load use the same paths as
// libcontainer's inits.
//
// libcontainer is used instead, with the reason reported, for a spec the
// fast path does not implement: seccomp (until the seccomp compiler is
// wired through fastSeccomp), a terminal, hooks, sysctls, LSM labels, user
// or cgroup namespaces, mount types other than bind, proc, tmpfs, devpts,
// mqueue and sysfs, a mount under /proc of a container with its own PID
// namespace, shared rootfs propagation; in a build without cgo on a kernel
// whose procfs has no pidns parameter; and, for a container
// with its own PID namespace or Config.DieWithParent, where Yama refuses
// ptrace (ptrace_scope 2 or 3). A manager traced by a debugger that follows
// forks (strace -f) cannot start such containers either: it is not checked
// before each start (two /proc reads), the start fails with
// nsjoin.ErrNoExecStop naming the tracer; set ContainerSpec.StartPath to
// StartLibcontainer under a debugger. DieWithParent needs the exec stop
// because Go's fork kills a child with a parent-death signal whose parent
// is outside its PID namespace (as the manager always is): nsjoin sets the
// signal at the stop instead, and the forking thread, parked for the
// container's life (the signal follows it), first goes back to the
// manager's v1 cgroups, or freezing or killing the container's cgroup would
// reach the manager. Known differences: the init's own exec is traced, so a
// setuid bit or file capability of the container's first program is not
// honoured (no_new_privs forbids that anyway, and later execs are not
// traced); the init inherits the manager's umask and no new session keyring
// is joined; a container created but never started has no process (Status
// reports no pid until it starts) and does not survive the manager (Load
// finds it Terminated). Cost (BenchmarkContainer, create+start+exit+remove
// of busybox-static's `true` in a pod, cgroup v1 host): about 4 ms against
// 16–18 ms through libcontainer and 8 ms for `crun run` of the same OCI
// spec (BENCHMARKS.md).
//
// Exits are awaited on one epoll instance through the pidfd the process's
// owner holds (the pause's, os.Process's): no OS thread and no descriptor
// per process. A pod costs the manager 4 descriptors (2 pidfds, a
// container's output FIFO and log file; a pause of a shared PID namespace
// has its events FIFO too). Pauses, container inits and execs are forked
// without a copy of that table (internal/ownfork: the child's table holds
// only a few slots reserved at start, into which its files are put), so
// their starts do not grow with the pods; an ordinary fork copies every
// descriptor and its exec closes each again.
//
// # Events and recovery
//
// The pause of a shared PID namespace (the only pause with children)
// reports reaped orphans on a FIFO in the run directory that it holds
// open read-write and never blocks on (pause.Options.DropEvents): a
// manager that exits loses events, not the pod. Load re-opens the FIFO,
// re-attaches every process by pidfd plus start time and reaps those that
// became its children (real exit status instead of Unknown). Exits are
// recorded by one path whether the init was started by this process or
// re-attached: status, Wait and ContainerExited agree, and the state file
// is saved.
// Restarting what exited is not the sandbox's job: examples/kubelet keeps
// its own record in the run directory (Dir) and resumes its supervision
// after Load.
//
// # When the manager dies
//
// Config.Lifetime says what becomes of a pod whose manager dies without
// destroying it (kill -9, a crash). Unguarded, the zero value, leaves it
// running and starts nothing: a container that exits meanwhile is
// reported by the next Load with ReasonUnknown. The two other modes are
// kept by a guard: the manager's own binary re-executed with argv[1]
// GuardArg (and GuardEnv set), dispatched from this package's init like
// the libcontainer bootstrap, in a session of its own so that a signal to
// the manager's process group (Ctrl-C) does not reach it. There is one
// guard per manager process, started with its first guarded sandbox (or
// ahead of it, PreloadGuard, by a manager that creates one as soon as it
// starts) and told to exit when the last one is destroyed, so none
// lingers after a healthy run. The manager holds the only write end of a pipe to it (close
// on exec: no pause, container or exec inherits it) and registers each
// sandbox directory before Create makes it, and each container init: the
// pipe's EOF without a goodbye is the manager's death, however it died.
// Each state file names its manager and guard by PID plus start time
// (Info.ManagerPid: 0 for a leftover). While all of a manager's guarded
// sandboxes are DieWithManager, the pause binary stands in for the guard
// (podkit-pause --guard-wait; with the bare pause a few hundred
// instructions and 20 kB of anonymous memory instead of a second copy of
// the manager's runtime, and a start that does not compete with the
// manager's): it keeps the messages and, on EOF without a goodbye,
// replays them to the manager's binary, which it executes from a
// descriptor the manager opened, as the guard. (The bare stand-in only
// collects them; the pause binary's Go program takes over to keep those
// of the sandboxes still registered when they fill its 256 KiB or the
// manager dies.) The first OutliveManager sandbox replaces it with
// the guard itself, which must watch container exits live.
//
//   - DieWithManager (a command's mode, podrun's): on EOF the guard
//     destroys every such sandbox of its manager that still names it,
//     whatever state it was caught in, with the package's own Destroy
//     (what Reconcile does for an interrupted Create), then exits: no
//     process, cgroup, mount or file is left, in both PID-namespace modes
//     (TestDieWithManager: well under the 2 s it allows).
//   - OutliveManager (a daemon's mode): the pod keeps running and the
//     guard records the real exit status and time of each container init
//     that exits while no manager runs, in <sandbox dir>/exits/<name>.json;
//     it exits when the last watched init has. The inits are not its
//     children (libcontainer makes them the manager's, and an orphan
//     re-parents to init or a subreaper above the manager), so it learns
//     their exits from the kernel's process-events connector
//     (NETLINK_CONNECTOR, CN_IDX_PROC), which reports the wait status of
//     any process; it subscribes before it is told of any init. A new
//     manager's Load starts its own listener first, then kills the dead
//     manager's guard (so nothing writes into a directory it owns), then
//     reads the records; an init it re-attaches that is not its child has
//     its exit from the same listener. Cost: one guard per manager, about
//     12 MB resident (mostly the shared pages of the binary; 1.3 MB
//     anonymous), plus under 20 KB per pod (TestGuardMemory).
//
// DieWithParent is the kernel's narrower guarantee (PR_SET_PDEATHSIG on
// the pause, and on the inits): it kills processes only, leaves cgroups,
// pins and files, and combines with any Lifetime. Remove destroys a
// leftover sandbox by ID in any state, whoever created it.
//
// libcontainer makes its stage-1 child and each container init children of
// the manager (CLONE_PARENT). The sandbox reaps every init concurrently,
// and reaps the zombies a failed start leaves behind: one in the pod's PID
// namespace would keep a dying pause (that namespace's PID 1) from ever
// finishing its exit. KillAll never waits on a freeze that cannot complete
// (an execve waiting for frozen sibling threads). sandbox's TestChurn runs
// a thousand create/destroy cycles with processes killed at random points.
//
// # Threads
//
// Importing the package locks the main goroutine to the main thread at
// init: libcontainer and nsjoin move throwaway threads into container
// namespaces and cgroups, and the main thread must never be one of them.
//
// # Root filesystems
//
// ContainerSpec.Rootfs is a directory prepared by the caller (an unpacked
// image). Inside it every container gets private /proc, /dev (tmpfs with
// the standard device nodes), /dev/pts, /dev/mqueue and a read-only
// /sys; masked and read-only /proc paths as runc/containerd set
// them (ContainerSpec.MaskedPaths and ReadonlyPaths replace them; empty
// means none); the runtime-default capability set ("ALL" in
// ContainerSpec.Capabilities: every capability the manager holds),
// no_new_privs and RLIMIT_NOFILE 1024. ContainerSpec.Privileged is
// containerd's and CRI-O's privileged mode: every capability, every
// device node of the host's /dev with the device cgroup allowing all, no
// masked or read-only paths, /sys (and a cgroup mount) mounted without
// "ro", no seccomp filter. The kernel keeps one sysfs superblock per
// network namespace, made by the first mount: after an unprivileged
// container of the pod mounted /sys read-only, a privileged one's /sys is
// read-only too (with HostNetwork it is the host's, writable). Mount.Propagation is private (rprivate), rslave (host
// to container) or rshared (both ways); as containerd does, the source
// must be on a shared mount for rshared and a shared or slave one for
// rslave (a *FieldError otherwise), and the root's propagation becomes
// rshared or rslave to carry them. There is no host-root mode in this package (podrun builds one
// from read-only bind mounts: examples/internal/hostroot).
//
// # Mounts as on a cluster
//
// /dev/shm is the pod's: a 64 MiB tmpfs (PodShmSize, containerd's
// default) at <sandbox dir>/shm, bound into every container, so POSIX
// shared memory works between the containers of the pod (they share its
// IPC namespace); Destroy unmounts it. /sys/fs/cgroup shows the
// container's own cgroup, read-only: on v1 runc's "cgroup" mount (binds
// of its directory in each hierarchy), on v2 a bind of its directory
// (not a cgroup namespace: see podMounts for why), so runtimes sizing
// themselves from cgroup limits see the container's.
//
// Mount.SubPath mounts a path inside the volume, as Kubernetes' subPath:
// validated lexically (relative, no ".."), opened beneath the volume
// with openat2 RESOLVE_BENEATH (a symlink out of it is a *FieldError
// wrapping ErrSubPath), created if missing with the volume root's mode,
// and bound from the opened file through a private staging mount under
// <sandbox dir>/mounts/<name>, detached as soon as the container's mounts
// are made (kubelet's approach: no path is resolved twice). A mount point
// missing under a read-only rootfs or a read-only bind mount is shown
// through a read-only overlay of a skeleton over that directory instead
// of being created in it (mountpoints_linux.go explains the choice).
// Volume.FSGroup applies Kubernetes' fsGroup to a volume
// (SetVolumeOwnership).
//
// # Seccomp
//
// ContainerSpec.Seccomp is the container's profile (package
// github.com/podkit/podkit/nsjoin/seccomp): Unconfined, the zero value, as in
// Kubernetes (a pod gets RuntimeDefault only when it asks, or from a
// kubelet with --seccomp-default, and the CRI's "unset" must read
// Seccomp: 0; a library default of RuntimeDefault would also break every
// embedder built without the tag below); RuntimeDefault (the profile
// Docker, containerd and CRI-O ship, moby/profiles); or Localhost, an
// absolute path to a profile file in Docker's JSON format. CreateContainer
// resolves it against the container's capabilities (the default profile
// allows more to a container holding CAP_SYS_ADMIN and the like), reads
// and compiles a Localhost file, and refuses a bad one with a *FieldError
// naming Seccomp (wrapping ErrInvalidConfig and seccomp.ErrInvalidProfile)
// before anything is made. The profile reaches libcontainer as the OCI
// spec's Linux.Seccomp, and libcontainer's init applies it (compiled by
// libseccomp) right before it execs the container's process. That needs
// libcontainer's seccomp support: programs must be built with `-tags
// seccomp` and cgo against libseccomp (Debian: libseccomp-dev; the
// integration scripts and test builds do so). Built without it, a profile
// other than Unconfined fails with ErrSeccompUnsupported and nothing is
// created: a profile is never dropped silently.
//
// Exec gives every process it starts the container's profile: compiled
// by the seccomp package from the config libcontainer keeps (so it is the
// same after Load), once per container, and installed by nsjoin into the
// child while it is stopped at its exec, by ptrace (nsjoin.Security's
// Seccomp), so no code of the manager runs under the filter. It costs the
// exec the stop (which rlimits under no_new_privs already take) and one
// injected call; BenchmarkSecuritySeccomp (nsjoin) measured 3.7 ms
// without and 4.7 ms with the default profile for a small Go program on a
// loaded 2-CPU machine, the program's own syscalls included, which the
// filter's linear chain evaluates (a binary search by syscall number, as
// libseccomp builds, would make that cheaper). Limits: amd64 only for now; a
// manager that may not ptrace its children (Yama ptrace_scope 2 or 3, or
// itself traced) cannot exec into a confined container; and in a
// container with AllowNewPrivileges and without CAP_SYS_ADMIN the exec'd
// process gets no_new_privs, which the kernel requires before an
// unprivileged process installs a filter.
//
// # The libcontainer bootstrap
//
// libcontainer starts each container by re-executing the current binary
// (/proc/self/exe) with argv[1] "init"; its C part (nsenter) runs before the
// Go runtime. Importing this package installs both: the nsenter constructor
// and a package init function that dispatches to libcontainer.Init when the
// process is such a bootstrap (argv[1] == "init" and libcontainer's
// _LIBCONTAINER_INITPIPE set), so it works in plain programs and in go test
// binaries alike. Programs embedding the package therefore need CGO. The
// bootstrap runs every package init of the embedding binary: keep their
// side effects cheap.
//
// Before each container start libcontainer makes a sealed, read-only view
// of /proc/self/exe (CVE-2019-5736). On kernels with fsopen(2) and
// overlayfs this is an overlay mount costing a fraction of a millisecond;
// only where overlayfs is unavailable does it fall back to copying the
// binary into a sealed memfd, which scales with the binary's size. If the
// process was itself executed from a sealed memfd the step is skipped.
//
// libcontainer's state lives under <RunDir>/<ID>/libct, never next to the
// binary. On cgroup v1 hybrid hosts libcontainer also creates the
// container's directory in the (empty) unified hierarchy; Destroy removes
// the pod's directories in every hierarchy.
package sandbox
