package critest

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

const (
	nginxImage   = "registry.k8s.io/e2e-test-images/nginx:1.14-2"
	busyboxImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
)

// TestCrictlWalkthrough drives podkit-cri with crictl as a person would:
// pull, runp, create, start, exec (also -it), attach (also -it), events,
// logs, stats, port-forward and
// a hostPort, a kill -9 of the runtime in the middle (pods and containers
// keep running and are found again), stop, rm, rmp, images, rmi.
func TestCrictlWalkthrough(t *testing.T) {
	testharness.Privileged(t)
	tools := criTools(t)
	rt := startRuntime(t)
	dir := t.TempDir()
	crictl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(tools, "crictl"), append([]string{"-r", "unix://" + rt.sock, "-i", "unix://" + rt.sock}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pod := write("pod.json", map[string]any{
		"metadata":      map[string]any{"name": "walk", "namespace": "default", "uid": "walk-uid"},
		"hostname":      "walk",
		"log_directory": filepath.Join(dir, "logs"),
		"port_mappings": []any{map[string]any{"container_port": 80, "host_port": 18081}},
		"linux":         map[string]any{},
	})
	web := write("web.json", map[string]any{"metadata": map[string]any{"name": "web"},
		"image": map[string]any{"image": nginxImage}, "log_path": "web.log"})
	talker := write("talker.json", map[string]any{"metadata": map[string]any{"name": "talker"},
		"image": map[string]any{"image": busyboxImage}, "log_path": "talker.log",
		"command": []string{"sh", "-c", "echo hello from talker; exec sleep 3600"}})

	for _, img := range []string{nginxImage, busyboxImage} {
		crictl("pull", img)
	}
	if out := crictl("images"); !strings.Contains(out, "e2e-test-images/nginx") || !strings.Contains(out, "e2e-test-images/busybox") {
		t.Errorf("crictl images:\n%s", out)
	}
	podID := crictl("runp", pod)
	webID := crictl("create", podID, web, pod)
	talkerID := crictl("create", podID, talker, pod)
	crictl("start", webID, talkerID)

	check := func(when string) {
		t.Helper()
		if out := crictl("ps", "-q", "--state", "running"); !strings.Contains(out, webID) || !strings.Contains(out, talkerID) {
			t.Errorf("%s: crictl ps --state running:\n%s", when, out)
		}
		if out := crictl("exec", talkerID, "hostname"); out != "walk" {
			t.Errorf("%s: exec hostname = %q", when, out)
		}
		if out := crictl("logs", talkerID); out != "hello from talker" {
			t.Errorf("%s: crictl logs = %q", when, out)
		}
		if body := httpGet(t, "http://127.0.0.1:18081/"); !strings.Contains(body, "Welcome to nginx") {
			t.Errorf("%s: hostPort 18081 answered %q", when, body)
		}
	}
	check("running")
	rt.crash()
	check("after kill -9 of podkit-cri")

	// exec -it needs a terminal on crictl's side: script(1) gives it one.
	it := exec.Command("script", "-qec", filepath.Join(tools, "crictl")+" -r unix://"+rt.sock+" exec -it "+talkerID+" tty", "/dev/null")
	if out, err := it.CombinedOutput(); err != nil || !strings.Contains(string(out), "/dev/pts/") {
		t.Errorf("crictl exec -it tty: %v: %q", err, out)
	}
	attachAndEvents(t, tools, rt.sock, podID, pod, write, crictl)
	if out := crictl("stats", "-o", "json", webID); !strings.Contains(out, "workingSetBytes") {
		t.Errorf("crictl stats:\n%s", out)
	}
	pf := exec.Command(filepath.Join(tools, "crictl"), "-r", "unix://"+rt.sock, "port-forward", podID, "18082:80")
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	if body := httpGet(t, "http://127.0.0.1:18082/"); !strings.Contains(body, "Welcome to nginx") {
		t.Errorf("port-forward answered %q", body)
	}
	_ = pf.Process.Kill()
	_ = pf.Wait()

	crictl("stop", webID, talkerID)
	crictl("rm", webID, talkerID)
	crictl("stopp", podID)
	crictl("rmp", podID)
	if out := crictl("pods", "-q"); out != "" {
		t.Errorf("pods left: %s", out)
	}
	crictl("rmi", nginxImage, busyboxImage)
	if out := crictl("images", "-q"); out != "" {
		t.Errorf("images left: %s", out)
	}
}

// httpGet fetches url, retrying while the server comes up.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var resp *http.Response
		if resp, err = client.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
	}
	t.Errorf("GET %s: %v", url, err)
	return ""
}

