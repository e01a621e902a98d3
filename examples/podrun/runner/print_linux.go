//go:build linux

package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// printer writes the status table, events and prefixed logs (or JSON
// lines). It is safe for concurrent use.
type printer struct {
	mu       *sync.Mutex // shared by the printers of one run's pods (forPod)
	stdout   io.Writer
	stderr   io.Writer
	json     bool
	pod      string
	multi    bool  // one of several pods: log lines name the pod too
	header   *bool // the table's header was printed (shared)
	lastRow  string
	jsonEnc  *json.Encoder
	startAge time.Time
}

func newPrinter(stdout, stderr io.Writer, asJSON bool, pod string) *printer {
	return &printer{mu: &sync.Mutex{}, header: new(bool), stdout: stdout, stderr: stderr, json: asJSON, pod: pod,
		jsonEnc: json.NewEncoder(stdout), startAge: time.Now()}
}

// forPod is a printer for another pod of the same run: one table, one
// lock, one JSON stream, one clock.
func (p *printer) forPod(pod string) *printer {
	return &printer{mu: p.mu, header: p.header, stdout: p.stdout, stderr: p.stderr, json: p.json, pod: pod, multi: true,
		jsonEnc: p.jsonEnc, startAge: p.startAge}
}

// row is one line of the status table.
type row struct {
	Ready    string `json:"ready"`
	Status   string `json:"status"`
	Restarts int    `json:"restarts"`
	IP       string `json:"podIP"`
}

// JSON record types.
type statusRecord struct {
	Type       string            `json:"type"` // "status"
	Time       time.Time         `json:"time"`
	Pod        string            `json:"pod"`
	Phase      string            `json:"phase"`
	Ready      string            `json:"ready"`
	Status     string            `json:"status"`
	Restarts   int               `json:"restarts"`
	PodIP      string            `json:"podIP,omitempty"`  // status.podIP
	PodIPs     []string          `json:"podIPs,omitempty"` // status.podIPs
	Containers []containerRecord `json:"containers"`
}

type containerRecord struct {
	Name     string `json:"name"`
	Init     bool   `json:"init,omitempty"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Ready    bool   `json:"ready"`
	Restarts int    `json:"restartCount"`
	ExitCode *int   `json:"exitCode,omitempty"`
	Sidecar  bool   `json:"sidecar,omitempty"` // an init container with restartPolicy Always
	Started  bool   `json:"started"`           // postStart done, startup probe passed
	Message  string `json:"message,omitempty"` // the termination message of the last run
	ImageID  string `json:"imageID,omitempty"` // store images: the image's config digest
}

type eventRecord struct {
	Type      string    `json:"type"` // "event"
	Time      time.Time `json:"time"`
	Pod       string    `json:"pod"`
	Container string    `json:"container,omitempty"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
}

type logRecord struct {
	Type      string    `json:"type"` // "log"
	Time      time.Time `json:"time"`
	Pod       string    `json:"pod,omitempty"` // with several pods
	Container string    `json:"container"`
	Stream    string    `json:"stream"`
	Log       string    `json:"log"`
}

type resultRecord struct {
	Type     string `json:"type"` // "result"
	Pod      string `json:"pod"`
	Phase    string `json:"phase"`
	ExitCode int    `json:"exitCode"`
	Reason   string `json:"reason"`
	LogDir   string `json:"logDir"`
}

func (p *printer) emit(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.jsonEnc.Encode(v)
}

// status prints the row if it changed (the table) or the full record (JSON).
func (p *printer) status(rec statusRecord) {
	r := row{rec.Ready, rec.Status, rec.Restarts, rec.PodIP}
	key := fmt.Sprint(r)
	p.mu.Lock()
	if key == p.lastRow {
		p.mu.Unlock()
		return
	}
	p.lastRow = key
	p.mu.Unlock()
	if p.json {
		p.emit(rec)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !*p.header {
		*p.header = true
		fmt.Fprintf(p.stdout, "%-20s %-7s %-22s %-9s %-6s %s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP")
	}
	ip := r.IP
	if ip == "" {
		ip = "<none>" // as kubectl prints it
	}
	fmt.Fprintf(p.stdout, "%-20s %-7s %-22s %-9d %-6s %s\n", p.pod, r.Ready, r.Status, r.Restarts, age(time.Since(p.startAge)), ip)
}

// event reports something that happened, like `kubectl get events`.
func (p *printer) event(container, reason, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if p.json {
		p.emit(eventRecord{Type: "event", Time: time.Now().UTC(), Pod: p.pod, Container: container, Reason: reason, Message: msg})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	who := p.pod
	if container != "" {
		who += "/" + container
	}
	fmt.Fprintf(p.stderr, "  %-8s %-12s %-20s %s\n", age(time.Since(p.startAge)), reason, who, msg)
}

// log prints one container output line (--logs): "[container] line" for
// stdout, "[container] (stderr) line" for stderr.
func (p *printer) log(t time.Time, container, stream, line string) {
	if p.json {
		rec := logRecord{Type: "log", Time: t.UTC(), Container: container, Stream: stream, Log: line}
		if p.multi {
			rec.Pod = p.pod
		}
		p.emit(rec)
		return
	}
	if p.multi {
		container = p.pod + "/" + container
	}
	mark := ""
	if stream == streamStderr {
		mark = "(stderr) "
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stdout, "[%s] %s%s\n", container, mark, line)
}

func (p *printer) result(rec resultRecord) {
	if p.json {
		rec.Type = "result"
		p.emit(rec)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, "podrun: pod %s %s (%s), exit status %d; CRI logs in %s\n", rec.Pod, rec.Phase, rec.Reason, rec.ExitCode, rec.LogDir)
}

func age(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%dm", s/3600, s%3600/60)
}
