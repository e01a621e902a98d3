//go:build linux

package pause_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// Helper programs, run by re-executing the test binary.
func init() {
	testharness.RegisterHelper("orphans", helperOrphans)
	testharness.RegisterHelper("siggroup", helperSigGroup)
	testharness.RegisterHelper("sigrec", func() int { return recordSignals("child", nil) })
	testharness.RegisterHelper("orphan-blocker", helperOrphanBlocker)
	testharness.RegisterHelper("block-stdin", func() int {
		var b [1]byte
		for {
			if n, err := os.Stdin.Read(b[:]); n == 0 || err != nil {
				return 0
			}
		}
	})
	testharness.RegisterHelper("exit3", func() int { return 3 })
	testharness.RegisterHelper("hang", func() int { time.Sleep(time.Hour); return 0 })
	testharness.RegisterHelper("ignore-term", func() int {
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
		return 0
	})
	testharness.RegisterHelper("die-with-parent", helperDieWithParent)
}

// helperOrphans makes os.Args[1] orphans by double forks and prints "done N".
// Each grandchild exits once its parent (the middle child) is gone, so it is
// always re-parented first. With os.Args[2] == "hold" the grandchildren
// instead wait for EOF on stdin, so they all exit together when the holder
// of the pipe's write end closes it.
func helperOrphans() int {
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "orphans: want a count")
		return 2
	}
	holdFd := int32(-1)
	if len(os.Args) > 2 && os.Args[2] == "hold" {
		holdFd = 0
	}
	runtime.LockOSThread() // forks happen on this thread, with all signals blocked
	all, old := ^uint64(0), uint64(0)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&all)),
		uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	for i := 0; i < n; i++ {
		pid, errno := forkOrphan(holdFd)
		if errno != 0 {
			fmt.Fprintf(os.Stderr, "orphans: fork %d: %v\n", i, errno)
			return 1
		}
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != syscall.EINTR {
				break
			}
		}
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	fmt.Printf("done %d\n", n)
	return 0
}

// forkOrphan forks a middle child that forks a grandchild and exits at once.
// The children run only raw system calls in this nosplit frame: no Go
// runtime, no stack growth, signals blocked by the caller.
//
//go:nosplit
//go:norace
func forkOrphan(holdFd int32) (uintptr, syscall.Errno) {
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || pid != 0 {
		return pid, e
	}
	// Middle child.
	var fds [2]int32
	if holdFd < 0 {
		syscall.RawSyscall(syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), syscall.O_CLOEXEC, 0)
	}
	gpid, _, _ := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if gpid == 0 {
		// Grandchild: wait for EOF (the middle child's exit, or the holder).
		rfd := uintptr(holdFd)
		if holdFd >= 0 { // long-lived: do not hold the maker's stdout/stderr
			syscall.RawSyscall(syscall.SYS_CLOSE, 1, 0, 0)
			syscall.RawSyscall(syscall.SYS_CLOSE, 2, 0, 0)
		} else {
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fds[1]), 0, 0)
			rfd = uintptr(fds[0])
		}
		var b [8]byte
		for {
			n, _, e := syscall.RawSyscall(syscall.SYS_READ, rfd, uintptr(unsafe.Pointer(&b)), 8)
			if e != syscall.EINTR && n <= 0 {
				break
			}
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0, 0 // not reached
}

// helperSigGroup starts a second signal recorder in its own process group
// (the pause's CMD group) and records its own signals; SIGTERM ends both.
func helperSigGroup() int {
	child := testharness.HelperCmd("sigrec")
	child.Stdout = os.Stdout
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "siggroup:", err)
		return 1
	}
	return recordSignals("parent", func() { child.Wait() })
}

// recordSignals prints "<who> ready", then "<who> SIGNAME" for every
// SIGUSR1/SIGUSR2/SIGHUP/SIGWINCH/SIGTERM received, exiting 0 after SIGTERM.
func recordSignals(who string, atExit func()) int {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGWINCH, syscall.SIGTERM)
	w := bufio.NewWriter(os.Stdout)
	line := func(s string) { w.WriteString(who + " " + s + "\n"); w.Flush() } // one write per line
	line("ready")
	for s := range ch {
		sig := s.(syscall.Signal)
		line(sigName(sig))
		if sig == syscall.SIGTERM {
			if atExit != nil {
				atExit()
			}
			return 0
		}
	}
	return 1
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGWINCH:
		return "SIGWINCH"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// helperOrphanBlocker starts a grandchild that blocks on stdin, then exits 5
// without waiting for it.
func helperOrphanBlocker() int {
	c := testharness.HelperCmd("block-stdin")
	c.Stdin = os.Stdin
	if err := c.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "orphan-blocker:", err)
		return 1
	}
	return 5
}

// helperDieWithParent starts a pause (os.Args[1]) with DieWithParent from a
// goroutine whose locked thread then exits, prints its pid and waits for
// stdin to close; the pause must survive the thread and die with us.
func helperDieWithParent() int {
	type res struct {
		p   *pause.Process
		err error
	}
	ch := make(chan res)
	go func() {
		runtime.LockOSThread() // this thread dies when the goroutine returns
		p, err := pause.Start(bgCtx(), pause.Options{Path: os.Args[1], DieWithParent: true})
		ch <- res{p, err}
	}()
	r := <-ch
	if r.err != nil {
		fmt.Fprintln(os.Stderr, "die-with-parent:", r.err)
		return 1
	}
	fmt.Printf("%d\n", r.p.Pid)
	var b [1]byte
	os.Stdin.Read(b[:])
	return 0
}

// holdOrphans has the "orphans" helper make n orphans in p's PID namespace
// that live until release (which may be called more than once) and
// returns what the helper said ("done N" when it made them all).
func holdOrphans(tb testing.TB, p *pause.Process, n int) (said string, release func()) {
	tb.Helper()
	holdR, holdW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	maker := testharness.HelperCmd("orphans", strconv.Itoa(n), "hold")
	maker.Stdin, maker.Stdout = holdR, &out
	runInPidNS(tb, p, maker)
	holdR.Close()
	return out.String(), func() { holdW.Close() }
}
