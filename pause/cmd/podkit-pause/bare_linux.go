//go:build linux && (amd64 || arm64)

package main

// bareEntry is the bare pause: pause mode (no command) without the Go
// runtime, in bare_linux_amd64.s and bare_linux_arm64.s. Linked with
// -ldflags=-E=main.bareEntry (pause.LinkFlags) it is the process's entry
// point. When the arguments are
// pause mode's own (--ready-fd=N, --events-fd=N, --events-drop, as
// pause.Start passes them), it does what run does in pause mode with raw
// system calls: SIGCHLD, SIGTERM and SIGINT blocked and taken with
// rt_sigtimedwait, every other signal SIG_IGN, the subreaper notice when not
// PID 1, the ready byte, then a loop that reaps every zombie and writes the
// same event lines. With --guard-wait=4 -- ARGV it is the bare guard
// stand-in (guardWait in the assembly, which hands over to guardwait.go's
// Go program). Anything else (a command, --help, a bad flag) jumps to the
// Go runtime's entry with the stack untouched, and main runs as usual.
//
// Without the Go runtime the pause is what Kubernetes' C pause is: one
// thread, no heap (anon RSS is a few pages of stack and the 512-byte state),
// ready as soon as its dozen system calls are done.
//
//lint:ignore U1000 the entry point: named by -E=main.bareEntry, called by no Go code
func bareEntry()
