//go:build linux

package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
	"golang.org/x/sys/unix"
)

const testCgroupParent = "podkit-podrun-test"

func init() {
	// podrun in a process of its own, so that the test can kill it.
	testharness.RegisterHelper("podrun", func() int {
		return Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil)
	})
	// A manager that creates the OutliveManager sandbox os.Args[2] in run
	// directory os.Args[1], says "ready" and waits to be killed: its pod
	// is left behind.
	testharness.RegisterHelper("leftover", func() int {
		_, err := sandbox.Create(context.Background(), sandbox.Config{ID: os.Args[2], RunDir: os.Args[1],
			CgroupParent: testCgroupParent})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("ready")
		select {}
	})
}

const crashManifest = `apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: host, command: ["sleep", "1000"]}
  - {name: b, image: host, command: ["sleep", "1000"]}
`

// TestKilledPodrun: podrun killed by SIGKILL leaves nothing of its pod
// within 2 s (its guard); a pod left behind by a manager without a guard
// is listed by podrun ps, removed by a new run of the same manifest
// before it runs, and by podrun rm --all.
func TestKilledPodrun(t *testing.T) {
	testharness.Privileged(t)
	// podrun's default network: its guard detaches the killed run's pod
	// by running podrun network-detach.
	testharness.KeepCNIHostState(t, podnet.DefaultBridge, podnet.DefaultNetworkName)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	dir := t.TempDir()
	runDir, logDir := filepath.Join(dir, "run"), filepath.Join(dir, "logs")
	t.Cleanup(func() { removeTestParent(testCgroupParent) })
	manifest := filepath.Join(dir, "crash.yaml")
	if err := os.WriteFile(manifest, []byte(crashManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--run-dir", runDir, "--log-dir", logDir, "--cgroup-parent", testCgroupParent}

	// 1. kill -9 of a running podrun: its guard removes the pod.
	cmd := testharness.HelperCmd("podrun", append(args, "--json", manifest)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod running", func() bool {
		infos, _ := sandbox.List(runDir)
		return len(infos) == 1 && len(infos[0].Containers) == 2 &&
			infos[0].Containers[0].State == sandbox.ContainerRunning && infos[0].Containers[1].State == sandbox.ContainerRunning
	})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for left := leftovers(runDir, "crash"); len(left) > 0; left = leftovers(runDir, "crash") {
		if time.Now().After(deadline) {
			t.Fatalf("2 s after podrun was killed: %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// 2. a leftover (no guard): listed, then removed by a new run.
	leaveBehind(t, runDir, "crash")
	if out := podrunOut(t, 0, "ps", "--run-dir", runDir); !strings.Contains(out, "crash") || !strings.Contains(out, "leftover") {
		t.Fatalf("ps: %q", out)
	}
	out := podrunOut(t, 0, append(args, "--until-ready", "--timeout", "60s", manifest)...)
	if !strings.Contains(out, "removing the leftovers") {
		t.Fatalf("re-run: %q", out)
	}

	// 3. podrun rm --all.
	leaveBehind(t, runDir, "left2")
	podrunOut(t, 1, "rm", "--run-dir", runDir, "nosuch")
	if out := podrunOut(t, 0, "rm", "--run-dir", runDir, "--all"); strings.TrimSpace(out) != "left2" {
		t.Fatalf("rm --all: %q", out)
	}
	if out := podrunOut(t, 0, "ps", "--run-dir", runDir); strings.Count(out, "\n") != 1 {
		t.Fatalf("ps after rm: %q", out)
	}
	waitFor(t, "nothing left", func() bool { return len(leftovers(runDir, "left2")) == 0 })
}

// leaveBehind makes a pod whose manager was killed.
func leaveBehind(t *testing.T, runDir, id string) {
	t.Helper()
	cmd := testharness.HelperCmd("leftover", runDir, id)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("leftover helper: %q", line)
	}
}

// podrunOut runs podrun in a helper process and returns its stdout and
// stderr, requiring exit status want.
func podrunOut(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, err := testharness.HelperCmd("podrun", args...).CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("podrun %q: exit %d, want %d:\n%s", args, code, want, out)
	}
	return string(out)
}

// leftovers reaps the test's exited children (it is a child subreaper)
// and lists what remains of pod id: live children, its directory, its
// cgroups.
func leftovers(runDir, id string) []string {
	var left []string
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if errors.Is(err, unix.ECHILD) {
			break
		}
		if pid <= 0 {
			left = append(left, "children")
			break
		}
	}
	if _, err := os.Lstat(filepath.Join(runDir, id)); err == nil {
		left = append(left, "dir")
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + testCgroupParent + "/" + id)
	return append(left, cgs...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}
