//go:build linux

package criserver_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/internal/criserver"
	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMain(m *testing.M) { testharness.Main(m, func() { _ = sandbox.Preload() }) }

const cgroupParent = "podkit-cri-test"

func init() {
	// Process-wide handles opened lazily: open them before any leak
	// snapshot, as the sandbox tests do.
	_ = nsjoin.Prepare()
	testharness.RegisterHelper("criserver", serverHelper)
}

// serverHelper runs a Server as its own process (a daemon the test can
// kill -9): args are the socket, state dir, run dir, pause binary, a
// mirror URL answering every registry (or "") and a test bridge network,
// name/bridge/subnet (or "").
func serverHelper() int {
	a := os.Args[1:]
	var regs []image.Registry
	if a[4] != "" {
		regs = []image.Registry{{Prefix: "*", Mirrors: []string{a[4]}, SkipUpstream: true}}
	}
	var network *podnet.Network
	if a[5] != "" { // name/bridge/subnet of a test bridge network
		f := strings.Split(a[5], "/")
		list, err := podnet.BridgeConfList(podnet.BridgeOptions{Name: f[0], Bridge: f[1],
			Subnets: []netip.Prefix{netip.MustParsePrefix(f[2] + "/" + f[3])}, NoMasquerade: true})
		if err == nil {
			network, err = podnet.New(podnet.Config{List: list})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	srv, err := criserver.New(context.Background(), criserver.Config{StateDir: a[1], RunDir: a[2],
		CgroupParent: cgroupParent, PauseBinary: a[3], Network: network,
		Images: image.Options{Root: filepath.Join(a[1], "images"), Registries: regs}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("unix", a[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	g := grpc.NewServer()
	srv.Register(g)
	_ = g.Serve(ln)
	return 0
}

// harness runs a Server as a helper process on a unix socket in a temp
// dir; crash kills it with SIGKILL and starts a new one on the same state,
// as a restarted daemon would be.
type harness struct {
	t                         *testing.T
	dir, pause, state, runDir string
	mirror                    string // URL answering every registry
	network                   string // name/bridge/subnet of a bridge network
	rt                        runtimeapi.RuntimeServiceClient
	img                       runtimeapi.ImageServiceClient
	stop                      func()
}

func start(t *testing.T) *harness { return startWith(t, "", "") }

func startWithMirror(t *testing.T, mirror string) *harness { return startWith(t, mirror, "") }

func startWith(t *testing.T, mirror, network string) *harness {
	t.Helper()
	testharness.Privileged(t)
	t.Cleanup(removeCgroupParent) // after the server's pods are gone, before the leak check
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, pause: testharness.PauseBinary(t), mirror: mirror, network: network,
		state: filepath.Join(dir, "state"), runDir: filepath.Join(dir, "run")}
	h.serve()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) serve() {
	t := h.t
	sock := filepath.Join(h.dir, "cri.sock")
	_ = os.Remove(sock)
	cmd := testharness.HelperCmd("criserver", sock, h.state, h.runDir, h.pause, h.mirror, h.network)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the server helper did not listen")
		}
	}
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h.rt, h.img = runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.rt.Version(wctx, &runtimeapi.VersionRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("the server helper does not answer: %v", err)
	}
	h.stop = func() {
		_ = conn.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		reapOrphans() // pods' processes re-parented to the test (a subreaper)
	}
}

// crash kills the server with SIGKILL and starts another on its state.
func (h *harness) crash() {
	h.stop()
	h.serve()
}

// reapOrphans reaps the exited processes re-parented to the test process,
// as init would for a daemon's orphans.
func reapOrphans() {
	for {
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 || err != nil {
			return
		}
	}
}

// removeCgroupParent removes the pods' cgroup parent, as the kubelet
// removes its pod cgroups: the server keeps a parent a pod config names.
func removeCgroupParent() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent)
	for _, d := range append(dirs, "/sys/fs/cgroup/"+cgroupParent) {
		_ = os.Remove(d)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func podConfig(name string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:    &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "default", Uid: name + "-uid"},
		Hostname:    name,
		Labels:      map[string]string{"app": name},
		Annotations: map[string]string{"note": "kept as given"},
		Linux:       &runtimeapi.LinuxPodSandboxConfig{CgroupParent: cgroupParent},
	}
}

func TestRuntimeInfo(t *testing.T) {
	h := start(t)
	c := ctx(t)
	v, err := h.rt.Version(c, &runtimeapi.VersionRequest{})
	if err != nil || v.RuntimeName != criserver.RuntimeName || v.RuntimeApiVersion != "v1" {
		t.Fatalf("Version = %v, %v", v, err)
	}
	st, err := h.rt.Status(c, &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conds := map[string]bool{}
	for _, cd := range st.Status.Conditions {
		conds[cd.Type] = cd.Status
	}
	if !conds[runtimeapi.RuntimeReady] {
		t.Errorf("RuntimeReady not true: %v", st.Status)
	}
	rc, err := h.rt.RuntimeConfig(c, &runtimeapi.RuntimeConfigRequest{})
	if err != nil || rc.Linux.CgroupDriver != runtimeapi.CgroupDriver_CGROUPFS {
		t.Errorf("RuntimeConfig = %v, %v; want the cgroupfs driver", rc, err)
	}
	fs, err := h.img.ImageFsInfo(c, &runtimeapi.ImageFsInfoRequest{})
	if err != nil || len(fs.ImageFilesystems) != 1 || fs.ImageFilesystems[0].Timestamp == 0 {
		t.Errorf("ImageFsInfo = %v, %v", fs, err)
	}
}

// TestSandboxLifecycle runs, lists, inspects, restarts the server, stops
// and removes a pod sandbox; stop and remove are idempotent.
func TestSandboxLifecycle(t *testing.T) {
	h := start(t)
	c := ctx(t)
	cfg := podConfig("lifecycle")
	run, err := h.rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	id := run.PodSandboxId
	if _, err := h.rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("second RunPodSandbox of the same pod: %v, want AlreadyExists", err)
	}
	checkState := func(want runtimeapi.PodSandboxState) {
		t.Helper()
		st, err := h.rt.PodSandboxStatus(c, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
		if err != nil {
			t.Fatal(err)
		}
		s := st.Status
		if s.State != want || s.Id != id || s.CreatedAt == 0 || s.Labels["app"] != "lifecycle" ||
			s.Annotations["note"] != "kept as given" || s.Metadata.Name != "lifecycle" {
			t.Errorf("status %v, want state %v and the config's metadata, labels and annotations", s, want)
		}
		list, err := h.rt.ListPodSandbox(c, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
			LabelSelector: map[string]string{"app": "lifecycle"}}})
		if err != nil || len(list.Items) != 1 || list.Items[0].Id != id || list.Items[0].State != want {
			t.Errorf("ListPodSandbox = %v, %v", list, err)
		}
	}
	checkState(runtimeapi.PodSandboxState_SANDBOX_READY)
	h.crash()
	checkState(runtimeapi.PodSandboxState_SANDBOX_READY)
	for range 2 {
		if _, err := h.rt.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatal(err)
		}
	}
	checkState(runtimeapi.PodSandboxState_SANDBOX_NOTREADY)
	for range 2 {
		if _, err := h.rt.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.rt.PodSandboxStatus(c, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id}); status.Code(err) != codes.NotFound {
		t.Errorf("status after remove: %v, want NotFound", err)
	}
}

// TestRunPodSandboxRefuses checks that what podkit cannot honour is refused
// by field, with nothing created.
func TestRunPodSandboxRefuses(t *testing.T) {
	h := start(t)
	c := ctx(t)
	target := &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET}
	for name, cfg := range map[string]*runtimeapi.PodSandboxConfig{
		"no-metadata": {Linux: &runtimeapi.LinuxPodSandboxConfig{}},
		"target-pid": {Metadata: &runtimeapi.PodSandboxMetadata{Name: "h", Namespace: "d"},
			Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: target}}},
	} {
		if _, err := h.rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	list, err := h.rt.ListPodSandbox(c, &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("ListPodSandbox after refusals = %v, %v; want none", list, err)
	}
}
