//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
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

// mustCreateContainers creates specs in sb (without starting them).
func mustCreateContainers(t testing.TB, sb *Sandbox, specs ...ContainerSpec) {
	t.Helper()
	for _, spec := range specs {
		if err := sb.CreateContainer(context.Background(), spec); err != nil {
			t.Fatalf("CreateContainer %s: %v", spec.Name, err)
		}
	}
}

// requireConfigRefused requires that Create refuses cfg as invalid,
// naming field in its *Error, before it creates the run directory.
func requireConfigRefused(t *testing.T, field string, cfg Config) {
	t.Helper()
	cfg.RunDir = t.TempDir() + "/run"
	_, err := Create(context.Background(), cfg)
	var se *Error
	if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &se) || !strings.Contains(err.Error(), field) {
		t.Fatalf("%s: %v", field, err)
	}
	if _, err := os.Stat(cfg.RunDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: run dir created: %v", field, err)
	}
}

// lineReader reads r's lines (a terminal's trailing "\r" trimmed) in the
// background; the returned next gives the next line that starts with
// prefix, skipping the others, and fails the test if the output ends or
// no such line comes within 30 s.
func lineReader(t *testing.T, r io.Reader) (next func(prefix string) string) {
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
		close(lines)
	}()
	return func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q line", prefix)
			}
		}
	}
}

// Manager helpers: a test runs a manager in a helper process
// (testharness.HelperCmd) that sets up a pod, says "running" and is then
// killed, to test what a later manager (Load, Reconcile) finds.

// crashAt makes a manager helper process SIGKILL itself when the sandbox
// passes hook point (testHook).
func crashAt(point string) {
	testHook = func(p string) {
		if p == point {
			unix.Kill(os.Getpid(), unix.SIGKILL)
		}
	}
}

// managerSetup creates the sandbox of cfg in a manager helper process and
// creates and starts specs in it, in order. If a step fails it prints the
// step (for the test, which waits for "running") and returns nil.
func managerSetup(ctx context.Context, cfg Config, specs ...ContainerSpec) *Sandbox {
	sb, err := Create(ctx, cfg)
	if err != nil {
		fmt.Println("create:", err)
		return nil
	}
	for _, spec := range specs {
		if err := sb.CreateContainer(ctx, spec); err != nil {
			fmt.Println("container:", err)
			return nil
		}
		if err := sb.StartContainer(ctx, spec.Name); err != nil {
			fmt.Println("start:", err)
			return nil
		}
	}
	return sb
}

// managerIdle says "running" to the test and waits to be killed.
func managerIdle() int {
	fmt.Println("running")
	select {}
}

// runningManager starts the manager helper name with a new RunDir, the
// project's pause and rootfs as its arguments, and returns it and its
// RunDir once it says "running".
func runningManager(t *testing.T, name, rootfs string) (*exec.Cmd, string) {
	t.Helper()
	runDir := t.TempDir() + "/run"
	cmd := testharness.HelperCmd(name, runDir, testharness.PauseBinary(t), rootfs)
	awaitRunning(t, cmd, testharness.StartWithStdout(t, cmd))
	return cmd, runDir
}

// awaitRunning fails the test, killing the manager, unless the next line
// the manager says is "running".
func awaitRunning(t *testing.T, cmd *exec.Cmd, out *bufio.Reader) {
	t.Helper()
	if line, _ := out.ReadString('\n'); line != "running\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("manager said %q", line)
	}
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
	testharness.Eventually(t, what, 60*time.Second, 20*time.Millisecond, cond)
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
