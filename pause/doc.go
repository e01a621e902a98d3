// Package pause locates and starts podkit-pause, the tiny PID 1 that holds a
// pod's namespaces.
//
// The pause process is the first process of a pod. It is started in the new
// namespaces the pod shares (network, IPC, UTS and optionally PID), reaps every
// zombie re-parented to it, exits 0 on SIGTERM or SIGINT and does nothing else.
// The binary lives in pause/cmd/podkit-pause; it is static and CGO-free so it
// can run inside any root filesystem. Start returns only once the pause has
// reported readiness (a byte on an inherited pipe, written once it takes its
// signals: handlers installed, or blocked for rt_sigtimedwait in the bare
// pause), so callers never race it.
//
// A typical pod start:
//
//	p, err := pause.Start(ctx, pause.Options{
//		Cloneflags:    pause.PodNamespaces,     // net+ipc+uts+pid; the pause is PID 1
//		UseCgroupFD:   true, CgroupFD: podLeaf, // clone3 CLONE_INTO_CGROUP (cgroup v2)
//		DieWithParent: true,                    // forked from a dedicated locked thread
//	})
//	// join its namespaces with setns(p.PidFD(), ...) or p.NamespacePath("net")
//	st, err := p.Stop(ctx) // SIGTERM, SIGKILL if ctx ends; exit status 0
//
// Spawn and Process.Ready are Start in two halves, for a caller with work
// to do meanwhile: the namespaces exist as soon as Spawn returns, and the
// pause starts (a fifth of a millisecond for the bare pause, about a
// millisecond for a Go runtime) while the caller pins and configures them.
//
// The Process keeps a pidfd (SysProcAttr.PidFD), so Signal
// (pidfd_send_signal) and Wait (waitid P_PIDFD) never hit a recycled pid.
//
// A manager of many pods holds several descriptors per pod; a fork copies
// them all and the pause's exec closes them one by one again. Built with
// cgo on amd64, a pause outside a new PID namespace is forked without that
// copy, by the C stage nsjoin's container and exec starts share
// (internal/ownfork): the child shares the manager's table only until it
// unshares one holding the few low slots reserved for it (close_range
// CLOSE_RANGE_UNSHARE), into which its descriptors were put, and execs.
// Where a kernel or a policy refuses a step, pauses are forked by
// syscall.ForkExec.
//
// With Options.Args the pause runs in init mode, like tini: the command runs
// in its own process group, every signal but SIGCHLD (and SIGURG, which the
// Go runtime uses for preemption) is forwarded to that group, orphans are
// reaped, and the pause exits with the command's status (128+N when killed by
// signal N, 127 when not found, 126 when not executable). Options.Orphans
// chooses whether it exits with the command or waits for every descendant.
// Options.Events receives one JSON object per line for each process reaped,
// the command's exit and each signal acted on. In pause mode every signal
// but SIGTERM, SIGINT and SIGCHLD is ignored in the kernel (SIG_IGN), so it
// is neither relayed nor reported: relaying the 60 others cost ~2.5 ms of
// the pause's start.
//
// Find locates the binary: $PODKIT_PAUSE, next to the running executable,
// $PATH, then LibexecDir. Its error says how to build the binary:
//
//	CGO_ENABLED=0 go build -ldflags=-E=main.bareEntry -o /usr/local/bin/podkit-pause ./pause/cmd/podkit-pause
//
// The -E flag (BareLinkFlag, amd64 and arm64; LinkFlags gives the flags for an
// architecture) makes pause mode run without the Go runtime: see the
// command's documentation. A binary built without it works the same, with
// a Go runtime's start-up time and memory.
package pause
