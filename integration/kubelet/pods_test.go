//go:build linux

package kubelet

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// node is the kubelet's node name (the guest's hostname), which static
// pods' names end with.
const node = "podkit-vm"

// staticPods are the manifests dropped in the kubelet's manifest directory:
// a long-running pod printing numbered lines, and one whose container
// crashes a second after it starts (restartPolicy Always: the kubelet
// restarts it after its back-off).
var staticPods = map[string]string{
	"ticker": `apiVersion: v1
kind: Pod
metadata:
  name: ticker
  namespace: default
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: ticker
    image: ` + busyboxRef + `
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
`,
	"crasher": `apiVersion: v1
kind: Pod
metadata:
  name: crasher
  namespace: default
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 2
  containers:
  - name: crasher
    image: ` + busyboxRef + `
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo crashing; sleep 1; exit 3"]
`,
}

// crictl runs crictl against podkit-cri.
type crictl struct {
	t    *testing.T
	bin  string
	sock string
}

func (c *crictl) run(args ...string) ([]byte, error) {
	ep := "unix://" + c.sock
	cmd := exec.Command(c.bin, append([]string{"-r", ep, "-i", ep, "--timeout", "60s"}, args...)...)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		err = fmt.Errorf("crictl %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
	}
	return out, err
}

type criPod struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Metadata struct {
		Name, Namespace, UID string
	} `json:"metadata"`
}

type criContainer struct {
	ID           string `json:"id"`
	PodSandboxID string `json:"podSandboxId"`
	State        string `json:"state"`
	Metadata     struct {
		Name    string `json:"name"`
		Attempt int    `json:"attempt"`
	} `json:"metadata"`
}

func (c *crictl) pods() ([]criPod, error) {
	out, err := c.run("pods", "-o", "json")
	if err != nil {
		return nil, err
	}
	var v struct{ Items []criPod }
	return v.Items, json.Unmarshal(out, &v)
}

// logPath is the log path podkit-cri reports for container id.
func (c *crictl) logPath(id string) (string, error) {
	out, err := c.run("inspect", "-o", "json", id)
	if err != nil {
		return "", err
	}
	var v struct {
		Status struct {
			LogPath string `json:"logPath"`
		} `json:"status"`
	}
	return v.Status.LogPath, json.Unmarshal(out, &v)
}

func (c *crictl) containers() ([]criContainer, error) {
	out, err := c.run("ps", "-a", "-o", "json")
	if err != nil {
		return nil, err
	}
	var v struct{ Containers []criContainer }
	return v.Containers, json.Unmarshal(out, &v)
}

// kubeletPod is what the test reads of the kubelet's /pods (a PodList):
// in standalone mode the kubelet fills static pods' status in.
type kubeletPod struct {
	Metadata struct{ Name, UID string }
	Status   struct {
		Phase             string
		ContainerStatuses []struct {
			Name         string
			RestartCount int
			State        map[string]json.RawMessage
		}
	}
}

func kubeletPods() (map[string]kubeletPod, error) {
	b, err := httpGet("http://127.0.0.1:10255/pods")
	if err != nil {
		return nil, err
	}
	var list struct{ Items []kubeletPod }
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	out := map[string]kubeletPod{}
	for _, p := range list.Items {
		out[p.Metadata.Name] = p
	}
	return out, nil
}