// attachAndEvents runs crictl attach on a container reading its stdin
// (stdin_once) and attach -it on one with a terminal, while two crictl
// events subscribers watch; each must see the first container created,
// started, stopped and deleted.
func attachAndEvents(t *testing.T, tools, sock, podID, pod string, write func(string, any) string, crictl func(...string) string) {
	t.Helper()
	bin := filepath.Join(tools, "crictl")
	var events [2]strings.Builder
	var watchers []*exec.Cmd
	for i := range events {
		w := exec.Command(bin, "-r", "unix://"+sock, "events", "-o", "json")
		w.Stdout = &events[i]
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		watchers = append(watchers, w)
	}
	time.Sleep(time.Second) // the subscriptions reach the server
	reader := write("reader.json", map[string]any{"metadata": map[string]any{"name": "reader"},
		"image": map[string]any{"image": busyboxImage}, "log_path": "reader.log",
		"command": []string{"sh"}, "stdin": true, "stdin_once": true})
	readerID := crictl("create", podID, reader, pod)
	crictl("start", readerID)
	at := exec.Command(bin, "-r", "unix://"+sock, "attach", "-i", readerID)
	at.Stdin = strings.NewReader("echo hi from attach; echo to stderr >&2\n")
	var stderr strings.Builder
	at.Stderr = &stderr
	if out, err := at.Output(); err != nil || strings.TrimSpace(string(out)) != "hi from attach" || !hasLine(stderr.String(), "to stderr") {
		t.Errorf("crictl attach -i: %v: stdout %q stderr %q", err, out, stderr.String())
	}
	// A terminal: crictl attach -it under script(1), which types the input.
	term := write("term.json", map[string]any{"metadata": map[string]any{"name": "term"},
		"image": map[string]any{"image": busyboxImage}, "log_path": "term.log",
		"command": []string{"sh"}, "stdin": true, "tty": true})
	termID := crictl("create", podID, term, pod)
	crictl("start", termID)
	it := exec.Command("script", "-qec", bin+" -r unix://"+sock+" attach -it "+termID, "/dev/null")
	it.Stdin = strings.NewReader("tty; exit\n")
	if out, err := it.CombinedOutput(); err != nil || !strings.Contains(string(out), "/dev/pts/") {
		t.Errorf("crictl attach -it: %v: %q", err, out)
	}
	if out := crictl("logs", termID); !strings.Contains(out, "/dev/pts/") {
		t.Errorf("crictl logs of the TTY container: %q", out)
	}
	crictl("stop", readerID, termID)
	crictl("rm", readerID, termID)
	for _, w := range watchers {
		time.Sleep(500 * time.Millisecond) // the last events reach crictl
		_ = w.Process.Signal(os.Interrupt)
		_ = w.Wait()
	}
	for i := range events {
		out := events[i].String()
		for _, ev := range []string{"CONTAINER_CREATED_EVENT", "CONTAINER_STARTED_EVENT", "CONTAINER_STOPPED_EVENT", "CONTAINER_DELETED_EVENT"} {
			if !strings.Contains(out, ev) { // protojson varies its spacing: no exact match
				t.Errorf("crictl events (subscriber %d): no %s in\n%s", i, ev, out)
			}
		}
		if !strings.Contains(out, readerID) || !strings.Contains(out, "podSandboxStatus") {
			t.Errorf("crictl events (subscriber %d): no event of %s with the pod's status in\n%s", i, readerID, out)
		}
	}
}

// hasLine reports whether out has the line want (crictl adds its own
// warnings to stderr).
func hasLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}
