//go:build linux

package kubelet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
	"golang.org/x/sys/unix"
)

// The "kubelet" helper creates sandbox "rec" in RunDir os.Args[1] with the
// pause os.Args[2], runs a pod of one container (rootfs os.Args[3],
// ignoring SIGTERM, policy Always) and says "running"; the test then
// kills it.
func init() {
	testharness.RegisterHelper("kubelet", func() int {
		runDir, pauseBin, rootfs := os.Args[1], os.Args[2], os.Args[3]
		ctx := context.Background()
		sb, err := sandbox.Create(ctx, sandbox.Config{ID: "rec", RunDir: runDir, PauseBinary: pauseBin,
			CgroupParent: "podkit-kubelet-test"})
		if err != nil {
			fmt.Println("create:", err)
			return 1
		}
		p := New(sb, PodSpec{Containers: []Container{ctr(rootfs, "a", "term", "ignore")},
			Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
		if err := p.Run(ctx); err != nil {
			fmt.Println("run:", err)
			return 1
		}
		fmt.Println("running")
		for {
			time.Sleep(time.Hour)
		}
	})
}

// runKubelet starts the helper, waits until its pod runs and kills it.
func runKubelet(t *testing.T) string {
	t.Helper()
	runDir := t.TempDir() + "/run"
	cmd := testharness.HelperCmd("kubelet", runDir, testharness.PauseBinary(t), testRootfs(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	_ = cmd.Process.Kill()
	if strings.TrimSpace(line) != "running" {
		_ = cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	err = cmd.Wait()
	var ee interface{ Sys() any }
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("helper did not crash: %v", err)
	}
	return runDir
}

// reapOrphans reaps the processes re-parented to the test process (a
// child subreaper) once the killed manager's pod is destroyed.
func reapOrphans(t *testing.T) {
	t.Helper()
	eventually(t, "orphans reaped", func() bool {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
			if errors.Is(err, unix.ECHILD) {
				return true
			}
			if pid <= 0 {
				return false
			}
		}
	})
}

// TestRecoverResumesSupervision: after the managing process is killed,
// sandbox.Load re-attaches the sandbox and Resume the kubelet's
// supervision, with the policy Run saved: killing the container afterwards
// gets it restarted by the new manager.
func TestRecoverResumesSupervision(t *testing.T) {
	testharness.Privileged(t)
	runDir := runKubelet(t)
	sb, err := sandbox.Load(runDir, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer reapOrphans(t)
	defer sb.Destroy(context.Background())
	p, err := Resume(sb)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a := statusOf(p, "a")
	if a.State != sandbox.ContainerRunning || a.RestartCount != 0 || p.Status().Phase != PodRunning {
		t.Fatalf("a after Resume: %+v", a)
	}
	if _, err := Resume(sb); !errors.Is(err, sandbox.ErrInvalidState) {
		t.Fatalf("second Resume while the first supervises: %v", err)
	}
	if err := unix.Kill(a.Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a restarted by the new manager", func() bool {
		c := statusOf(p, "a")
		return c.RestartCount == 1 && c.State == sandbox.ContainerRunning && c.Pid != a.Pid
	})
	es, err := sb.Exec(context.Background(), "a", sandbox.ExecSpec{Args: []string{"/payload", "true"}})
	if err != nil || es.ExitCode != 0 {
		t.Fatalf("exec into the restarted container: %v %+v", err, es)
	}
	p.Close()
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestResumeWithoutRecord: a sandbox no Pod ran has nothing to resume.
func TestResumeWithoutRecord(t *testing.T) {
	testharness.Privileged(t)
	sb := mustCreate(t, testConfig(t, "norecord"))
	if _, err := Resume(sb); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatalf("Resume: %v", err)
	}
}
