//go:build linux

package runner

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func init() {
	// A container run: one line to stdout, one to stderr, then a tail
	// without newline on stdout, as `sh -c` in a manifest would.
	testharness.RegisterHelper("podrun-logs-run", func() int {
		os.Stdout.WriteString(os.Args[len(os.Args)-1] + " out\n")
		os.Stderr.WriteString(os.Args[len(os.Args)-1] + " err\n")
		os.Stdout.WriteString("tail")
		return 0
	})
}

// runWith starts the helper with the container's write ends as its stdout
// and stderr (the sandbox does the same per run) and waits for it.
func runWith(t *testing.T, m *logManager, name, arg string) {
	t.Helper()
	cmd := testharness.HelperCmd("podrun-logs-run", arg)
	cmd.Stdout, cmd.Stderr = m.writers(name)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
}

// criFile returns the entries of a CRI log file without timestamps,
// checking that each timestamp parses.
func criFile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for l := range strings.Lines(string(data)) {
		m := criRe.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%s: not a CRI entry: %q", path, l)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got = append(got, m[2]+" "+m[3]+" "+m[4])
	}
	return got
}

// TestLogManagerRuns runs two "runs" of a container writing to the same
// pair of pipes, and checks the stream tags, that the tail without a
// newline ends each run as a P entry, that each run has its own file with
// nothing of the other run in it, the console copy (--logs), that a
// container with no output gets no file, and that stop leaves no fd or
// goroutine behind.
func TestLogManagerRuns(t *testing.T) {
	testharness.LeakCheck(t) // fds
	goroutines := runtime.NumGoroutine()
	dir := t.TempDir()
	var console bytes.Buffer
	m := newLogManager(dir, newPrinter(&console, &console, false, "p"), true)
	if err := m.open([]string{"c", "quiet"}); err != nil {
		t.Fatal(err)
	}
	m.start()
	runWith(t, m, "c", "first")
	m.rotate("c") // its ContainerExited event: synchronous, no waiting needed
	runWith(t, m, "c", "second")
	m.rotate("c")
	m.stop()
	m.stop() // twice is fine

	for run, want := range [][]string{
		{"stdout F first out", "stderr F first err", "stdout P tail"},
		{"stdout F second out", "stderr F second err", "stdout P tail"},
	} {
		got := criFile(t, filepath.Join(dir, "c", []string{"0.log", "1.log"}[run]))
		// The two streams are two pipes: only the order within one is kept.
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("run %d: %q, want %q", run, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "2.log")); !os.IsNotExist(err) {
		t.Errorf("a third run file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "quiet")); !os.IsNotExist(err) {
		t.Errorf("a file for a container that wrote nothing: %v", err)
	}
	for _, want := range []string{"[c] first out\n", "[c] (stderr) first err\n", "[c] second out\n", "[c] tail\n"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console.String())
		}
	}
	waitGoroutines(t, goroutines)
}

// TestLogManagerStopDeadline: a process that still holds a write end
// (a survivor of the pod) cannot keep stop waiting past its deadline,
// and what it wrote before is kept.
func TestLogManagerStopDeadline(t *testing.T) {
	testharness.LeakCheck(t)
	goroutines := runtime.NumGoroutine()
	dir := t.TempDir()
	m := newLogManager(dir, newPrinter(&bytes.Buffer{}, &bytes.Buffer{}, false, "p"), false)
	m.drainTimeout = 200 * time.Millisecond
	if err := m.open([]string{"c"}); err != nil {
		t.Fatal(err)
	}
	m.start()
	out, _ := m.writers("c")
	survivor := exec.Command("sh", "-c", "echo before; exec sleep 600")
	survivor.Stdout = out
	if err := survivor.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = survivor.Process.Kill(); _ = survivor.Wait() }()
	// Wait (generously) until the line is written; stop must not lose it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "c", "0.log")); err == nil || time.Now().After(deadline) {
			break
		}
	}
	m.stop()
	if got := criFile(t, filepath.Join(dir, "c", "0.log")); !slices.Equal(got, []string{"stdout F before"}) {
		t.Errorf("got %q", got)
	}
	waitGoroutines(t, goroutines)
}

// waitGoroutines waits (generously) for the goroutine count to come back.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, had %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
	}
}

// TestLogManagerOpenStopWithoutStart: setup may fail between open and
// start; stop then only closes the pipes.
func TestLogManagerOpenStopWithoutStart(t *testing.T) {
	testharness.LeakCheck(t)
	m := newLogManager(t.TempDir(), newPrinter(&bytes.Buffer{}, &bytes.Buffer{}, false, "p"), false)
	if err := m.open([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	m.stop()
	m.rotate("a") // after stop: ignored
	if o, e := m.writers("a"); o != nil || e != nil {
		t.Fatal("write ends still handed out after stop")
	}
}
