//go:build linux

package sandbox

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The pause of a shared PID namespace (PID 1 there, the only pause with
// children) reports reaped orphans as JSON lines on a FIFO in the sandbox
// directory, not on a pipe: a manager that restarts (Load) opens it again
// and reads on. The pause holds it open read-write and runs with
// DropEvents, so it never blocks on it while no manager reads; what
// happened meanwhile is kept up to the pipe's capacity (64 KiB).
func (s *Sandbox) eventsFIFOPath() string { return filepath.Join(s.dir, "pause-events") }

// pauseEventsFIFO creates the FIFO and opens it: w for the pause (read-write,
// so opening never blocks and the pause never gets EPIPE), r for us.
func (s *Sandbox) pauseEventsFIFO() (r, w *os.File, err error) {
	path := s.eventsFIFOPath()
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	if w, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, nil, err
	}
	if r, err = openEventsReader(path); err != nil {
		w.Close()
		return nil, nil, err
	}
	return r, w, nil
}

// openEventsReader opens the FIFO for reading without waiting for a writer.
// With no writer left (the pause is gone) reads see EOF at once.
func openEventsReader(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// rewirePauseEvents is Load's half: read the FIFO of a live pause again.
func (s *Sandbox) rewirePauseEvents() {
	r, err := openEventsReader(s.eventsFIFOPath())
	if err != nil {
		return // a sandbox created before the FIFO existed: no events
	}
	s.pauseEvents = make(chan struct{})
	go s.readPauseEvents(r, s.pauseEvents)
}

// readPauseEvents turns the pause's JSON event lines into sandbox events:
// every orphan the pause reaps (it is PID 1 of a shared PID namespace, or
// a subreaper) becomes an OrphanReaped event. It returns at EOF, which
// comes when the pause has exited.
func (s *Sandbox) readPauseEvents(r *os.File, done chan struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var e struct {
			Event string `json:"event"`
			Pid   int    `json:"pid"`
			Code  int    `json:"code"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Event != "orphan" {
			continue
		}
		es := &ExitStatus{ExitCode: e.Code, Reason: ReasonCompleted, Finished: time.Now()}
		if e.Code != 0 {
			es.Reason = ReasonError
		}
		s.events.emit(Event{Type: EventOrphanReaped, Sandbox: s.cfg.ID, Pid: e.Pid, Exit: es})
	}
}
