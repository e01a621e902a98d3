//go:build linux

package nsjoin

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func init() {
	// deathsigparent <helper binary>: starts "sleeplong" as PID 1 of a
	// new PID namespace, and another "sleeplong" in that namespace with
	// Pdeathsig SIGKILL; prints both pids and exits without waiting: the
	// second must die with this process, the first lives on.
	testharness.RegisterHelper("deathsigparent", func() int {
		holder, target, err := startWithDeathSig(os.Args[1], "sleeplong")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(holder.Process.Pid, target.Process.Pid)
		return 0
	})
	testharness.RegisterHelper("sleeplong", func() int {
		time.Sleep(time.Minute)
		return 0
	})
}

// startWithDeathSig starts "sleeplong" as PID 1 of a new PID namespace
// (the holder), then helper name in that namespace with Pdeathsig SIGKILL:
// not its PID 1, which would ignore the SIGKILL Go's fork sends itself.
func startWithDeathSig(binary, name string) (holder, target *Cmd, err error) {
	sec := &Security{Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault}
	set, _ := NewSet()
	holder = Command(set, binary)
	holder.Env = append(os.Environ(), testharness.HelperEnv("sleeplong"))
	holder.BeforeFork = func() error { return unix.Unshare(unix.CLONE_NEWPID) }
	holder.Security = sec
	if err := holder.Start(); err != nil {
		return nil, nil, err
	}
	pidns, err := OpenPid(holder.Process.Pid, PID)
	if err != nil {
		return holder, nil, err
	}
	defer pidns.Close()
	tset, _ := NewSet()
	if err := tset.Add(pidns); err != nil {
		return holder, nil, err
	}
	target = Command(tset, binary)
	target.Env = append(os.Environ(), testharness.HelperEnv(name))
	target.Security = sec
	target.AtExecStop = func(int) error { return nil } // the stop where the signal is set
	target.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	target.Stderr = os.Stderr
	return holder, target, target.Start()
}

// TestPdeathsigOtherPIDNamespace: a process with Pdeathsig whose parent is
// outside its PID namespace runs (Go's fork alone kills it: its getppid()
// is 0 there) and still dies with the thread that forked it.
func TestPdeathsigOtherPIDNamespace(t *testing.T) {
	testharness.Privileged(t)
	helper := reachableHelper(t)
	holder, target, err := startWithDeathSig(helper, "sleep")
	if holder != nil {
		defer func() { _ = holder.Process.Kill(); _ = holder.Wait() }()
	}
	if why := ExecStopRefused(); why != "" {
		if !errors.Is(err, ErrNoExecStop) {
			t.Errorf("ptrace refused here (%s): Start = %v, want ErrNoExecStop", why, err)
		}
		return
	}
	must(t, err)
	must(t, target.Wait()) // a SIGKILL would make Wait fail with "signal: killed"

	parent := testharness.HelperCmd("deathsigparent", helper)
	out, err := parent.StdoutPipe()
	must(t, err)
	must(t, parent.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	must(t, err)
	must(t, parent.Wait())
	var pids [2]int
	for i, f := range strings.Fields(line) {
		pids[i], err = strconv.Atoi(f)
		must(t, err)
	}
	// Both are re-parented to us (the test binary is a subreaper).
	defer func() { _ = unix.Kill(pids[0], unix.SIGKILL); _, _ = unix.Wait4(pids[0], nil, 0, nil) }()
	var ws unix.WaitStatus
	done := make(chan error, 1)
	go func() {
		_, err := unix.Wait4(pids[1], &ws, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
		if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
			t.Errorf("process after its parent's death: %v, want killed by SIGKILL", ws)
		}
	case <-time.After(10 * time.Second):
		_ = unix.Kill(pids[1], unix.SIGKILL)
		<-done
		t.Errorf("process %d still runs 10 s after its parent died", pids[1])
	}
	if err := unix.Kill(pids[0], 0); err != nil {
		t.Errorf("the PID namespace's holder, without Pdeathsig: %v", err)
	}
	waitThreadsClean(t)
}
