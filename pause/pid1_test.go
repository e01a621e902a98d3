//go:build linux

package pause_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// runInPidNS runs cmd as a member of the pause's PID namespace (setns to
// pid_for_children on a throwaway locked thread) and waits for it.
func runInPidNS(t testing.TB, p *pause.Process, cmd *exec.Cmd) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Setns(p.PidFD(), unix.CLONE_NEWPID); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Start()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("start %v in the pause's PID namespace: %v", cmd.Args, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %v (pause: %s)", cmd.Args, err, pauseState(p))
	}
}

// makeOrphans has the orphans helper make n orphans in the pause's PID
// namespace, where they are re-parented to the pause (its PID 1), and
// checks that it made them all.
func makeOrphans(t *testing.T, p *pause.Process, n int) {
	t.Helper()
	var out strings.Builder
	maker := testharness.HelperCmd("orphans", strconv.Itoa(n))
	maker.Stdout = &out
	runInPidNS(t, p, maker)
	if got := strings.TrimSpace(out.String()); got != fmt.Sprintf("done %d", n) {
		t.Fatalf("orphan maker said %q", got)
	}
}

// pauseState describes whether the pause is still running, for failures.
func pauseState(p *pause.Process) string {
	ch := make(chan string, 1)
	go func() { st, err := p.Wait(); ch <- fmt.Sprintf("exited: %v %v", st, err) }()
	select {
	case s := <-ch:
		return s
	case <-time.After(time.Second):
		return "still running"
	}
}

func TestPID1ReapsTenThousandOrphans(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, testPID1ReapsTenThousandOrphans)
}

func testPID1ReapsTenThousandOrphans(t *testing.T, bin string) {
	const n = 10000
	evw, evDone, events := eventPipe(t)
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	t.Cleanup(func() {
		if b, _ := os.ReadFile(stderr.Name()); len(b) > 0 {
			t.Logf("pause stderr:\n%s", b)
		}
	})
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces, Events: evw, Stderr: stderr})
	evDone()
	if nspid := strings.Fields(procStatus(t, p.Pid, "NSpid")); nspid[len(nspid)-1] != "1" {
		t.Fatalf("pause is not PID 1 in its namespace: NSpid %v", nspid)
	}
	reaped := make(chan int, 1)
	go func() {
		c := 0
		for e := range events {
			if e.Event == "orphan" {
				if c++; c == n {
					break
				}
			}
		}
		reaped <- c
	}()
	makeOrphans(t, p, 10000)
	if c := <-reaped; c != n {
		t.Fatalf("pause reported %d reaped orphans, want %d", c, n)
	}
	eventually(t, "zombies of the pause back to 0", func() bool { return zombieChildren(p.Pid) == 0 })
	t.Logf("pause after %d reaps: RssAnon %s, Threads %s", n, procStatus(t, p.Pid, "RssAnon"), procStatus(t, p.Pid, "Threads"))
	st, err := p.Stop(bgCtx())
	if err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v; want exit 0", st, err)
	}
}

func TestTermAndIntExitZero(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, func(t *testing.T, bin string) {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(sig.String(), func(t *testing.T) {
				p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces})
				if err := p.Signal(sig); err != nil {
					t.Fatal(err)
				}
				st, err := p.Wait()
				if err != nil || st.Code != 0 || st.Signal != 0 {
					t.Fatalf("after %v: %v, %v; want exit status 0", sig, st, err)
				}
				if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
					t.Fatalf("Signal after Wait: %v, want os.ErrProcessDone", err)
				}
			})
		}
	})
}

func TestOtherSignalsIgnored(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, testOtherSignalsIgnored)
}

func testOtherSignalsIgnored(t *testing.T, bin string) {
	evw, evDone, events := eventPipe(t)
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces, Events: evw})
	evDone()
	// Ignored in the kernel (SIG_IGN), so listed in SigIgn.
	kernelIgnored := []syscall.Signal{
		syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE,
		syscall.SIGALRM, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU,
		syscall.SIGWINCH, syscall.SIGABRT, syscall.Signal(40),
	}
	// Sent with kill(2) these are not faults: the runtime drops them.
	runtimeIgnored := []syscall.Signal{syscall.SIGSEGV, syscall.SIGBUS}
	if isEmulated(bin) {
		// qemu-user itself dies of a SIGSEGV sent with kill(2) soon after
		// a SIGBUS, whatever the guest does with them (SigIgn above shows
		// the pause's part).
		runtimeIgnored = nil
	}
	ign, err := strconv.ParseUint(procStatus(t, p.Pid, "SigIgn"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range kernelIgnored {
		if ign&(1<<(sig-1)) == 0 {
			t.Errorf("%v not in SigIgn %x", sig, ign)
		}
	}
	// SIGURG is the Go runtime's preemption signal: caught, not relayed.
	for _, sig := range append(append(kernelIgnored, runtimeIgnored...), syscall.SIGURG) {
		if err := p.Signal(sig); err != nil {
			t.Fatalf("Signal(%v): %v", sig, err)
		}
	}
	time.Sleep(20 * time.Millisecond) // let any of them act, if one would
	if state := procStatus(t, p.Pid, "State"); !isAlive(state) {
		t.Fatalf("after the ignored signals the pause is %q, want sleeping", state)
	}
	st, err := p.Stop(bgCtx())
	if err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v", st, err)
	}
	// Nothing reported but the SIGTERM that made it exit.
	for e := range events {
		if e.Event == "signal" && e.Signal != "SIGTERM" {
			t.Errorf("event for an ignored signal: %+v", e)
		}
	}
}

