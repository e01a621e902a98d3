//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestSharedPIDNamespace(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "sharepid")
	cfg.SharePID = true
	sb := mustCreate(t, cfg)
	ev := sb.Events(1024)
	run(t, sb, ctr(rootfs, "sleeper", "sleep"))
	run(t, sb, ctr(rootfs, "orphaner", "orphan"))
	waitExit(t, sb, "orphaner")
	orphan, err := strconv.Atoi(strings.TrimSpace(logOf(t, sb, "orphaner")))
	if err != nil {
		t.Fatalf("orphan pid: %q", logOf(t, sb, "orphaner"))
	}
	run(t, sb, ctr(rootfs, "ps", "ps"))
	waitExit(t, sb, "ps")
	out := logOf(t, sb, "ps")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "1 ") || !strings.Contains(lines[0], "pause") {
		t.Fatalf("PID 1 is not the pause:\n%s", out)
	}
	if !strings.Contains(out, "/payload sleep") {
		t.Fatalf("sibling not visible:\n%s", out)
	}
	// The orphan (its parent exited) was re-parented to the pause. Kill it
	// through the sleeper's view: it is in the orphaner's cgroup, which
	// was killed when the orphaner's init exited, and the pause reaped it.
	eventually(t, "orphan reaped", func() bool {
		run := ctr(rootfs, "ps-"+strconv.Itoa(int(nowNano()%1e9)), "ps")
		if err := sb.CreateContainer(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		_ = sb.StartContainer(context.Background(), run.Name)
		waitExit(t, sb, run.Name)
		return !hasPidLine(logOf(t, sb, run.Name), orphan)
	})
	eventually(t, "OrphanReaped event", func() bool {
		for len(ev) > 0 {
			if e := <-ev; e.Type == EventOrphanReaped && e.Pid == orphan {
				return true
			}
		}
		return false
	})
}

func hasPidLine(out string, pid int) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, strconv.Itoa(pid)+" ") {
			return true
		}
	}
	return false
}

func TestPerContainerLimits(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "limits"))
	srv := ctr(rootfs, "server", "serve", "8081")
	run(t, sb, srv)
	eventually(t, "listening", func() bool { return strings.Contains(logOf(t, sb, "server"), "listening") })

	hog := ctr(rootfs, "hog", "oom")
	hog.Resources.MemoryLimit = 32 << 20
	run(t, sb, hog)
	if es := waitExit(t, sb, "hog"); es.Reason != ReasonOOMKilled || es.Signal != 9 {
		t.Fatalf("hog: %+v", es)
	}
	if c := statusOf(sb, "hog"); c.Reason != ReasonOOMKilled {
		t.Fatalf("status reason %q", c.Reason)
	}
	run(t, sb, ctr(rootfs, "client", "get", "8081"))
	if es := waitExit(t, sb, "client"); es.ExitCode != 0 || !strings.Contains(logOf(t, sb, "client"), "hello") {
		t.Fatalf("sibling not serving after OOM: %+v %q", es, logOf(t, sb, "client"))
	}

	bomb := ctr(rootfs, "bomb", "forkbomb")
	bomb.Resources.PidsLimit = 20
	run(t, sb, bomb)
	eventually(t, "fork bomb stops", func() bool { return strings.Contains(logOf(t, sb, "bomb"), "forked") })
	n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(logOf(t, sb, "bomb"), "forked")))
	if n <= 0 || n >= 20 {
		t.Fatalf("fork bomb forked %d with pids limit 20", n)
	}
}

func TestBadInput(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	base := testConfig(t, "x")
	for _, id := range []string{"../x", "", "a\x00b", strings.Repeat("a", 300), "a/b", "..", "."} {
		cfg := base
		cfg.ID = id
		_, err := Create(context.Background(), cfg)
		var se *Error
		if !errors.Is(err, ErrInvalidID) || !errors.As(err, &se) {
			t.Errorf("id %q: %v", id, err)
		}
	}
	bad := base
	bad.Sysctls = map[string]string{"kernel.panic": "1"}
	if _, err := Create(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("sysctl: %v", err)
	}
	bad = base
	bad.NoPause, bad.SharePID = true, true
	if _, err := Create(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nopause+sharepid: %v", err)
	}
	if _, err := os.Stat(base.RunDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run dir created by invalid configs: %v", err)
	}

	sb := mustCreate(t, testConfig(t, "bad"))
	ctx := context.Background()
	run(t, sb, ctr(rootfs, "one", "sleep"))
	if err := sb.CreateContainer(ctx, ctr(rootfs, "one", "true")); !errors.Is(err, ErrExist) {
		t.Errorf("duplicate: %v", err)
	}
	if err := sb.CreateContainer(ctx, ctr("/nonexistent-rootfs", "two", "true")); !errors.Is(err, ErrRootfs) {
		t.Errorf("rootfs: %v", err)
	}
	nf := ctr(rootfs, "three")
	nf.Args = []string{"/no/such/binary"}
	if err := sb.CreateContainer(ctx, nf); !errors.Is(err, ErrCommandNotFound) {
		t.Errorf("command: %v", err)
	}
	if err := sb.CreateContainer(ctx, ctr(rootfs, "../evil", "true")); !errors.Is(err, ErrInvalidID) {
		t.Errorf("container name: %v", err)
	}
	if err := sb.StartContainer(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	// Nothing of the rejected containers exists.
	ents, _ := os.ReadDir(filepath.Join(sb.Dir(), "libct"))
	if want := map[bool]int{true: 1}[statusOf(sb, "one").StartPath == StartLibcontainer]; len(ents) != want {
		t.Errorf("libcontainer state dirs: %v", ents)
	}
	if _, err := Create(ctx, testConfigWith(sb.Config())); !errors.Is(err, ErrExist) {
		t.Errorf("duplicate sandbox: %v", err)
	}
}

func testConfigWith(c Config) Config { return c }

func TestPinnedOnly(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "pinned")
	cfg.NoPause = true
	cfg.Hostname = "pinned-host"
	cfg.Sysctls = map[string]string{"net.ipv4.ping_group_range": "0 0"}
	sb := mustCreate(t, cfg)
	if sb.PausePid() != 0 {
		t.Fatal("pause started in pinned-only mode")
	}
	run(t, sb, ctr(rootfs, "srv", "serve", "9000"))
	run(t, sb, ctr(rootfs, "cli", "get", "9000"))
	if es := waitExit(t, sb, "cli"); es.ExitCode != 0 || !strings.Contains(logOf(t, sb, "cli"), "hello from pinned-host") {
		t.Fatalf("%+v %q", es, logOf(t, sb, "cli"))
	}
	run(t, sb, ctr(rootfs, "sysctl", "cat", "/proc/sys/net/ipv4/ping_group_range"))
	waitExit(t, sb, "sysctl")
	if got := strings.Join(strings.Fields(logOf(t, sb, "sysctl")), " "); got != "0 0" {
		t.Fatalf("sysctl %q", got)
	}
}
