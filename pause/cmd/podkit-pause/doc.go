// Command podkit-pause is the tiny PID 1 of a podkit pod.
//
// Pause mode (no command): it reaps every zombie as soon as SIGCHLD arrives,
// exits 0 on SIGTERM or SIGINT, and ignores every other signal (SIG_IGN,
// set before it reports ready, so none can kill it). Init mode
// (podkit-pause [flags] -- CMD ARGS...): like tini, it runs CMD in its own
// process group, forwards signals to that group, reaps orphans and exits with
// CMD's status. When it is not PID 1 it registers as a child subreaper and
// says so once on stderr. See podkit-pause --help for the flags.
//
// One more mode is not a pause: --guard-wait=EXEFD -- ARGV stands in for
// a podkit sandbox manager's guard (see package sandbox) at a fraction of
// its cost, and hands over to the manager's binary if the manager dies.
// With the bare entry below, --guard-wait=4 (as the sandbox package
// starts it) is bare too: it collects the manager's messages and exits on
// its goodbye; when the manager dies or the messages fill 256 KiB, it
// hands them to the Go program (--guard-wait=4,5: fd 5 holds them),
// which keeps only those of the sandboxes still registered.
//
// Signals are received synchronously, never in a handler, and nothing polls.
// On amd64 and arm64, linked with -E=main.bareEntry (pause.BareLinkFlag),
// pause mode is the bare pause (bare_linux_amd64.s, bare_linux_arm64.s; the
// arm64 one is tested under qemu-user): a few hundred instructions of
// assembly that block SIGCHLD, SIGTERM and SIGINT, take them with
// rt_sigtimedwait and reap with wait4, with no Go runtime at all, so that
// the pause starts in a fifth of a millisecond and lives in one thread and
// a few pages, as Kubernetes' C pause does. Every other invocation (init
// mode, --help, anything pause mode does not take) enters the Go program
// below, which receives signals through the Go runtime's queue (os/signal).
// Without the flag the Go program runs pause mode too, the same way.
//
// Build it static and CGO-free:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -E=main.bareEntry' -o /usr/local/bin/podkit-pause ./pause/cmd/podkit-pause
package main
