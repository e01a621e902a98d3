//go:build linux

package sandbox

import (
	"bufio"
	"encoding/json"
	"os"
	"time"
)

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
