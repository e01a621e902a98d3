//go:build linux

package cli

import (
	"strconv"
	"strings"
)

// OrphanPolicy says when init mode exits.
type OrphanPolicy int

const (
	// OrphansExit exits as soon as CMD exits (the default, like tini).
	OrphansExit OrphanPolicy = iota
	// OrphansWait keeps reaping after CMD exits and exits only once every
	// descendant is gone.
	OrphansWait
)

func (p OrphanPolicy) String() string {
	switch p {
	case OrphansExit:
		return "exit"
	case OrphansWait:
		return "wait"
	}
	return "OrphanPolicy(" + strconv.Itoa(int(p)) + ")"
}

// ParseOrphanPolicy parses "exit" or "wait".
func ParseOrphanPolicy(s string) (OrphanPolicy, bool) {
	switch s {
	case "exit":
		return OrphansExit, true
	case "wait":
		return OrphansWait, true
	}
	return 0, false
}

// Config is the parsed command line of podkit-pause.
type Config struct {
	Version  bool // --version: print the version and exit 0
	Help     bool // --help / -h: print usage and exit 0
	ReadyFD  int  // --ready-fd=N: write one byte when ready, then close; -1 = none
	EventsFD int  // --events-fd=N: JSON lines of reaps/exits/signals; -1 = none
	// EventsDrop (--events-drop): never block on the events fd; an event
	// that does not fit (reader slow or gone, pipe full) is dropped.
	EventsDrop bool
	Orphans    OrphanPolicy // --orphans=exit|wait (init mode only)
	// GuardWait (--guard-wait=EXEFD): stand in for a sandbox manager's
	// guard, reading its messages on fd 3; if the manager dies, execute
	// EXEFD with the command's argv. 0 = not this mode.
	GuardWait int
	// GuardRead (--guard-wait=EXEFD,READFD): a file holding the messages
	// already read from fd 3, to read before it (the bare stand-in hands
	// over this way). 0 = none.
	GuardRead int
	Command   []string // after "--": init mode CMD ARGS...; empty = pause mode
}

// MaxFD bounds the fd numbers accepted on the command line.
const MaxFD = 1 << 20

// Usage is the help text.
const Usage = `usage: podkit-pause [--ready-fd=N] [--events-fd=N [--events-drop]]
       podkit-pause [--ready-fd=N] [--events-fd=N [--events-drop]] [--orphans=exit|wait] -- CMD [ARG...]
       podkit-pause --guard-wait=EXEFD[,READFD] -- ARGV0 [ARG...]
       podkit-pause --version

Pause mode (no CMD): reap every zombie, exit 0 on SIGTERM or SIGINT, ignore
all other signals. Init mode: run CMD in its own process group, forward every
signal but SIGCHLD (and SIGURG, reserved by the Go runtime) to that group, reap
orphans, and exit with CMD's status (128+N if killed by signal N, 127 if CMD is
not found, 126 if it cannot be executed). When not PID 1 it registers as a
child subreaper.

  --ready-fd=N     write one byte to fd N once ready, then close it
  --events-fd=N    write one JSON object per line to fd N for each reaped
                   process, CMD's exit and each signal acted on (pause
                   mode ignores all but SIGTERM/SIGINT in the kernel)
  --events-drop    never block on the events fd: drop an event that does not
                   fit (for a FIFO whose reader may come and go)
  --orphans=exit   exit as soon as CMD exits (default)
  --orphans=wait   after CMD exits, wait until every descendant is gone
  --guard-wait=N[,R]
                   not a pause: stand in for a podkit sandbox manager's
                   guard (its messages on fd 3, after those already read
                   into the file open as fd R); if the manager dies, run
                   the manager's binary, open as fd N, with ARGV
`

