//go:build linux

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/examples/podrun/runner"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

func init() {
	// Process-wide handles opened lazily by libcontainer's dependencies;
	// open them before any leak snapshot (as the sandbox tests do).
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	_, _ = procfs.OpenProcRoot()
	// nsjoin keeps one handle per kind on the home namespace for the life
	// of the process (probes and exec join the pod's namespaces).
	_ = nsjoin.Prepare()
}

const cgroupParent = "podkit-podrun-test"

// env prepares a privileged podrun/example run: pause binary, private run
// and log dirs, and removal of the cgroup parent the sandbox leaves behind.
type env struct {
	runDir, logDir string
}

func setup(t *testing.T) env {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	dir := t.TempDir()
	t.Cleanup(func() {
		for _, h := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified", ""} {
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", h, cgroupParent))
		}
	})
	return env{runDir: filepath.Join(dir, "run"), logDir: filepath.Join(dir, "logs")}
}

func (e env) args(extra ...string) []string {
	return append([]string{"--run-dir", e.runDir, "--log-dir", e.logDir, "--cgroup-parent", cgroupParent, "--backoff", "1s",
		"--no-network"}, extra...) // network tests bring their own network (podrun_net_test.go)
}

// record is any JSON line podrun prints.
type record struct {
	Type     string `json:"type"`
	Ready    string `json:"ready"`
	Status   string `json:"status"`
	Phase    string `json:"phase"`
	Restarts int    `json:"restarts"`
	Reason   string `json:"reason"`
	ExitCode int    `json:"exitCode"`
	// Container and Message describe an event (probe failures, exits).
	Container string `json:"container"`
	Message   string `json:"message"`
	PodIP     string `json:"podIP"` // status records
}

// podrun runs podrun in-process with --json; onRecord may cancel the run
// (a Ctrl-C) by returning true. It returns the exit code and every record.
func podrun(t *testing.T, args []string, onRecord func(record) bool) (int, []record, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	codec := make(chan int, 1)
	go func() {
		codec <- runner.Main(ctx, append([]string{"--json"}, args...), pw, &stderr, nil)
		pw.Close()
	}()
	var recs []record
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Errorf("not a JSON line: %q", sc.Text())
			continue
		}
		recs = append(recs, r)
		if onRecord != nil && onRecord(r) {
			cancel()
		}
	}
	return <-codec, recs, stderr.String()
}

var criLine = regexp.MustCompile(`^(\S+) (stdout|stderr) (F|P) (.*)$`)

// criLog checks every line of a CRI log file and returns the messages.
func criLog(t *testing.T, path string) []string {
	t.Helper()
	var msgs []string
	for _, m := range criLines(t, path) {
		msgs = append(msgs, m[4])
	}
	return msgs
}

// criLines checks every line of a CRI log file (its form and timestamp)
// and returns their criLine submatches.
func criLines(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("CRI log: %v", err)
	}
	var lines [][]string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		m := criLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s: not a CRI log line: %q", path, l)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("%s: bad timestamp in %q: %v", path, l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestPodrunHelloBecomesReady(t *testing.T) {
	e := setup(t)
	code, recs, stderr := podrun(t, e.args("--until-ready", "../examples/podrun/pods/hello.yaml"), nil)
	if code != runner.ExitSucceeded {
		t.Fatalf("exit %d, stderr:\n%s\nlast records:\n%s", code, stderr, lastRecords(recs, 15))
	}
	sawReady := false
	for _, r := range recs {
		if r.Type == "status" && r.Ready == "2/2" && r.Phase == "Running" {
			sawReady = true
		}
	}
	if !sawReady {
		t.Fatalf("never 2/2 Running: %+v", recs)
	}
	web := strings.Join(criLog(t, filepath.Join(e.logDir, "default_hello", "web", "0.log")), "\n")
	side := strings.Join(criLog(t, filepath.Join(e.logDir, "default_hello", "sidecar", "0.log")), "\n")
	if !strings.Contains(web, "listening on 127.0.0.1:8080") || !strings.Contains(side, "sidecar: got: hello #") {
		t.Fatalf("logs:\nweb:\n%s\nsidecar:\n%s", web, side)
	}
	if _, err := os.Stat(filepath.Join(e.runDir, "hello")); !os.IsNotExist(err) {
		t.Fatalf("sandbox dir left behind: %v", err)
	}
}

func TestPodrunLivenessFailureRestarts(t *testing.T) {
	e := setup(t)
	backoff := false
	code, recs, stderr := podrun(t, e.args("testdata/liveness.yaml"), func(r record) bool {
		backoff = backoff || r.Status == "CrashLoopBackOff"
		return r.Type == "status" && r.Restarts >= 2
	})
	if code != runner.ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, runner.ExitInterrupted, stderr)
	}
	if !backoff {
		t.Errorf("never in CrashLoopBackOff between restarts: %+v", recs)
	}
	runs, _ := filepath.Glob(filepath.Join(e.logDir, "default_podrun-liveness", "flaky", "*.log"))
	if len(runs) < 2 {
		t.Fatalf("want one CRI log per run, got %q", runs)
	}
	for _, f := range runs {
		if msgs := criLog(t, f); len(msgs) == 0 || msgs[0] != "started" {
			t.Errorf("%s: %q", f, msgs)
		}
	}
}

