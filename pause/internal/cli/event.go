//go:build linux

package cli

import (
	"strconv"
	"syscall"
)

// Event kinds written to the events fd.
const (
	EventOrphan = "orphan" // a process other than CMD was reaped
	EventExit   = "exit"   // CMD was reaped
	EventSignal = "signal" // a signal was received (with what was done)
)

// Event is one line on the events fd.
type Event struct {
	Kind   string
	Pid    int                // reaped process (orphan, exit), as seen by the pause
	Status syscall.WaitStatus // orphan, exit
	Signal syscall.Signal     // signal events
	Action Action             // signal events
}

// AppendJSON appends e as one JSON object and a newline. Examples:
//
//	{"event":"orphan","pid":42,"code":0}
//	{"event":"exit","pid":2,"code":137,"signal":"SIGKILL"}
//	{"event":"signal","signal":"SIGUSR1","action":"forwarded"}
//
// "code" is the shell-style status (128+N when killed by signal N). All
// strings come from fixed tables, so no escaping is needed.
func AppendJSON(b []byte, e Event) []byte {
	b = append(b, `{"event":"`...)
	b = append(b, e.Kind...)
	b = append(b, '"')
	if e.Kind == EventSignal {
		b = append(b, `,"signal":"`...)
		b = append(b, SignalName(e.Signal)...)
		b = append(b, `","action":"`...)
		b = append(b, e.Action.String()...)
		return append(b, "\"}\n"...)
	}
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(e.Pid), 10)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(StatusCode(e.Status)), 10)
	if e.Status.Signaled() {
		b = append(b, `,"signal":"`...)
		b = append(b, SignalName(e.Status.Signal())...)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}
