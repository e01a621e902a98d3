package critest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/integration/criimages"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// runtime is podkit-cri as a daemon of the test: the suite's images on a
// registry on 127.0.0.1 behind --registry-mirror, a bridge network of the
// test's own, state in a temp dir.
type runtime struct {
	t       testing.TB
	reg     *criimages.Registry // the suite's images on 127.0.0.1
	sock    string
	pidfile string // podkit-cri's pid, written by its supervisor
	bin     string
	args    []string
	logf    *os.File
	cmd     *exec.Cmd // the supervisor
}

// startRuntime starts podkit-cri; everything it brought is removed when
// the test ends (the leak check runs after).
func startRuntime(t testing.TB) *runtime {
	t.Helper()
	for _, p := range []string{criimages.BusyboxPath, criimages.ShellPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v: run integration/install-deps.sh", err)
		}
	}
	images, err := criimages.Build(criimages.BusyboxPath, testharness.BuildStatic(t, criimages.StandinPackage))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := criimages.Serve(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	dir := t.TempDir()
	// A bridge network of the test's own (critest reaches pods on their IP
	// and on hostPort 12000), removed from the host at the end.
	const network, bridge = "podkit-critest", "pkcritest0"
	testharness.KeepCNIHostState(t, bridge, network)
	confDir := filepath.Join(dir, "net.d")
	conflist := `{"cniVersion": "1.0.0", "name": "` + network + `", "plugins": [
		{"type": "bridge", "bridge": "` + bridge + `", "isGateway": true, "ipMasq": false, "hairpinMode": true,
		 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.198.40.0/24"}]]}},
		{"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}]}`
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "10-critest.conflist"), []byte(conflist), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := &runtime{t: t, reg: reg, sock: filepath.Join(dir, "cri.sock"), pidfile: filepath.Join(dir, "podkit-cri.pid"),
		bin: testharness.BuildProgram(t, "github.com/podkit/podkit/examples/podkit-cri")}
	rt.args = []string{"--listen", rt.sock, "--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
		"--image-dir", filepath.Join(dir, "images"), "--cgroup-parent", "podkit-critest", "--pause", testharness.PauseBinary(t),
		"--cni-conf-dir", confDir, "--cni-network", network}
	for _, m := range reg.Mirrors() {
		rt.args = append(rt.args, "--registry-mirror", m)
	}
	if rt.logf, err = os.Create(filepath.Join(dir, "podkit-cri.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.stop)
	rt.start()
	return rt
}

func init() { testharness.RegisterHelper("supervise", supervise) }

// supervise runs a command as a service manager would (systemd with
// Restart=always): a child subreaper that restarts the command when it
// dies, reaps every orphan promptly (a dying pod PID 1 waits for the
// zombies of its namespace), and on SIGTERM stops the command with SIGINT
// and exits. Args: pidfile, then the command; the command's pid is written
// to pidfile at each start.
func supervise() int {
	pidfile, argv := os.Args[1], os.Args[2:]
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 1
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	startChild := func() int {
		pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Env: os.Environ(),
			Files: []uintptr{0, 1, 2}})
		if err != nil {
			return -1
		}
		_ = os.WriteFile(pidfile, []byte(strconv.Itoa(pid)), 0o644)
		return pid
	}
	child := startChild()
	stopping := false
	for {
		select {
		case <-term:
			if !stopping && child > 0 {
				_ = syscall.Kill(child, syscall.SIGINT)
			}
			stopping = true
		case <-time.After(20 * time.Millisecond):
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.ECHILD && stopping {
				return 0
			}
			if pid <= 0 || err != nil {
				break
			}
			if pid == child {
				child = -1
				if !stopping {
					child = startChild()
				}
			}
		}
	}
}

func (rt *runtime) start() {
	rt.t.Helper()
	_ = os.Remove(rt.sock)
	rt.cmd = testharness.HelperCmd("supervise", append([]string{rt.pidfile, rt.bin}, rt.args...)...)
	rt.cmd.Stdout, rt.cmd.Stderr = rt.logf, rt.logf
	if err := rt.cmd.Start(); err != nil {
		rt.t.Fatal(err)
	}
	rt.waitServing(0)
}

// waitServing waits until a podkit-cri other than pid old serves.
func (rt *runtime) waitServing(old int) {
	rt.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(rt.pidfile); err == nil {
			if pid, _ := strconv.Atoi(string(b)); pid != old && pid > 0 {
				if conn, err := net.Dial("unix", rt.sock); err == nil {
					conn.Close()
					return
				}
			}
		}
		if time.Now().After(deadline) {
			rt.t.Fatal("podkit-cri did not serve")
		}
	}
}

// crash kills podkit-cri with SIGKILL; its supervisor starts it again on
// its state, as systemd restarts a crashed daemon.
func (rt *runtime) crash() {
	rt.t.Helper()
	b, err := os.ReadFile(rt.pidfile)
	if err != nil {
		rt.t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	_ = os.Remove(rt.sock)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		rt.t.Fatal(err)
	}
	rt.waitServing(pid)
}

// stop stops podkit-cri and its supervisor (pods keep running: the test
// removes them before) and removes the cgroup parent.
func (rt *runtime) stop() {
	if rt.cmd != nil && rt.cmd.ProcessState == nil {
		_ = rt.cmd.Process.Signal(syscall.SIGTERM)
		_ = rt.cmd.Wait()
	}
	rt.logf.Close()
	if rt.t.Failed() {
		b, _ := os.ReadFile(rt.logf.Name())
		rt.t.Logf("podkit-cri log:\n%s", tail(b, 8000))
	}
	removeCgroupParent("podkit-critest")
}