// TestPodrunLogStreams runs pods/streams.yaml: an init container writes
// one line to stdout and one to stderr; the app container fails twice and
// succeeds on its third run, each run writing "out N", "err N" and a tail
// without newline. Every line must carry its own stream tag, the tail must
// be a P entry, and each run's file must hold exactly its own run's lines.
func TestPodrunLogStreams(t *testing.T) {
	e := setup(t)
	code, recs, stderr := podrun(t, e.args("../examples/podrun/pods/streams.yaml"), nil)
	if code != runner.ExitSucceeded {
		t.Fatalf("exit %d, stderr:\n%s\nlast records:\n%s", code, stderr, lastRecords(recs, 15))
	}
	dir := filepath.Join(e.logDir, "default_streams")
	check := func(file string, want []string) {
		t.Helper()
		got := criEntries(t, filepath.Join(dir, file))
		// Two pipes: the order is only kept within one stream.
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
	check("hello/0.log", []string{"stdout F out", "stderr F err"})
	for n := range 3 {
		check(fmt.Sprintf("count/%d.log", n), []string{
			fmt.Sprintf("stdout F out %d", n), fmt.Sprintf("stderr F err %d", n), fmt.Sprintf("stdout P no newline %d", n),
		})
	}
	if runs, _ := filepath.Glob(filepath.Join(dir, "count", "*.log")); len(runs) != 3 {
		t.Errorf("want 3 run files, got %q", runs)
	}
}

// criEntries checks every line of a CRI log file and returns them without
// the timestamps: "<stream> <tag> <message>".
func criEntries(t *testing.T, path string) []string {
	t.Helper()
	var entries []string
	for _, m := range criLines(t, path) {
		entries = append(entries, m[2]+" "+m[3]+" "+m[4])
	}
	return entries
}

func TestPodrunReadinessFails(t *testing.T) {
	e := setup(t)
	code, recs, stderr := podrun(t, e.args("--timeout", "6s", "testdata/unready.yaml"), nil)
	if code != runner.ExitTimeout {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, runner.ExitTimeout, stderr)
	}
	running := false
	for _, r := range recs {
		if r.Type == "status" && r.Ready != "0/1" {
			t.Fatalf("became ready: %+v", r)
		}
		running = running || r.Phase == "Running"
	}
	if !running {
		t.Fatalf("never Running: %+v", recs)
	}
}

func TestPodrunOutcomes(t *testing.T) {
	for _, tc := range []struct {
		file  string
		code  int
		phase string
	}{
		{"testdata/job.yaml", runner.ExitSucceeded, "Succeeded"},
		{"testdata/fail.yaml", runner.ExitFailed, "Failed"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := setup(t)
			code, recs, stderr := podrun(t, e.args(tc.file), nil)
			last := recs[len(recs)-1]
			if code != tc.code || last.Type != "result" || last.Phase != tc.phase || last.ExitCode != tc.code {
				t.Fatalf("exit %d, last record %+v; stderr:\n%s", code, last, stderr)
			}
		})
	}
}

func TestPodrunBadInput(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/bad-yaml.yaml", []string{"malformed manifest", "yaml"}},
		{"testdata/bad-kind.yaml", []string{`kind "Deployment"`, "spec.template"}},
		{"testdata/bad-image.yaml", []string{"spec.containers[0].image", "not a valid image reference", "spec.containers[1].image: missing"}},
		{"testdata/bad-quantity.yaml", []string{"spec.containers[0].resources.limits.memory", `"64Megs" is not a valid quantity`}},
		{"testdata/unsupported.yaml", []string{"spec.runtimeClassName", "spec.containers[0].livenessProbe.grpc", "securityContext.procMount"}},
		{"testdata/does-not-exist.yaml", []string{"no such file"}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			e := setup(t)
			code, _, stderr := podrun(t, e.args(tc.file), nil)
			if code != runner.ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, runner.ExitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, d := range []string{e.runDir, e.logDir} {
				if _, err := os.Stat(d); !os.IsNotExist(err) {
					t.Errorf("%s was created (err %v)", d, err)
				}
			}
		})
	}
}

func TestSmallExamples(t *testing.T) {
	for _, name := range []string{"localhost", "sidecar", "orphans", "oomkill", "initvolume"} {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			bin := testharness.BuildProgram(t, "github.com/podkit/podkit/examples/"+name)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--run-dir", e.runDir, "--cgroup-parent", cgroupParent)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), "=> ") {
				t.Fatalf("%s did not say what it demonstrated:\n%s", name, out)
			}
			t.Logf("%s output:\n%s", name, out)
		})
	}
}

// lastRecords formats the last n podrun JSON records, for failure messages.
func lastRecords(recs []record, n int) string {
	var b strings.Builder
	for _, r := range recs[max(0, len(recs)-n):] {
		fmt.Fprintf(&b, "  %+v\n", r)
	}
	return b.String()
}
