//go:build linux

package sandbox

import (
	"context"
	"github.com/podkit/podkit/nsjoin"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m, func() { _ = Preload() }) }

func init() {
	if IsInit() {
		return // a container bootstrap of this test binary: no warm-up
	}
	// opencontainers/cgroups keeps one O_PATH handle on /sys/fs/cgroup open
	// for the life of the process (opened lazily on first use). Open it
	// before any test takes its leak snapshot so it is not reported.
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	// Same for the private procfs mount (an fsmount fd shown as "/") that
	// libcontainer's path-safety layer caches process-wide.
	_, _ = procfs.OpenProcRoot()
	// And nsjoin's home namespace descriptors (Do and Cmd move threads back
	// through them).
	_ = nsjoin.Prepare()
	// And the process-exit listener a manager taking over an
	// OutliveManager pod starts for good (procexits_linux.go).
	if !isGuard() {
		procExitWatcher()
	}
}

const payloadPkg = "github.com/podkit/podkit/sandbox/internal/testpayload"

// testRootfs builds a tiny root filesystem with the static payload at
// /payload and returns its path.
func testRootfs(t testing.TB) string {
	t.Helper()
	bin := testharness.BuildStatic(t, payloadPkg)
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"etc", "tmp", "proc", "dev", "sys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
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
// directory in the test's temporary directory and a test cgroup parent.
func testConfig(t testing.TB, id string) Config {
	t.Helper()
	return Config{
		ID:           id,
		PauseBinary:  testharness.PauseBinary(t),
		RunDir:       filepath.Join(t.TempDir(), "run"),
		CgroupParent: "podkit-sandbox-test",
	}
}

func mustCreate(t testing.TB, cfg Config) *Sandbox {
	t.Helper()
	sb, err := Create(context.Background(), cfg)
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

func ctr(rootfs, name string, args ...string) ContainerSpec {
	return ContainerSpec{Name: name, Rootfs: rootfs, Args: append([]string{"/payload"}, args...)}
}

func run(t testing.TB, sb *Sandbox, spec ContainerSpec) {
	t.Helper()
	ctx := context.Background()
	if err := sb.CreateContainer(ctx, spec); err != nil {
		t.Fatalf("CreateContainer %s: %v", spec.Name, err)
	}
	if err := sb.StartContainer(ctx, spec.Name); err != nil {
		t.Fatalf("StartContainer %s: %v", spec.Name, err)
	}
}

func waitExit(t testing.TB, sb *Sandbox, name string) *ExitStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	es, err := sb.Wait(ctx, name)
	if err != nil {
		t.Fatalf("Wait %s: %v", name, err)
	}
	return es
}

func logOf(t testing.TB, sb *Sandbox, name string) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(sb.Dir(), "logs", name+".log"))
	return string(b)
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

func hasLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

func statusOf(sb *Sandbox, name string) ContainerStatus {
	for _, c := range sb.Status().Containers {
		if c.Name == name {
			return c
		}
	}
	return ContainerStatus{}
}

func nowNano() int64 { return time.Now().UnixNano() }
