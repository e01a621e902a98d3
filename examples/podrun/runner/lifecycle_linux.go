//go:build linux

package runner

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podkit/podkit/examples/kubelet"
)

// logFile is the CRI log file of a container's run, which the kubelet
// layer reads for terminationMessagePolicy: FallbackToLogsOnError.
func (r *podRun) logFile(name string, attempt int) string {
	return filepath.Join(r.logs.dir, name, strconv.Itoa(attempt)+".log")
}

// noteMessage prints a container's termination message once per run, as
// a TerminationMessage event (the table has no column for it; --json
// status records carry it as containers[].message).
func (r *podRun) noteMessage(c kubelet.ContainerStatus) {
	if c.Message == "" {
		return
	}
	key := c.Name + "/" + strconv.Itoa(c.RestartCount)
	r.mu.Lock()
	if r.messages == nil {
		r.messages = map[string]string{}
	}
	seen := r.messages[key] == c.Message
	r.messages[key] = c.Message
	r.mu.Unlock()
	if !seen {
		r.out.event(c.Name, "TerminationMessage", "%s", strings.TrimRight(c.Message, "\n"))
	}
}
