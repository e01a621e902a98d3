//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// ticks parses the "tick N" lines of a log and fails on anything else.
func ticks(t *testing.T, log string) []int {
	t.Helper()
	var out []int
	for _, l := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if l == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(l, "tick "))
		if err != nil {
			t.Fatalf("log line %q", l)
		}
		out = append(out, n)
	}
	return out
}

// contiguous fails unless seqs, concatenated, count 0, 1, 2, ... with no
// line lost or written twice.
func contiguous(t *testing.T, seqs ...[]int) int {
	t.Helper()
	next := 0
	for _, s := range seqs {
		for _, n := range s {
			if n != next {
				t.Fatalf("tick %d where %d was due: %v", n, next, seqs)
			}
			next++
		}
	}
	return next
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestReopenContainerLog(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "reopen"))
	spec := ctr(rootfs, "ticker", "tick", "10")
	spec.LogPath = filepath.Join(t.TempDir(), "pods", "ticker", "0.log") // directory made on demand
	run(t, sb, spec)
	eventually(t, "ticks", func() bool { return len(ticks(t, readLog(t, spec.LogPath))) >= 5 })
	// Rotate: rename, then reopen; later output lands in the new file.
	rotated := spec.LogPath + ".1"
	if err := os.Rename(spec.LogPath, rotated); err != nil {
		t.Fatal(err)
	}
	if err := sb.ReopenContainerLog("ticker"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ticks in the new file", func() bool { return len(ticks(t, readLog(t, spec.LogPath))) >= 5 })
	old := readLog(t, rotated)
	time.Sleep(50 * time.Millisecond)
	if again := readLog(t, rotated); again != old {
		t.Fatal("the rotated file still grows after the reopen")
	}
	if err := sb.StopContainer(context.Background(), "ticker", time.Second); err != nil {
		t.Fatal(err)
	}
	// The exit is recorded after the output: nothing more arrives.
	final := readLog(t, spec.LogPath)
	n := contiguous(t, ticks(t, old), ticks(t, final))
	t.Logf("%d ticks, %d before the rotation", n, len(ticks(t, old)))
	if err := sb.ReopenContainerLog("ticker"); err != nil { // nothing open: a no-op
		t.Fatal(err)
	}
	if err := sb.ReopenContainerLog("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing container: %v", err)
	}
	// The caller's own Stdout and Stderr keep working as before; there is
	// no log file to reopen then.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	own := ctr(rootfs, "own", "hostname")
	own.Stdout, own.Stderr = w, w
	run(t, sb, own)
	w.Close()
	if line, _ := bufio.NewReader(r).ReadString('\n'); line != "reopen\n" {
		t.Fatalf("own stdout got %q", line)
	}
	if err := sb.ReopenContainerLog("own"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("reopen with the caller's files: %v", err)
	}
	// A bad log path is refused before anything is created.
	bad := ctr(rootfs, "bad", "true")
	bad.LogPath = "relative.log"
	if err := sb.CreateContainer(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("relative log path: %v", err)
	}
}

// The "logmanager" helper creates sandbox "rec" in RunDir os.Args[1] with
// the pause os.Args[2] and a ticking container from rootfs os.Args[3],
// says "running" and waits to be killed.
func init() {
	testharness.RegisterHelper("logmanager", func() int {
		runDir, pauseBin, rootfs := os.Args[1], os.Args[2], os.Args[3]
		ctx := context.Background()
		cfg := Config{ID: "rec", RunDir: runDir, PauseBinary: pauseBin, CgroupParent: "podkit-sandbox-test"}
		if managerSetup(ctx, cfg, ctr(rootfs, "ticker", "tick", "5")) == nil {
			return 1
		}
		return managerIdle()
	})
}

// TestLogsSurviveManagerCrash: while no manager copies its output the
// container is neither killed by SIGPIPE nor loses lines (they wait in
// the pipe), and after Load the new manager copies on.
func TestLogsSurviveManagerCrash(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cmd, runDir := runningManager(t, "logmanager", rootfs)
	logPath := filepath.Join(runDir, "rec", "logs", "ticker.log")
	eventually(t, "ticks copied by the first manager", func() bool { return len(ticks(t, readLog(t, logPath))) >= 3 })
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	before := len(ticks(t, readLog(t, logPath)))
	time.Sleep(200 * time.Millisecond) // ~40 lines into the pipe meanwhile
	sb, err := Load(runDir, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer reapOrphans(t)
	if c := statusOf(sb, "ticker"); c.State != ContainerRunning {
		t.Fatalf("ticker after Load: %+v", c)
	}
	eventually(t, "ticks copied by the new manager", func() bool { return len(ticks(t, readLog(t, logPath))) > before+60 })
	n := contiguous(t, ticks(t, readLog(t, logPath)))
	t.Logf("%d ticks, %d copied before the crash", n, before)
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCRILogFormat(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "crilog"))
	spec := ctr(rootfs, "lines", "cri-lines")
	spec.LogFormat = LogCRI
	before := time.Now()
	run(t, sb, spec)
	if es := waitExit(t, sb, "lines"); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	type entry struct{ stream, tag, text string }
	var out, errs []entry
	for _, l := range strings.Split(strings.TrimSuffix(logOf(t, sb, "lines"), "\n"), "\n") {
		f := strings.SplitN(l, " ", 4)
		if len(f) != 4 {
			t.Fatalf("log line %q", l)
		}
		ts, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil || ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
			t.Fatalf("timestamp %q: %v", f[0], err)
		}
		e := entry{f[1], f[2], f[3]}
		switch e.stream {
		case "stdout":
			out = append(out, e)
		case "stderr":
			errs = append(errs, e)
		default:
			t.Fatalf("stream %q", e.stream)
		}
	}
	x := strings.Repeat("x", 20000)
	wantOut := []entry{{"stdout", "F", "out1"}, {"stdout", "P", x[:MaxLogLine]}, {"stdout", "F", x[MaxLogLine:]},
		{"stdout", "F", ""}, {"stdout", "F", "tail"}}
	if len(out) != len(wantOut) {
		t.Fatalf("stdout entries %d, want %d", len(out), len(wantOut))
	}
	for i := range wantOut {
		if out[i] != wantOut[i] {
			t.Fatalf("stdout entry %d: %.40q, want %.40q", i, out[i], wantOut[i])
		}
	}
	if len(errs) != 1 || errs[0] != (entry{"stderr", "F", "err1"}) {
		t.Fatalf("stderr entries %q", errs)
	}
	bad := ctr(rootfs, "bad", "true")
	bad.LogFormat = "json"
	if err := sb.CreateContainer(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("unknown log format: %v", err)
	}
}