// TestSignalsRightAfterReady: in the window between the ready byte and the
// relaying of ignored signals, a pause that is not PID 1 (where the default
// action of SIGHUP and the like would kill it) must ignore them.
func TestSignalsRightAfterReady(t *testing.T) {
	testharness.Privileged(t)
	eachNativePause(t, testSignalsRightAfterReady) // not PID 1: qemu-user refuses the subreaper
}

func testSignalsRightAfterReady(t *testing.T, bin string) {
	for range 20 {
		p := start(t, pause.Options{Path: bin})
		for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGQUIT, syscall.Signal(40)} {
			if err := p.Signal(sig); err != nil {
				t.Fatalf("Signal(%v): %v", sig, err)
			}
		}
		st, err := p.Stop(bgCtx())
		if err != nil || !st.Success() {
			t.Fatalf("Stop after early signals: %v, %v; want exit status 0", st, err)
		}
	}
}

func TestSubreaperWhenNotPID1(t *testing.T) {
	testharness.Privileged(t)
	evw, evDone, events := eventPipe(t)
	stderrR, stderrW := pipe(t)
	p := start(t, pause.Options{
		Args:    []string{testharness.HelperBinary(), "100"},
		Env:     append(environ(), testharness.HelperEnv("orphans")),
		Orphans: pause.WaitForDescendants,
		Events:  evw,
		Stderr:  stderrW,
	})
	evDone()
	stderrW.Close()
	errLines := lines(stderrR)
	orphans := 0
	timeout := time.After(deadline)
	for open := true; open; {
		var e event
		select {
		case e, open = <-events:
		case <-timeout:
			t.Fatalf("events still open after %v (%d orphans so far)", deadline, orphans)
		}
		switch e.Event {
		case "orphan":
			orphans++
		case "exit":
			if e.Code != 0 {
				t.Errorf("orphan maker exit event %+v", e)
			}
		}
	}
	if orphans != 100 {
		t.Fatalf("pause reaped %d orphans, want 100 (it must be their subreaper)", orphans)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("Wait: %v, %v", st, err)
	}
	var said []string
	for l := range errLines {
		said = append(said, l)
	}
	if len(said) != 1 || !strings.Contains(said[0], "subreaper") {
		t.Fatalf("stderr %q: want one line about being a subreaper", said)
	}
}

// SIGTERM sent while a burst of orphans is exiting must not be lost:
// os/signal drops signals for a full channel, so SIGCHLD must never be able
// to fill the channel SIGTERM arrives on.
func TestTermDuringOrphanBurst(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, testTermDuringOrphanBurst)
}

func testTermDuringOrphanBurst(t *testing.T, bin string) {
	const n = 3000
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces})
	said, release := holdOrphans(t, p, n)
	defer release()
	if got := strings.TrimSpace(said); got != fmt.Sprintf("done %d", n) {
		t.Fatalf("orphan maker said %q", got)
	}
	release() // every orphan exits at once: a SIGCHLD storm
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() { st, err := p.Wait(); done <- fmt.Sprintf("%v %v", st, err) }()
	select {
	case got := <-done:
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Fatalf("after SIGTERM during the burst: %s; want exit 0", got)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("SIGTERM sent during an orphan burst was lost: the pause is still running")
	}
}

// TestDropEventsNeverStalls: with DropEvents and an events FIFO nobody
// reads, the pause reaps 2,000 orphans (far more events than the pipe
// holds) without blocking, stays responsive to SIGTERM, and a reader that
// comes later gets the events that fitted.
func TestDropEventsNeverStalls(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, testDropEventsNeverStalls)
}

func testDropEventsNeverStalls(t *testing.T, bin string) {
	fifo := filepath.Join(t.TempDir(), "events")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: opening never blocks
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces, Events: w, DropEvents: true})
	w.Close()
	makeOrphans(t, p, 2000)
	eventually(t, "zombies of the pause back to 0", func() bool { return zombieChildren(p.Pid) == 0 })
	r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 1<<20)
	n, _ := r.Read(buf)
	if lines := bytes.Count(buf[:n], []byte("\n")); lines == 0 || lines >= 2000 {
		t.Fatalf("backlog of %d event lines; want some, not all 2000", lines)
	}
	st, err := p.Stop(bgCtx())
	if err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v; want exit 0", st, err)
	}
}
