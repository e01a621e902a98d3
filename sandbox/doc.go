// Package sandbox is the pod lifecycle: a pod as a Go value.
//
// A sandbox is a "logical host": shared network, IPC and UTS (optionally
// PID) namespaces, a pod cgroup, and containers that join those namespaces
// while keeping their own mount namespace, root filesystem and cgroup
// limits. Containers are run in-process through runc's libcontainer.
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
// pause dies. Status reports the Kubernetes pod phase and per-container
// states; Events streams typed events.
//
// Containers: CreateContainer prepares everything and leaves libcontainer's
// init waiting on its exec fifo; StartContainer only lets it exec (the CRI's
// two steps). Run adds init containers (in order, to completion) and restart
// policies with Kubernetes' back-off. Exec runs probes. Stop sends SIGTERM,
// waits the grace period, then kills each container's whole cgroup, then
// the pause. Destroy is idempotent. Load and Reconcile re-attach after a
// crash of the managing process, identifying processes by pidfd plus start
// time, and finish interrupted Creates and Destroys.
//
// # Root filesystems
//
// ContainerSpec.Rootfs is a directory prepared by the caller (an unpacked
// image). Inside it every container gets private /proc, /dev (tmpfs with
// the standard device nodes), /dev/pts, /dev/shm, /dev/mqueue and a
// read-only /sys; masked and read-only /proc paths as runc/containerd set
// them; the runtime-default capability set and no_new_privs. There is no
// host-root mode.
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
