//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func TestDo(t *testing.T) {
	testharness.Privileged(t)
	_, s := podHolder(t)
	hostName, _ := os.Hostname()
	var inside string
	err := Do(s, func() error {
		if err := unix.Sethostname([]byte("podkit-do")); err != nil {
			return err
		}
		inside, _ = os.Hostname()
		for _, k := range s.Kinds() {
			cur, err := Current(k)
			if err != nil {
				return err
			}
			eq := cur.Equal(s.Get(k))
			cur.Close()
			if !eq {
				return fmt.Errorf("%v: not inside", k)
			}
		}
		return errors.New("fn error")
	})
	if err == nil || err.Error() != "fn error" {
		t.Fatalf("Do returned %v, want fn's error", err)
	}
	if inside != "podkit-do" {
		t.Errorf("hostname inside %q", inside)
	}
	if now, _ := os.Hostname(); now != hostName {
		t.Errorf("hostname leaked out: %q", now)
	}
}

func TestDoRefusesMountUserTime(t *testing.T) {
	testharness.Privileged(t)
	for _, k := range []Kind{Mount, User, Time} {
		h, err := Current(k)
		must(t, err)
		s, _ := NewSet(h)
		err = Do(s, func() error { t.Error("fn ran"); return nil })
		var ne *Error
		if !errors.Is(err, ErrNotJoinable) || !errors.As(err, &ne) || ne.Kind != k {
			t.Errorf("%v: %v", k, err)
		}
		s.Close()
	}
}

func TestDoPanicIsCarried(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v", v)
		}
	}()
	Do(s, func() error { panic("boom") })
}

func TestDoGoexit(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	var tid int
	err := Do(s, func() error {
		tid = unix.Gettid()
		runtime.Goexit()
		return nil
	})
	if !errors.Is(err, ErrGoexit) {
		t.Fatalf("Do: %v, want ErrGoexit", err)
	}
	waitThreadExit(t, tid)
}

// TestDoStress runs thousands of Do calls from many goroutines while other
// goroutines keep checking that the thread they run on is in the process's
// own namespaces: no goroutine may ever observe a foreign namespace.
func TestDoStress(t *testing.T) {
	testharness.Privileged(t)
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	}
	kinds := []Kind{Net, IPC, UTS}
	home := map[Kind]string{}
	for _, k := range kinds {
		home[k], _ = os.Readlink("/proc/self/ns/" + k.String())
	}
	s, err := Create(kinds...)
	must(t, err)
	defer s.Close()

	const workers, calls = 16, 250
	var stop atomic.Bool
	var foreign atomic.Int64
	var checks atomic.Int64
	var wgCheck sync.WaitGroup
	for i := 0; i < 8; i++ {
		wgCheck.Add(1)
		go func() {
			defer wgCheck.Done()
			for !stop.Load() {
				runtime.LockOSThread() // pin for the duration of the check only
				for _, k := range kinds {
					l, err := os.Readlink("/proc/thread-self/ns/" + k.String())
					if err == nil && l != home[k] {
						foreign.Add(1)
					}
				}
				runtime.UnlockOSThread()
				checks.Add(1)
				runtime.Gosched()
			}
		}()
	}
	var wg sync.WaitGroup
	var bad atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				err := Do(s, func() error {
					l, _ := os.Readlink("/proc/thread-self/ns/net")
					if l != s.Get(Net).String() {
						bad.Add(1)
					}
					return nil
				})
				if err != nil {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	wgCheck.Wait()
	if n := foreign.Load(); n != 0 {
		t.Fatalf("%d checks (of %d) saw a foreign namespace", n, checks.Load())
	}
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d Do calls were not inside or failed", n)
	}
	t.Logf("%d Do calls, %d checks", workers*calls, checks.Load())
}

// TestDoRestoreFailureDiscardsThread makes the move back fail for real: fn
// drops CAP_SYS_ADMIN from its own thread's effective set (capabilities are
// per thread), so setns back is refused with EPERM. Do must report
// ErrRestore and the thread must die, never serving another goroutine.
func TestDoRestoreFailureDiscardsThread(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	var tid int
	err := Do(s, func() error {
		tid = unix.Gettid()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		data[0].Effective &^= 1 << unix.CAP_SYS_ADMIN
		return unix.Capset(&hdr, &data[0])
	})
	if !errors.Is(err, ErrRestore) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("Do: %v, want ErrRestore (EPERM)", err)
	}
	// The thread must go away (the leak checker would also flag it as a
	// thread in a foreign namespace).
	waitThreadExit(t, tid)
}
