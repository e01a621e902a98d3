//go:build linux

package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

func TestMain(m *testing.M) { testharness.Main(m, func() { _ = sandbox.Preload() }) }

func init() {
	if sandbox.IsInit() {
		return // a container bootstrap of this test binary: no warm-up
	}
	// Process-wide handles opened lazily by the sandbox's dependencies:
	// opened before any leak snapshot (see sandbox/helpers_test.go).
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	_, _ = procfs.OpenProcRoot()
	_ = nsjoin.Prepare()
}

// The sandbox's test payload: one static binary with many behaviours.
const payloadPkg = "github.com/podkit/podkit/sandbox/internal/testpayload"

// testRootfs builds a tiny root filesystem with the payload at /payload.
func testRootfs(t testing.TB) string {
	t.Helper()
	bin := testharness.BuildStatic(t, payloadPkg)
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"etc", "tmp", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "payload"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// testConfig is a sandbox config for tests: the project's pause, a run
// directory in the test's temporary directory, a test cgroup parent.
func testConfig(t testing.TB, id string) sandbox.Config {
	t.Helper()
	return sandbox.Config{
		ID:           id,
		PauseBinary:  testharness.PauseBinary(t),
		RunDir:       filepath.Join(t.TempDir(), "run"),
		CgroupParent: "podkit-kubelet-test",
	}
}

// testBackoff is a short back-off for tests.
var testBackoff = Backoff{Initial: 50 * time.Millisecond, Max: 400 * time.Millisecond, Reset: 5 * time.Second}

func mustCreate(t testing.TB, cfg sandbox.Config) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Create(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Destroy(context.Background()); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	return sb
}

func ctr(rootfs, name string, args ...string) Container {
	return Container{ContainerSpec: sandbox.ContainerSpec{Name: name, Rootfs: rootfs, Args: append([]string{"/payload"}, args...)}}
}

func mustNew(t testing.TB, sb *sandbox.Sandbox, spec PodSpec) *Pod {
	t.Helper()
	p := New(sb, spec)
	t.Cleanup(p.Close)
	return p
}

func statusOf(p *Pod, name string) ContainerStatus {
	st := p.Status()
	for _, c := range append(st.InitContainers, st.Containers...) {
		if c.Name == name {
			return c
		}
	}
	return ContainerStatus{}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
