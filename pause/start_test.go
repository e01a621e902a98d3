//go:build linux

package pause_test

import (
	"context"
	encbin "encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// TestReadyMeansSignalsTaken: when Start returns, SIGTERM, SIGINT and
// SIGCHLD are taken by the pause (never left to their default action) and
// the others are ignored in the kernel.
func TestReadyMeansSignalsTaken(t *testing.T) {
	testharness.Privileged(t)
	eachNativePause(t, testReadyMeansSignalsTaken)
}

func testReadyMeansSignalsTaken(t *testing.T, bin string) {
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces})
	taken := takenSignals(t, p.Pid)
	ignored := statusMask(t, p.Pid, "SigIgn")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD} {
		if taken&(1<<(sig-1)) == 0 {
			t.Errorf("%v not taken when Start returned (caught, blocked or waited for: %x)", sig, taken)
		}
	}
	// In pause mode the others are ignored, never left to their default
	// action (which would kill a pause that is not PID 1).
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGALRM, syscall.Signal(40)} {
		if ignored&(1<<(sig-1)) == 0 {
			t.Errorf("%v not ignored when Start returned (SigIgn %x)", sig, ignored)
		}
	}
	for _, ns := range []string{"net", "ipc", "uts", "pid"} {
		mine, _ := os.Readlink("/proc/self/ns/" + ns)
		theirs, err := os.Readlink(p.NamespacePath(ns))
		if err != nil || mine == theirs {
			t.Errorf("%s namespace of the pause %q (err %v), ours %q: want a new one", ns, theirs, err, mine)
		}
	}
	// The bare pause is one thread with no Go runtime: proof that it, not
	// the Go program, is what ran.
	threads := procStatus(t, p.Pid, "Threads")
	if isBare(bin) != (threads == "1") {
		t.Errorf("%s has %s threads; want 1 exactly when it is the bare pause (bare: %v)", bin, threads, isBare(bin))
	}
}

// takenSignals returns the signals (bit N-1 for signal N) that process pid
// takes rather than leaving to their default action: caught by a handler
// (the Go runtime's), blocked, or waited for in rt_sigtimedwait, which
// hides them from SigBlk during the wait (where the bare pause sits).
func takenSignals(t *testing.T, pid int) uint64 {
	t.Helper()
	var set uint64
	for range 100 {
		set = statusMask(t, pid, "SigCgt") | statusMask(t, pid, "SigBlk")
		if waited, ok := sigtimedwaitSet(t, pid); ok {
			return set | waited
		}
		if set != 0 {
			return set
		}
		time.Sleep(time.Millisecond) // between the two: look again
	}
	return set
}

// sigtimedwaitSet returns the set process pid waits for when it is in
// rt_sigtimedwait(2): /proc/PID/syscall gives the set's address, and
// /proc/PID/mem its contents.
func sigtimedwaitSet(t *testing.T, pid int) (uint64, bool) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 || f[0] != strconv.Itoa(unix.SYS_RT_SIGTIMEDWAIT) {
		return 0, false
	}
	addr, err := strconv.ParseUint(f[1], 0, 64)
	if err != nil {
		t.Fatalf("/proc/%d/syscall %q: %v", pid, b, err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	var set [8]byte
	if _, err := mem.ReadAt(set[:], int64(addr)); err != nil {
		t.Fatalf("reading the waited-for set at %#x: %v", addr, err)
	}
	return encbin.NativeEndian.Uint64(set[:]), true
}

func TestStartExitedBeforeReady(t *testing.T) {
	testharness.Privileged(t)
	_, err := pause.Start(bgCtx(), pause.Options{
		Path: testharness.HelperBinary(),
		Env:  []string{testharness.HelperEnv("exit3")},
	})
	var pe *pause.Error
	if !errors.Is(err, pause.ErrExited) || !errors.As(err, &pe) || pe.Status == nil || pe.Status.Code != 3 {
		t.Fatalf("Start: %v; want ErrExited with exit status 3", err)
	}
}

func TestStartContextExpiresKillsIt(t *testing.T) {
	testharness.Privileged(t)
	ctx, cancel := context.WithTimeout(bgCtx(), 200*time.Millisecond)
	defer cancel()
	_, err := pause.Start(ctx, pause.Options{
		Path: testharness.HelperBinary(),
		Env:  []string{testharness.HelperEnv("hang")},
	})
	var pe *pause.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Status == nil ||
		pe.Status.Signal != syscall.SIGKILL {
		t.Fatalf("Start: %v; want DeadlineExceeded and a SIGKILLed process", err)
	}
	// Already cancelled: nothing is started at all.
	_, err = pause.Start(ctx, pause.Options{Path: testharness.PauseBinary(t)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start with an expired context: %v", err)
	}
}

func TestStartInvalidOptions(t *testing.T) {
	testharness.Privileged(t)
	bin := testharness.PauseBinary(t)
	for name, o := range map[string]pause.Options{
		"clone-flags":       {Path: bin, Cloneflags: unix.CLONE_VM},
		"cgroup-fd":         {Path: bin, UseCgroupFD: true, CgroupFD: -1},
		"policy-needs-args": {Path: bin, Orphans: pause.WaitForDescendants},
		"bad-policy":        {Path: bin, Args: []string{"true"}, Orphans: 7},
		"empty-command":     {Path: bin, Args: []string{""}},
		"before-fork-die":   {Path: bin, DieWithParent: true, BeforeFork: func() error { return nil }},
		"drop-no-events":    {Path: bin, DropEvents: true},
		"thread-and-parent": {Path: bin, DieWithThread: true, DieWithParent: true},
		"thread-and-before": {Path: bin, DieWithThread: true, BeforeFork: func() error { return nil }},
	} {
		if _, err := pause.Start(bgCtx(), o); !errors.Is(err, pause.ErrInvalidOptions) {
			t.Errorf("%s: %v; want ErrInvalidOptions", name, err)
		}
	}
}

// TestStartBeforeFork: what BeforeFork changes on the forking thread (here
// a new UTS namespace) is what the pause inherits, and it stays off every
// other thread; an error from it aborts Start with nothing started.
func TestStartBeforeFork(t *testing.T) {
	testharness.Privileged(t)
	p := start(t, pause.Options{BeforeFork: func() error {
		if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
			return err
		}
		return unix.Sethostname([]byte("before-fork"))
	}})
	own, _ := os.Readlink("/proc/self/ns/uts")
	its, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", p.Pid))
	if err != nil || its == own {
		t.Fatalf("pause uts %q (%v), ours %q: want the thread's new namespace", its, err, own)
	}
	if st, err := p.Stop(bgCtx()); err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v", st, err)
	}
	boom := errors.New("boom")
	if _, err := pause.Start(bgCtx(), pause.Options{Path: testharness.PauseBinary(t), BeforeFork: func() error { return boom }}); !errors.Is(err, boom) {
		t.Fatalf("failing BeforeFork: %v, want it wrapped", err)
	}
}

