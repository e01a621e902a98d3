//go:build linux

package kubelet

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/integration/criimages"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

const (
	// extraDir holds the binaries run.sh copied in (PODKIT_VM_EXTRA).
	extraDir = "/podkit/extra"
	// busyboxRef is the one image the static pods use, served in the guest.
	busyboxRef = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	// cgroupParent is podkit-cri's cgroup for pods that name none (the
	// kubelet names none with --cgroups-per-qos=false).
	cgroupParent = "podkit-kubelet-test"
	// network and bridge are podkit-cri's default CNI network.
	network, bridge = "podkit", "podkit0"
	// podLogsDir is where the kubelet asks the runtime to write container
	// logs (its default) and reads them from.
	podLogsDir = "/var/log/pods"
)

// daemon is a program the guest test runs in the background, its output
// in a file shown when the test fails.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
}

func startDaemon(t *testing.T, name string, argv ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, log: filepath.Join(t.TempDir(), name+".log")}
	f, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d.cmd = testharness.HelperCmd("subreaper", argv...)
	d.cmd.Stdout, d.cmd.Stderr = f, f
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			t.Logf("%s log (tail):\n%s", name, tail(b, 30000))
		}
	})
	return d
}

func init() { testharness.RegisterHelper("subreaper", subreaper) }

// subreaper runs its arguments as a command, as a child subreaper: the
// orphans the command leaves (the kubelet's iptables runs, cut short when
// it stops) are reaped here rather than by the test. SIGTERM is passed on;
// it exits with the command's status once every descendant is gone.
func subreaper() int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 125
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 125
	}
	go func() {
		for sig := range term {
			_ = cmd.Process.Signal(sig)
		}
	}()
	code := 0
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.ECHILD {
			return code
		}
		if err == nil && pid == cmd.Process.Pid {
			code = ws.ExitStatus()
		}
	}
}

// stop stops the daemon with SIGTERM (SIGKILL after a minute).
func (d *daemon) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Errorf("%s did not stop on SIGTERM: killed", d.name)
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// guestKubelet runs in the VM: podkit-cri, then a standalone kubelet on it,
// then static pods, checked from outside the kubelet.
func guestKubelet(t *testing.T) {
	kubeletBin, crictlBin := filepath.Join(extraDir, "kubelet"), filepath.Join(extraDir, "crictl")
	for _, b := range []string{kubeletBin, crictlBin} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%v: the VM runs this test only when integration/kubelet's host test boots it", err)
		}
	}
	// Runs after every other cleanup but the leak check (connections to
	// the kubelet's ports would show as leaked descriptors).
	t.Cleanup(insecure.CloseIdleConnections)
	dir := t.TempDir()
	sock := filepath.Join(dir, "cri.sock")
	startRuntime(t, dir, sock)
	cri := &crictl{t: t, bin: crictlBin, sock: sock}

	manifests := filepath.Join(dir, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	kl := startKubelet(t, kubeletBin, dir, sock, manifests)
	t.Cleanup(func() { removePods(t, cri, manifests, kl) })
	for name, m := range staticPods {
		// Written under a hidden name (the kubelet skips those) and
		// renamed, so the kubelet never reads half a manifest.
		tmp := filepath.Join(manifests, "."+name+".yaml")
		if err := os.WriteFile(tmp, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(manifests, name+".yaml")); err != nil {
			t.Fatal(err)
		}
	}
	checkPods(t, cri)
	logErrors(t, kl)
}

// logErrors logs the kubelet's error and warning lines (klog's E and W
// prefixes) so far, one per source location, the first seen: what a run
// that passed still complained about.
func logErrors(t *testing.T, d *daemon) {
	b, err := os.ReadFile(d.log)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.ContainsAny(f[0][:1], "EW") || seen[f[3]] {
			continue
		}
		seen[f[3]] = true
		lines = append(lines, tail([]byte(l), 400))
	}
	t.Logf("kubelet: %d error and warning locations:\n%s", len(lines), strings.Join(lines, "\n"))
}

// startRuntime serves the busybox image from a registry in the guest and
// starts podkit-cri on its default CNI network with that registry as the
// mirror of registry.k8s.io.
func startRuntime(t *testing.T, dir, sock string) {
	t.Helper()
	images, err := criimages.Build(criimages.BusyboxPath, testharness.BuildStatic(t, criimages.StandinPackage))
	if err != nil {
		t.Fatal(err)
	}
	images = slices.DeleteFunc(images, func(img criimages.Image) bool { return !slices.Contains(img.Refs, busyboxRef) })
	reg, err := criimages.Serve(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	testharness.KeepCNIHostState(t, bridge, network)
	t.Cleanup(func() { _ = os.Remove(filepath.Join("/sys/fs/cgroup", cgroupParent)) })
	args := []string{testharness.BuildProgram(t, "github.com/podkit/podkit/examples/podkit-cri"),
		"--listen", sock, "--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
		"--image-dir", filepath.Join(dir, "images"), "--cgroup-parent", cgroupParent,
		"--pause", testharness.PauseBinary(t)}
	for _, m := range reg.Mirrors() {
		args = append(args, "--registry-mirror", m)
	}
	startDaemon(t, "podkit-cri", args...)
	waitFor(t, time.Minute, "podkit-cri serving on "+sock, func() (bool, string) {
		_, err := os.Stat(sock)
		return err == nil, errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// waitFor polls cond every half second until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
