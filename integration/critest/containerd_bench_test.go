package critest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// BenchmarkPodLifecycle times what a kubelet asks of a runtime for a pod
// with one container, as crictl does it — `runp` + `create` + `start`,
// then `stopp` + `rmp` — against podkit-cri and against containerd's CRI
// (Debian's containerd with its runc shim) in the same run: the same
// crictl, the same images from the same registry on 127.0.0.1, the same
// CNI bridge and portmap plugins (each runtime its own network).
//
//	apt-get install -y containerd   # the reference; its service need not run
//	go test ./integration/critest -run '^$' -bench BenchmarkPodLifecycle -benchtime 40x
func BenchmarkPodLifecycle(b *testing.B) {
	testharness.RequireRoot(b)
	tools := criTools(b)
	rt := startRuntime(b)
	ctrd := startContainerd(b, rt)
	for _, r := range []struct{ name, sock string }{{"podkit-cri", rt.sock}, {"containerd", ctrd}} {
		b.Run(r.name, func(b *testing.B) { benchPodLifecycle(b, tools, r.sock) })
	}
}

func benchPodLifecycle(b *testing.B, tools, sock string) {
	dir := b.TempDir()
	crictl := func(args ...string) string {
		cmd := exec.Command(filepath.Join(tools, "crictl"), append([]string{"-r", "unix://" + sock, "-i", "unix://" + sock, "-t", "60s"}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	b.Cleanup(func() { // a failed iteration leaves its pod: remove every pod
		_ = exec.Command(filepath.Join(tools, "crictl"), "-r", "unix://"+sock, "rmp", "-a", "-f").Run()
	})
	for _, img := range []string{busyboxImage, "registry.k8s.io/pause:3.9"} {
		crictl("pull", img)
	}
	ctr := filepath.Join(dir, "ctr.json")
	writeJSON(b, ctr, `{"metadata": {"name": "app"}, "image": {"image": "`+busyboxImage+`"},
		"command": ["sleep", "3600"], "log_path": "app.log", "linux": {}}`)
	var start, teardown []time.Duration
	for i := range b.N {
		pod := filepath.Join(dir, fmt.Sprintf("pod-%d.json", i))
		writeJSON(b, pod, fmt.Sprintf(`{"metadata": {"name": "bench-%d", "namespace": "default", "uid": "bench-uid-%d"},
			"hostname": "bench", "log_directory": %q, "linux": {}}`, i, i, filepath.Join(dir, "logs")))
		t0 := time.Now()
		podID := crictl("runp", pod)
		ctrID := crictl("create", podID, ctr, pod)
		crictl("start", ctrID)
		t1 := time.Now()
		crictl("stopp", podID)
		crictl("rmp", podID)
		start, teardown = append(start, t1.Sub(t0)), append(teardown, time.Since(t1))
	}
	if b.N < 5 {
		return // the probe run
	}
	b.ReportMetric(p50ms(start), "runp+create+start-p50-ms")
	b.ReportMetric(p50ms(teardown), "stopp+rmp-p50-ms")
}

// startContainerd runs containerd as a child of the benchmark, with its
// root, state and socket in a temporary directory, the CRI plugin's
// registry mirror on rt's registry and a bridge network of its own; it
// is stopped and its pods removed when the benchmark ends.
func startContainerd(b *testing.B, rt *runtime) string {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		b.Fatalf("%v: apt-get install containerd (the reference runtime of this benchmark)", err)
	}
	dir := b.TempDir()
	const network, bridge = "podkit-bench-ctrd", "pkbenchctrd0"
	testharness.KeepCNIHostState(b, bridge, network)
	confDir := filepath.Join(dir, "net.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		b.Fatal(err)
	}
	writeJSON(b, filepath.Join(confDir, "10-bench.conflist"), `{"cniVersion": "1.0.0", "name": "`+network+`", "plugins": [
		{"type": "bridge", "bridge": "`+bridge+`", "isGateway": true, "ipMasq": false, "hairpinMode": true,
		 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.198.41.0/24"}]]}},
		{"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}`)
	sock := filepath.Join(dir, "containerd.sock")
	var mirrors strings.Builder
	for _, host := range rt.reg.Registries {
		fmt.Fprintf(&mirrors, "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.%q]\n  endpoint = [\"http://%s\"]\n", host, rt.reg.Addr)
	}
	// restrict_oom_score_adj: without CAP_SYS_RESOURCE (as on the
	// development machines) runc cannot lower oom_score_adj to the
	// sandbox's -998 and the pod fails; podkit-cri does not set it.
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = %q
%s`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, confDir, mirrors.String())
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = exec.Command(filepath.Join(criTools(b), "crictl"), "-r", "unix://"+sock, "rmp", "-a", "-f").Run()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
		if b.Failed() {
			out, _ := os.ReadFile(logf.Name())
			b.Logf("containerd log:\n%s", tail(out, 8000))
			runcLogs, _ := filepath.Glob(filepath.Join(dir, "state", "*", "*", "*", "log.json"))
			for _, l := range runcLogs {
				out, _ := os.ReadFile(l)
				b.Logf("%s:\n%s", l, tail(out, 2000))
			}
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("containerd did not serve")
		}
	}
	return sock
}

func writeJSON(b testing.TB, path, text string) {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
}

func p50ms(d []time.Duration) float64 {
	s := slices.Sorted(slices.Values(d))
	return float64(s[len(s)/2].Microseconds()) / 1000
}
