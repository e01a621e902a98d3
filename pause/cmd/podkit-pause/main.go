//go:build linux

package main

import (
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"

	"github.com/podkit/podkit/pause/internal/cli"
)

// version is set with -ldflags=-X=main.version=...
var version = "0.1.0"

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cfg, err := cli.Parse(args)
	switch {
	case err != nil:
		say(2, "podkit-pause: "+err.Error()+"\n"+cli.Usage)
		return cli.CodeUsage
	case cfg.Help:
		say(1, cli.Usage)
		return 0
	case cfg.Version:
		say(1, "podkit-pause "+version+"\n")
		return 0
	case cfg.GuardWait > 0:
		return guardWait(cfg.GuardWait, cfg.GuardRead, cfg.Command)
	}
	// SIGCHLD has a channel of its own: os/signal drops a signal when the
	// channel is full, so a burst of SIGCHLDs sharing one channel with
	// SIGTERM could make the pause miss its SIGTERM. One pending SIGCHLD is
	// enough (each one reaps until no zombie is left), so its channel holds
	// one. SIGURG is the runtime's preemption signal: never relayed.
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	sigs := make(chan os.Signal, 64)
	pauseMode := len(cfg.Command) == 0
	if pauseMode {
		// Every other signal is ignored in the kernel (SIG_IGN), as a pause
		// should: nothing to do, nothing to report. Relaying them too, only
		// to drop them, cost a round trip to the runtime's signal thread
		// each (~40 µs): 62 of them tripled the pause's start.
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		signal.Ignore(otherSignals()...)
	} else {
		// Init mode forwards everything, and CMD must not inherit an
		// ignored disposition: relay every catchable signal before CMD starts.
		signal.Notify(sigs, relayedSignals()...)
	}
	if pid := syscall.Getpid(); pid != 1 {
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
			say(2, "podkit-pause: PR_SET_CHILD_SUBREAPER: "+e.Error()+"\n")
			return 1
		}
		say(2, "podkit-pause: not PID 1 (pid "+strconv.Itoa(pid)+"): registered as child subreaper\n")
	}
	for _, fd := range []int{cfg.ReadyFD, cfg.EventsFD} {
		if fd > 2 {
			syscall.CloseOnExec(fd) // never leak them into CMD
		}
	}
	if cfg.EventsDrop {
		syscall.SetNonblock(cfg.EventsFD, true)
	}
	p := &pauser{cfg: cfg, events: cfg.EventsFD, cmdPid: -1}
	if len(cfg.Command) > 0 {
		if code, ok := p.startCommand(); !ok {
			return code
		}
	}
	if cfg.ReadyFD >= 0 {
		syscall.Write(cfg.ReadyFD, []byte{'R'})
		syscall.Close(cfg.ReadyFD)
	}
	settle()
	return p.loop(chld, sigs)
}

// settle does, after the ready byte, the set-up that readiness does not
// need, so that whoever waits for the pause does not wait for it too.
func settle() {
	// The pause allocates (almost) nothing after start-up: no GC cycles, but
	// a memory limit as a safety net in case something does. Both stop the
	// world (~0.1 ms each).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(16 << 20)
}

// say writes s to fd, ignoring errors: there is nobody to tell.
func say(fd int, s string) { syscall.Write(fd, []byte(s)) }

// relayedSignals is every signal but SIGCHLD and SIGURG (SIGKILL and SIGSTOP
// cannot be caught; os/signal ignores them).
func relayedSignals() []os.Signal { return signalsExcept(syscall.SIGCHLD, syscall.SIGURG) }

// otherSignals is what pause mode ignores: all but SIGCHLD, SIGURG (the
// runtime's) and the two that make it exit.
func otherSignals() []os.Signal {
	return signalsExcept(syscall.SIGCHLD, syscall.SIGURG, syscall.SIGTERM, syscall.SIGINT)
}

func signalsExcept(skip ...syscall.Signal) []os.Signal {
	var out []os.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		if !slices.Contains(skip, n) {
			out = append(out, n)
		}
	}
	return out
}