// insecure reads the kubelet's HTTPS port, whose certificate it made
// itself at start; the test talks to it on the guest's loopback only.
var insecure = &http.Client{Timeout: time.Minute,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

func httpGet(url string) ([]byte, error) {
	resp, err := insecure.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b, err
}

// checkPods waits for both static pods to run (the kubelet's view on
// /pods, the runtime's through crictl), for the crasher to be restarted,
// and checks the containers' logs are in the kubelet's pod log directory
// and served by the kubelet.
func checkPods(t *testing.T, cri *crictl) {
	t.Helper()
	ticker, crasher := "ticker-"+node, "crasher-"+node
	start := time.Now()
	var seen map[string]kubeletPod
	waitFor(t, 8*time.Minute, "both pods Running on the kubelet's /pods, the crasher restarted", func() (bool, string) {
		pods, err := kubeletPods()
		if err != nil {
			return false, err.Error()
		}
		seen = pods
		tp, cp := pods[ticker], pods[crasher]
		if tp.Status.Phase != "Running" || cp.Status.Phase != "Running" || len(tp.Status.ContainerStatuses) != 1 ||
			len(cp.Status.ContainerStatuses) != 1 {
			return false, fmt.Sprintf("%+v", pods)
		}
		_, running := tp.Status.ContainerStatuses[0].State["running"]
		return running && cp.Status.ContainerStatuses[0].RestartCount >= 1, fmt.Sprintf("%+v", pods)
	})
	t.Logf("kubelet /pods after %v: %s %s, %s %s with %d restarts", time.Since(start).Round(time.Second),
		ticker, seen[ticker].Status.Phase, crasher, seen[crasher].Status.Phase,
		seen[crasher].Status.ContainerStatuses[0].RestartCount)
	var sandboxes map[string]criPod
	waitFor(t, time.Minute, "both sandboxes ready and the ticker running in podkit-cri", func() (bool, string) {
		pods, err := cri.pods()
		if err != nil {
			return false, err.Error()
		}
		sandboxes = map[string]criPod{}
		for _, p := range pods {
			if p.State == "SANDBOX_READY" {
				sandboxes[p.Metadata.Name] = p
			}
		}
		ctrs, err := cri.containers()
		if err != nil {
			return false, err.Error()
		}
		return len(sandboxes) == 2 && sandboxes[ticker].ID != "" && sandboxes[crasher].ID != "" &&
			findContainer(ctrs, sandboxes[ticker].ID, "ticker", "CONTAINER_RUNNING", 0) != "", fmt.Sprintf("%+v %+v", pods, ctrs)
	})
	ctrs, err := cri.containers()
	if err != nil {
		t.Fatal(err)
	}
	// The kubelet keeps the newest exited instance of a container and
	// removes older ones (with their logs): the crasher's newest has an
	// attempt of at least 1.
	last := criContainer{}
	for _, c := range ctrs {
		if c.PodSandboxID == sandboxes[crasher].ID && c.Metadata.Name == "crasher" && c.Metadata.Attempt >= last.Metadata.Attempt {
			last = c
		}
	}
	if last.Metadata.Attempt < 1 {
		t.Errorf("podkit-cri has no crasher container of attempt >= 1: %+v", ctrs)
	}
	// The kubelet asks for logs under /var/log/pods/<ns>_<pod>_<uid>/<container>/<attempt>.log.
	logs := func(pod criPod, ctr string, attempt int) string {
		return filepath.Join(podLogsDir, pod.Metadata.Namespace+"_"+pod.Metadata.Name+"_"+pod.Metadata.UID, ctr,
			fmt.Sprintf("%d.log", attempt))
	}
	tickerLog, crasherLog := logs(sandboxes[ticker], "ticker", 0), logs(sandboxes[crasher], "crasher", last.Metadata.Attempt)
	t.Logf("logs in %s and %s", tickerLog, crasherLog)
	for id, want := range map[string]string{findContainer(ctrs, sandboxes[ticker].ID, "ticker", "", 0): tickerLog, last.ID: crasherLog} {
		if got, err := cri.logPath(id); err != nil || got != want {
			t.Errorf("podkit-cri's log path of container %s: %q (%v), want %q", id, got, err, want)
		}
	}
	waitFor(t, time.Minute, "tick lines in the ticker's log file", func() (bool, string) {
		b, err := os.ReadFile(tickerLog)
		return err == nil && strings.Contains(string(b), " stdout F tick 2\n"), string(b) + errString(err)
	})
	if b, err := os.ReadFile(crasherLog); err != nil || !strings.Contains(string(b), " stdout F crashing\n") {
		t.Errorf("crasher's log: %v: %q", err, b)
	}
	// The kubelet reads them back (kubectl logs goes through this endpoint).
	b, err := httpGet("https://127.0.0.1:10250/containerLogs/default/" + ticker + "/ticker")
	if err != nil || !strings.Contains(string(b), "tick 2\n") {
		t.Errorf("the kubelet's logs of the ticker: %v: %q", err, tail(b, 400))
	}
	b, err = httpGet("https://127.0.0.1:10250/containerLogs/default/" + crasher + "/crasher")
	if err != nil || !strings.Contains(string(b), "crashing\n") {
		t.Errorf("the kubelet's logs of the crasher: %v: %q", err, tail(b, 400))
	}
	checkStats(t, ticker)
}

// checkStats waits for the ticker's container on the kubelet's
// /stats/summary with CPU and memory figures (from podkit-cri's stats
// RPCs). Only those: the full summary needs the kubelet's root file system
// stats, which cadvisor cannot find for the guest's /tmp (ext4 on a RAM
// disk, /dev/ram0).
func checkStats(t *testing.T, pod string) {
	t.Helper()
	waitFor(t, 2*time.Minute, pod+"'s container stats on the kubelet's /stats/summary", func() (bool, string) {
		b, err := httpGet("http://127.0.0.1:10255/stats/summary?only_cpu_and_memory=true")
		if err != nil {
			return false, err.Error()
		}
		var summary struct {
			Pods []struct {
				PodRef     struct{ Name string }
				Containers []struct {
					Name   string
					CPU    struct{ UsageCoreNanoSeconds uint64 }
					Memory struct{ WorkingSetBytes uint64 }
				}
			}
		}
		if err := json.Unmarshal(b, &summary); err != nil {
			return false, err.Error()
		}
		for _, p := range summary.Pods {
			for _, c := range p.Containers {
				if p.PodRef.Name == pod && c.CPU.UsageCoreNanoSeconds > 0 && c.Memory.WorkingSetBytes > 0 {
					t.Logf("/stats/summary: %s/%s cpu %d ns, working set %d bytes", pod, c.Name,
						c.CPU.UsageCoreNanoSeconds, c.Memory.WorkingSetBytes)
					return true, ""
				}
			}
		}
		return false, tail(b, 3000)
	})
}

// findContainer returns the id of a container of sandbox named name in
// state (any if "") with an attempt of at least attempt.
func findContainer(ctrs []criContainer, sandbox, name, state string, attempt int) string {
	for _, c := range ctrs {
		if c.PodSandboxID == sandbox && c.Metadata.Name == name && (state == "" || c.State == state) &&
			c.Metadata.Attempt >= attempt {
			return c.ID
		}
	}
	return ""
}

// removePods removes the manifests, waits for the kubelet to stop the
// pods, stops it, and removes what is left through the runtime.
func removePods(t *testing.T, cri *crictl, manifests string, kl *daemon) {
	for name := range staticPods {
		_ = os.Remove(filepath.Join(manifests, name+".yaml"))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pods, err := cri.pods()
		ready := 0
		for _, p := range pods {
			if p.State == "SANDBOX_READY" {
				ready++
			}
		}
		if err == nil && ready == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the kubelet did not stop the pods of removed manifests: %+v %v", pods, err)
			break
		}
		time.Sleep(time.Second)
	}
	kl.stop(t)
	if out, err := cri.run("rmp", "-af"); err != nil {
		t.Errorf("%v: %s", err, out)
	}
	for name := range staticPods {
		dirs, _ := filepath.Glob(filepath.Join(podLogsDir, "default_"+name+"-"+node+"_*"))
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	}
}