// Parse parses the arguments after argv[0]. Flags take "--flag=value" or
// "--flag value". Everything after "--" is the command.
func Parse(args []string) (Config, error) {
	c := Config{ReadyFD: -1, EventsFD: -1}
	orphansSet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			c.Command = args[i+1:]
			if len(c.Command) == 0 {
				return Config{}, usageErr(a, "missing command after --")
			}
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--events-drop", "-events-drop":
			if hasVal {
				return Config{}, usageErr(a, "flag takes no value")
			}
			c.EventsDrop = true
			continue
		case "--version", "-version", "--help", "-help", "-h":
			if hasVal {
				return Config{}, usageErr(a, "flag takes no value")
			}
			if strings.Contains(name, "version") {
				c.Version = true
			} else {
				c.Help = true
			}
			continue
		case "--ready-fd", "-ready-fd", "--events-fd", "-events-fd", "--orphans", "-orphans", "--guard-wait", "-guard-wait":
		default:
			return Config{}, usageErr(a, "unknown argument (init mode needs -- before the command)")
		}
		if !hasVal {
			if i+1 >= len(args) {
				return Config{}, usageErr(a, "missing value")
			}
			i++
			val = args[i]
		}
		var err error
		switch strings.TrimLeft(name, "-") {
		case "ready-fd":
			c.ReadyFD, err = parseFD(a, val)
		case "events-fd":
			c.EventsFD, err = parseFD(a, val)
		case "guard-wait":
			c.GuardWait, c.GuardRead, err = parseGuardFDs(a, val)
		case "orphans":
			var ok bool
			if c.Orphans, ok = ParseOrphanPolicy(val); !ok {
				err = usageErr(a, "want exit or wait")
			}
			orphansSet = true
		}
		if err != nil {
			return Config{}, err
		}
	}
	return c, c.check(orphansSet)
}

func (c Config) check(orphansSet bool) error {
	if c.ReadyFD >= 0 && c.ReadyFD == c.EventsFD {
		return usageErr("--events-fd="+strconv.Itoa(c.EventsFD), "same fd as --ready-fd")
	}
	if c.EventsDrop && c.EventsFD < 0 {
		return usageErr("--events-drop", "needs --events-fd")
	}
	if c.GuardWait > 0 && (len(c.Command) == 0 || c.ReadyFD >= 0 || c.EventsFD >= 0 || orphansSet) {
		return usageErr("--guard-wait="+strconv.Itoa(c.GuardWait), "takes only the manager's argv after --")
	}
	if orphansSet && len(c.Command) == 0 {
		return usageErr("--orphans="+c.Orphans.String(), "only valid with a command after --")
	}
	if len(c.Command) > 0 && c.Command[0] == "" {
		return usageErr("", "empty command")
	}
	return nil
}

// parseGuardFDs parses --guard-wait's EXEFD[,READFD]: descriptors above
// 3 (0-2 are stdio, 3 the manager's pipe), READFD unlike EXEFD.
func parseGuardFDs(arg, val string) (exe, read int, err error) {
	exeVal, readVal, hasRead := strings.Cut(val, ",")
	if exe, err = parseFD(arg, exeVal); err == nil && exe <= 2 {
		err = usageErr(arg, "want a descriptor above 2 (0-2 are stdio)")
	}
	if err != nil || !hasRead {
		return exe, 0, err
	}
	if read, err = parseFD(arg, readVal); err == nil && (read <= 3 || read == exe) {
		err = usageErr(arg, "want a read descriptor above 3 and unlike the executable's")
	}
	return exe, read, err
}

func parseFD(arg, val string) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n > MaxFD {
		return -1, usageErr(arg, "want a file descriptor number")
	}
	return n, nil
}

// Args is the inverse of Parse: the argv (without argv[0]) that parses back
// to c. Version and Help are not encoded.
func (c Config) Args() []string {
	a := make([]string, 0, 4+len(c.Command))
	if c.ReadyFD >= 0 {
		a = append(a, "--ready-fd="+strconv.Itoa(c.ReadyFD))
	}
	if c.EventsFD >= 0 {
		a = append(a, "--events-fd="+strconv.Itoa(c.EventsFD))
		if c.EventsDrop {
			a = append(a, "--events-drop")
		}
	}
	if c.GuardWait > 0 {
		fds := strconv.Itoa(c.GuardWait)
		if c.GuardRead > 0 {
			fds += "," + strconv.Itoa(c.GuardRead)
		}
		a = append(a, "--guard-wait="+fds)
	}
	if len(c.Command) > 0 {
		if c.Orphans != OrphansExit {
			a = append(a, "--orphans="+c.Orphans.String())
		}
		a = append(a, "--")
		a = append(a, c.Command...)
	}
	return a
}

func strconvQuote(s string) string { return strconv.Quote(s) }
