//go:build linux

package cli

import (
	"strconv"
	"syscall"
)

// Action is what the pause does with a received signal.
type Action int

const (
	Ignore  Action = iota // drop it
	Reap                  // reap every zombie child
	Exit                  // exit 0 (pause mode, SIGTERM/SIGINT)
	Forward               // send it to CMD's process group (init mode)
)

func (a Action) String() string {
	switch a {
	case Ignore:
		return "ignored"
	case Reap:
		return "reap"
	case Exit:
		return "exit"
	case Forward:
		return "forwarded"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Decide is the signal policy. Synchronous faults never reach it: the Go
// runtime turns them into crashes and only relays the same signals when they
// were sent with kill(2). SIGURG is never forwarded because the Go runtime
// sends it to its own threads for goroutine preemption and relays those too.
func Decide(sig syscall.Signal, initMode bool) Action {
	switch sig {
	case syscall.SIGCHLD:
		return Reap
	case syscall.SIGURG:
		return Ignore
	}
	if initMode {
		return Forward
	}
	if sig == syscall.SIGTERM || sig == syscall.SIGINT {
		return Exit
	}
	return Ignore
}

var sigNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

// SignalName returns "SIGTERM"-style names; real-time signals are
// "SIGRTMIN+N" relative to signal 34 (the first one not reserved by glibc)
// and "SIG32"/"SIG33" for the two reserved ones.
func SignalName(sig syscall.Signal) string {
	n := int(sig)
	if n > 0 && n < len(sigNames) {
		return sigNames[n]
	}
	if n >= 34 && n <= 64 {
		return "SIGRTMIN+" + strconv.Itoa(n-34)
	}
	return "SIG" + strconv.Itoa(n)
}
