// Package cgroup manages a pod's cgroup and its per-container cgroups on
// cgroup v1 and cgroup v2.
//
// # Layout
//
// A pod gets one cgroup <parent>/<pod-id> (parent DefaultParent, "/podkit",
// unless PodConfig.Parent says otherwise), a leaf for the pause process
// (<pod>/pause: a v2 cgroup with processes cannot have children, so no
// process ever lives in the pod cgroup itself) and a leaf per container
// (<pod>/<name>). Names are single path components; "..", "/", NUL, empty
// and overlong names are refused with a *NameError, and every resolved path
// stays under its parent.
//
// # Modes
//
// Host detects the mount layout once per process (no mountinfo parsing per
// call): unified (v2 only), hybrid (v1 controllers plus an empty v2 tree) or
// legacy (v1 only). Hybrid counts as v1 for controllers; deletion removes the
// path in every hierarchy of the host, named v1 hierarchies (name=systemd)
// and the v2 tree included, because a runtime such as libcontainer may have
// created directories there. Unified builds a System for an explicitly given
// cgroup2 mount (for example the empty v2 tree of a hybrid host).
//
// The same Cgroup interface covers both versions. v2-only abilities are
// separate interfaces: DirOpener hands out the O_DIRECTORY fd for
// CLONE_INTO_CGROUP (see OpenDir). Paths follows libcontainer's convention:
// per-controller directories on v1, one "" entry on v2.
//
// Only the controllers a pod needs are used: on v1 memory, cpu, cpuacct,
// pids and freezer (stats, OOM events, kill-all), plus cpuset and blkio when
// the resources ask for them; on v2 cpu, memory and pids when offered, plus
// what the resources ask for.
//
// # Resources
//
// Resources are given in Kubernetes terms and converted as kubelet does:
// CPU requests in millicores become cpu.shares (MilliCPUToShares, 2..262144)
// or cpu.weight (SharesToWeight); limits become a CFS quota of
// milli*period/1000 µs (at least 1000 µs, period 100 ms unless set). A memory
// request becomes the v1 soft limit or v2 memory.low; swap is on top of the
// memory limit. Nonsense is refused with a *ResourceError wrapping
// ErrInvalidResources before anything is created; a cpuset outside the
// parent's effective set is refused at creation. Nothing is left behind on
// error.
//
// # Processes, events, teardown
//
// AddProcess moves a process in. KillAll uses cgroup.kill on v2 and waits for
// cgroup.events "populated 0"; on v1 it loops freeze, SIGKILL every listed
// process, thaw, until cgroup.procs of the subtree is empty, so processes
// that ignore SIGTERM and keep forking are all caught. Delete removes the
// tree bottom-up in every hierarchy with a bounded retry on EBUSY and is
// idempotent. An OOMWatcher reports each OOM kill with the cgroup it happened
// in (v1: eventfd on memory.oom_control through cgroup.event_control; v2:
// inotify on memory.events.local), telling kills from mere OOM by the
// oom_kill counter; OOMKills reads that counter alone (one file, where
// Stats reads a dozen), for a runtime that checks it at every exit.
//
// Implementation: limits are raw cgroupfs writes (one open, write, close per
// file, measured faster than containerd/cgroups' managers, see the
// benchmarks); statistics are read from the interface files directly, on
// v1 and v2 alike.
package cgroup
