//go:build linux

package testharness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	// helperEnvKey names the helper a re-executed test binary runs.
	helperEnvKey = "PODKIT_TEST_HELPER"
	// LockPath is the lock every test binary holds while it runs, so that
	// machine-wide leak checks of concurrent binaries never see each other.
	LockPath = "/tmp/podkit-test.lock"
)

var (
	helpersMu sync.Mutex
	helpers   = map[string]func() int{}
)

// RegisterHelper registers a helper program under name. Call it from an
// init function of a _test.go file. In the helper, os.Args is the test
// binary's path followed by the arguments given to HelperCmd.
func RegisterHelper(name string, fn func() int) {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	if _, dup := helpers[name]; dup {
		panic("testharness: helper registered twice: " + name)
	}
	helpers[name] = fn
}

// HelperBinary is the path of the running test binary.
func HelperBinary() string {
	exe, err := os.Executable()
	if err != nil {
		return "/proc/self/exe"
	}
	return exe
}

// HelperEnv is the environment entry that makes the test binary run helper name.
func HelperEnv(name string) string { return helperEnvKey + "=" + name }

// HelperCmd returns a command that re-runs this test binary as helper name.
func HelperCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(HelperBinary(), args...)
	cmd.Env = append(os.Environ(), HelperEnv(name))
	return cmd
}

// StartWithStdout starts cmd (a helper, say) with its stderr on the
// test's and returns a reader of its stdout, for the lines it reports.
func StartWithStdout(tb testing.TB, cmd *exec.Cmd) *bufio.Reader {
	tb.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return bufio.NewReader(out)
}

// A lock taken during package initialisation keeps main (and TestMain,
// which runs on main's goroutine) on the main thread; one taken later in
// Main would pin whatever thread main happened to be on by then.
func init() { runtime.LockOSThread() }

// Main is TestMain for every podkit package with tests.
//
// Main keeps the main goroutine locked to the main OS thread. A goroutine
// that exits while locked to a thread kills that thread, except the main
// thread, which Go wedges instead: it would live on in whatever namespace
// the goroutine left it in. With the main goroutine holding it, no
// throwaway namespace goroutine can ever land there.
//
// Each of prepare runs once before the tests (not in helpers): process-wide
// state a package makes once for its life belongs to every test's
// baseline, not to the first test's leaks.
func Main(m *testing.M, prepare ...func()) {
	runtime.LockOSThread()
	if name, ok := os.LookupEnv(helperEnvKey); ok {
		os.Exit(runHelper(name))
	}
	os.Exit(runTests(m, prepare))
}

func runHelper(name string) int {
	helpersMu.Lock()
	fn := helpers[name]
	helpersMu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "testharness: no helper %q (registered: %s)\n", name, registeredNames())
		return 2
	}
	os.Unsetenv(helperEnvKey) // a helper's own children are not helpers
	return fn()
}

func registeredNames() string {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	names := make([]string, 0, len(helpers))
	for n := range helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func runTests(m *testing.M, prepare []func()) int {
	lock, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testharness: open %s: %v\n", LockPath, err)
		return 2
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		fmt.Fprintf(os.Stderr, "testharness: lock %s: %v\n", LockPath, err)
		return 2
	}
	// Orphans of our descendants are re-parented to us, where the leak
	// checker sees them as children.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "testharness: PR_SET_CHILD_SUBREAPER: %v\n", err)
		return 2
	}
	if reason := privilegeProblem(); reason != "" {
		fmt.Fprintf(os.Stderr, "\n*** podkit: %s: privileged tests in this package will %s. "+
			"Run the tests as root (see README.md). ***\n\n", reason, map[bool]string{true: "FAIL (CI=true)", false: "SKIP"}[inCI()])
	}
	warmUpRuntime()
	for _, fn := range prepare {
		fn()
	}
	code := m.Run()
	removeBuildDir()
	return code
}

// warmUpRuntime makes the Go runtime create the descriptors it creates
// lazily (the netpoller's epoll and eventfd), so they are part of every
// snapshot instead of showing up as leaks of the first test that uses them.
func warmUpRuntime() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	_ = r.SetReadDeadline(timeZero())
	r.Close()
	w.Close()
}
