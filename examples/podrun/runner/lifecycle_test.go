//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func lifecycleArgs(t *testing.T) (args []string, logDir string) {
	tmp := t.TempDir()
	logDir = filepath.Join(tmp, "logs")
	return []string{"--run-dir", filepath.Join(tmp, "run"), "--log-dir", logDir, "--cgroup-parent", testCgroupParent,
		"--no-network", "--backoff", "1s"}, logDir
}

// events lists "reason container: message" of the event records, in order.
func eventLines(recs []statusRec) []string {
	var out []string
	for _, r := range recs {
		if r.Type == "event" {
			out = append(out, r.Reason+" "+r.Container+": "+r.Message)
		}
	}
	return out
}

func indexOf(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

// TestSidecarJobPod runs pods/sidecar-job.yaml: the native sidecar starts
// up (postStart, startup probe) before the next init container, the job
// completes, the sidecar is stopped and the pod Succeeded, with the job's
// termination message.
func TestSidecarJobPod(t *testing.T) {
	testharness.Privileged(t)
	args, logDir := lifecycleArgs(t)
	code, recs, stderr := runPodrun(t, append(args, "../pods/sidecar-job.yaml"), nil)
	ev := eventLines(recs)
	if code != ExitSucceeded {
		t.Fatalf("exit %d\n%s\n%s", code, strings.Join(ev, "\n"), stderr)
	}
	up, setup := indexOf(ev, "StartedUp shipper:"), indexOf(ev, "Started setup:")
	if up < 0 || setup < 0 || up > setup {
		t.Errorf("setup started before the sidecar started up:\n%s", strings.Join(ev, "\n"))
	}
	if indexOf(ev, "TerminationMessage job: 3 steps done") < 0 {
		t.Errorf("no termination message of job:\n%s", strings.Join(ev, "\n"))
	}
	if i, j := indexOf(ev, "Exited job:"), indexOf(ev, "Exited shipper:"); i < 0 || j < i {
		t.Errorf("the sidecar did not stop after the job:\n%s", strings.Join(ev, "\n"))
	}
	b, _ := os.ReadFile(filepath.Join(logDir, "default_sidecar-job", "shipper", "0.log"))
	if !strings.Contains(string(b), "shipper: postStart") {
		t.Errorf("shipper log:\n%s", b)
	}
}

// TestLifecyclePod runs pods/lifecycle.yaml: web's startup probe fails
// until it listens, then passes; client's failed first run leaves its
// log tail as termination message; on Ctrl-C web's preStop httpGet
// reaches it and it writes its own termination message.
func TestLifecyclePod(t *testing.T) {
	testharness.Privileged(t)
	args, logDir := lifecycleArgs(t)
	sigs := make(chan os.Signal, 1)
	interrupted, clientDone, webUp := false, false, false
	code, recs, stderr := runPodrunSigs(t, append(args, "../pods/lifecycle.yaml"), sigs, func(r statusRec) {
		if r.Type != "event" {
			return
		}
		clientDone = clientDone || r.Reason == "Exited" && r.Container == "client" && strings.Contains(r.Message, "exit code 0")
		webUp = webUp || r.Reason == "StartedUp" && r.Container == "web"
		if !interrupted && clientDone && webUp {
			interrupted = true
			sigs <- os.Interrupt
		}
	})
	ev := eventLines(recs)
	if code != ExitInterrupted {
		t.Fatalf("exit %d\n%s\n%s", code, strings.Join(ev, "\n"), stderr)
	}
	for _, want := range []string{"Unhealthy web: Startup probe failed", "StartedUp web:",
		"TerminationMessage client: client: first run fails on purpose", "TerminationMessage web: web: served"} {
		if indexOf(ev, want) < 0 {
			t.Errorf("no event %q:\n%s", want, strings.Join(ev, "\n"))
		}
	}
	b, _ := os.ReadFile(filepath.Join(logDir, "default_lifecycle", "web", "0.log"))
	if !strings.Contains(string(b), "web: GET /prestop") {
		t.Errorf("preStop httpGet did not reach web:\n%s", b)
	}
}

// TestBadLifecyclePod: pods/bad-lifecycle.yaml is refused (exit status 2)
// before anything is created, naming each field.
func TestBadLifecyclePod(t *testing.T) {
	testharness.Privileged(t)
	args, _ := lifecycleArgs(t)
	code, _, stderr := runPodrun(t, append(args, "../pods/bad-lifecycle.yaml"), nil)
	if code != ExitUsage {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"spec.initContainers[0].restartPolicy", "spec.initContainers[1].readinessProbe",
		"spec.containers[0].startupProbe.successThreshold", "spec.containers[0].lifecycle.preStop.sleep.seconds",
		"spec.containers[0].terminationMessagePolicy"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("error does not name %s:\n%s", f, stderr)
		}
	}
}
