//go:build linux

package cgroup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// testParent is the top-level cgroup every test pod goes under; the leak
// checker watches podkit* in every hierarchy.
const testParent = "/podkit-cgtest"

func init() {
	testharness.RegisterHelper("sleeper", helperSleeper)
	testharness.RegisterHelper("forkbomb", helperForkBomb)
	testharness.RegisterHelper("memhog", helperMemHog)
	testharness.RegisterHelper("spin", helperSpin)
	testharness.RegisterHelper("stubborn", helperStubborn)
	testharness.RegisterHelper("selfcgroup", helperSelfCgroup)
}

// waitGo blocks until the test writes a line on stdin (the test moves the
// helper into its cgroup first), bounded so a helper never outlives a
// crashed test for long.
func waitGo() {
	done := make(chan struct{})
	go func() { _, _ = bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		os.Exit(3)
	}
}

// helperSleeper prints "ready" and sleeps up to 60s.
func helperSleeper() int {
	fmt.Println("ready")
	time.Sleep(60 * time.Second)
	return 0
}

// Raw timespecs and fork loop for the fork bomb children: after a raw
// clone only raw system calls are safe, so the children run nosplit code.
var (
	bombNap  = unix.Timespec{Nsec: 2_000_000}
	bombStop int // iterations before a child exits (bounded bomb)
)

//go:nosplit
func rawFork() (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	return r, e
}

// bombLoop forks and naps until bombStop iterations passed, then exits;
// every child runs the same loop (an exponential, self-terminating bomb).
//
//go:nosplit
func bombLoop() {
	for i := 0; i < bombStop; i++ {
		if r, e := rawFork(); e == 0 && r == 0 {
			i = 0 // the new child starts its own count
		}
		syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&bombNap)), 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// helperForkBomb: after "go", every process forks as fast as it can for
// ~20s (2ms naps), then exits. Only pids.max stops it.
func helperForkBomb() int {
	return forkBomb(10000, 30*time.Second)
}

// forkBomb, after "go", forks a raw child that keeps forking (bombLoop,
// up to stop processes) and exits 0 after life.
func forkBomb(stop int, life time.Duration) int {
	waitGo()
	bombStop = stop
	if r, e := rawFork(); e == 0 && r == 0 {
		bombLoop()
	}
	time.Sleep(life)
	return 0
}

// helperMemHog touches up to 512MiB, 1MiB at a time; it prints "survived"
// and exits 0 if the OOM killer never comes.
func helperMemHog() int {
	waitGo()
	var keep [][]byte
	for range 512 {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
	}
	fmt.Println("survived", len(keep))
	return 0
}

// helperSpin burns CPU for os.Args[1] of wall time.
func helperSpin() int {
	d, _ := time.ParseDuration(os.Args[1])
	waitGo()
	x := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 100000 {
			x += i
		}
	}
	spinSink = x // keeps the loop from being optimised away
	return 0
}

var spinSink int

// helperStubborn ignores SIGTERM (inherited by its children as SIG_IGN)
// and keeps forking raw children that keep forking, bounded by the
// cgroup's pids.max and a ~60s lifetime.
func helperStubborn() int {
	signal.Ignore(syscall.SIGTERM)
	return forkBomb(30000, 60*time.Second)
}

// helperSelfCgroup prints the v2 line of /proc/self/cgroup.
func helperSelfCgroup() int {
	b, _ := os.ReadFile("/proc/self/cgroup")
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "0::") {
			fmt.Print(line)
		}
	}
	return 0
}

// helper is a started helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHelper starts a helper; it waits for "go" on stdin where the helper
// does. Cleanup kills and reaps it.
func startHelper(t *testing.T, name string, args ...string) *helper {
	t.Helper()
	cmd := testharness.HelperCmd(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := testharness.StartWithStdout(t, cmd)
	h := &helper{cmd: cmd, stdin: stdin, out: out}
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *helper) pid() int { return h.cmd.Process.Pid }

func (h *helper) goNow(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
		t.Fatalf("helper go: %v", err)
	}
}

// stop kills (if needed) and reaps the helper and any orphan it left.
func (h *helper) stop() {
	if h.cmd.ProcessState == nil {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	}
	reapOrphans()
}

// reapOrphans reaps zombies re-parented to the test process (a subreaper)
// after a kill-all, waiting briefly for late re-parenting.
func reapOrphans() {
	quiet := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && quiet < 20; {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case pid > 0:
			quiet = 0
			continue
		case errors.Is(err, unix.ECHILD):
			quiet++
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hostSystem returns the detected System.
func hostSystem(t *testing.T) *System {
	t.Helper()
	s, err := Host()
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	return s
}

// systems returns the host's System plus, on a hybrid host, the empty v2
// hierarchy as a second System (no controllers there, but kill, freeze,
// events, procs and CLONE_INTO_CGROUP work).
func systems(t *testing.T) map[string]*System {
	t.Helper()
	s := hostSystem(t)
	out := map[string]*System{"host-" + s.Mode().String(): s}
	if s.Mode() == ModeHybrid {
		u, err := Unified(s.l.unified)
		if err != nil {
			t.Fatalf("Unified: %v", err)
		}
		out["unified-empty"] = u
	}
	return out
}

// newTestPod creates a pod under testParent and removes testParent in every
// hierarchy at cleanup.
func newTestPod(t *testing.T, s *System, id string, r *Resources) *Pod {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := s.Open(testParent); err == nil {
			_ = c.KillAll(ctx)
		}
		reapOrphans()
		if err := s.Remove(ctx, testParent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	pod, err := s.NewPod(PodConfig{Parent: testParent, ID: id, Resources: r})
	if err != nil {
		t.Fatalf("NewPod: %v", err)
	}
	return pod
}

// read returns the trimmed content of a controller file of c.
func read(t *testing.T, c Cgroup, ctrl, file string) string {
	t.Helper()
	dir := c.Paths()[ctrl]
	if dir == "" {
		dir = c.Paths()[""]
	}
	s, err := readFile(dir + "/" + file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return strings.TrimSpace(s)
}

// fileKV reads a number from a controller file of c: the file's whole
// content for key "", else the value of the line "key value".
func fileKV(t *testing.T, c Cgroup, ctrl, file, key string) uint64 {
	t.Helper()
	s := read(t, c, ctrl, file)
	if key == "" {
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	n, _, _ := lookupKV(s, key)
	return n
}

// eventually polls cond every 10ms until it holds or 30s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testharness.Eventually(t, what, 30*time.Second, 10*time.Millisecond, cond)
}

func ctx30(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
