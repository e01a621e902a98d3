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
// Signals are received synchronously through the Go runtime's signal queue
// (os/signal); no work happens in a signal handler and nothing polls.
//
// Build it static and CGO-free:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /usr/local/bin/podkit-pause ./pause/cmd/podkit-pause
package main