func TestStartIntoCgroup(t *testing.T) {
	testharness.Privileged(t)
	const root = "/sys/fs/cgroup/unified" // cgroup v2 (hybrid); /sys/fs/cgroup when unified
	dir := root
	if _, err := os.Stat(root + "/cgroup.procs"); err != nil {
		dir = "/sys/fs/cgroup"
		if _, err := os.Stat(dir + "/cgroup.subtree_control"); err != nil {
			t.Skip("no cgroup v2 hierarchy mounted")
		}
	}
	name := fmt.Sprintf("podkit-pause-test-%d", os.Getpid())
	cg := filepath.Join(dir, name)
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(cg) })
	fd, err := unix.Open(cg, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	p := start(t, pause.Options{Cloneflags: pause.PodNamespaces, UseCgroupFD: true, CgroupFD: fd})
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.Pid))
	if err != nil || !strings.Contains(string(b), "0::/"+name+"\n") {
		t.Fatalf("pause cgroups %q (%v): want 0::/%s", b, err, name)
	}
	if st, err := p.Stop(bgCtx()); err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v", st, err)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	testharness.Privileged(t)
	outR, outW := pipe(t)
	p := start(t, pause.Options{
		Cloneflags: pause.PodNamespaces,
		Args:       []string{testharness.HelperBinary()},
		Env:        append(environ(), testharness.HelperEnv("ignore-term")),
		Stdout:     outW,
	})
	outW.Close()
	expectLines(t, lines(outR), "ready")
	ctx, cancel := context.WithTimeout(bgCtx(), 300*time.Millisecond)
	defer cancel()
	st, err := p.Stop(ctx)
	if err != nil || st.Signal != syscall.SIGKILL {
		t.Fatalf("Stop: %v, %v; want killed by SIGKILL", st, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatalf("Wait after Close returns the cached status, got %v", err)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, pause.ErrClosed) {
		t.Fatalf("Signal after Close: %v, want ErrClosed", err)
	}
}

func TestDieWithParent(t *testing.T) {
	testharness.Privileged(t)
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	helper := testharness.HelperCmd("die-with-parent", testharness.PauseBinary(t))
	helper.Stdin, helper.Stdout = inR, outW
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	var pid int
	select {
	case l := <-lines(outR):
		pid, _ = strconv.Atoi(l)
	case <-time.After(deadline):
	}
	if pid <= 0 {
		inW.Close()
		helper.Wait()
		t.Fatal("helper did not report the pause's pid")
	}
	// The goroutine that called Start has ended and its thread with it; the
	// pause must still be running.
	if state := procStatus(t, pid, "State"); !isAlive(state) {
		t.Errorf("pause state %q after the starting thread ended", state)
	}
	inW.Close() // the helper exits; the kernel kills the pause
	if err := helper.Wait(); err != nil {
		t.Fatal(err)
	}
	// We are the subreaper the pause is re-parented to.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait for the orphaned pause: %v", err)
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("pause status %v, want killed by SIGKILL", ws)
	}
}

// TestDieWithThread: a pause started with DieWithThread lives while the
// forking thread lives and is SIGKILLed when that thread exits, though the
// process goes on.
func TestDieWithThread(t *testing.T) {
	testharness.Privileged(t)
	started := make(chan *pause.Process, 1)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		p, err := pause.Start(bgCtx(), pause.Options{Path: testharness.PauseBinary(t), Cloneflags: pause.PodNamespaces, DieWithThread: true})
		if err != nil {
			t.Error(err)
		}
		started <- p
		<-release
	}()
	p := <-started
	if p == nil {
		return
	}
	defer p.Close()
	if state := procStatus(t, p.Pid, "State"); !isAlive(state) {
		t.Fatalf("pause state %q while its thread lives", state)
	}
	close(release)
	st, err := p.Wait()
	if err != nil || st.Signal != syscall.SIGKILL {
		t.Fatalf("pause after its thread ended: %+v, %v; want killed by SIGKILL", st, err)
	}
}
