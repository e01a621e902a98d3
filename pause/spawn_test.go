//go:build linux

package pause_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// TestSpawnThenReady: the namespaces of a spawned pause are there before
// it is ready (a caller sets them up meanwhile); Ready then reports the
// ready byte, and again on a second call.
func TestSpawnThenReady(t *testing.T) {
	testharness.Privileged(t)
	p, err := pause.Spawn(bgCtx(), pause.Options{Path: testharness.PauseBinary(t), Cloneflags: pause.PodNamespaces})
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	defer func() {
		p.Signal(syscall.SIGKILL)
		p.Wait()
		p.Close()
	}()
	mine, _ := os.Readlink("/proc/self/ns/net")
	theirs, err := os.Readlink(p.NamespacePath("net"))
	if err != nil || theirs == mine {
		t.Fatalf("net namespace before Ready: %q (%v), ours %q; want a new one", theirs, err, mine)
	}
	for range 2 {
		if err := p.Ready(bgCtx()); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
	st, err := p.Stop(bgCtx())
	if err != nil || !st.Success() {
		t.Fatalf("Stop: %v, %v", st, err)
	}
}

// TestSpawnReadyErrors: Ready reports a process that exits without being
// ready (reaped, with its status) and kills one that is not ready when ctx
// ends; Close of a pause never awaited releases its ready pipe.
func TestSpawnReadyErrors(t *testing.T) {
	testharness.Privileged(t)
	helper := func(mode string) *pause.Process {
		p, err := pause.Spawn(bgCtx(), pause.Options{
			Path: testharness.HelperBinary(),
			Env:  []string{testharness.HelperEnv(mode)},
		})
		if err != nil {
			t.Fatalf("Spawn(%s): %v", mode, err)
		}
		return p
	}
	p := helper("exit3")
	err := p.Ready(bgCtx())
	var pe *pause.Error
	if !errors.Is(err, pause.ErrExited) || !errors.As(err, &pe) || pe.Status == nil || pe.Status.Code != 3 {
		t.Fatalf("Ready: %v; want ErrExited with exit status 3", err)
	}
	if again := p.Ready(bgCtx()); again != err {
		t.Fatalf("second Ready: %v; want the first result %v", again, err)
	}
	p.Close()

	p = helper("hang")
	ctx, cancel := context.WithTimeout(bgCtx(), 100*time.Millisecond)
	defer cancel()
	err = p.Ready(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Status == nil ||
		pe.Status.Signal != syscall.SIGKILL {
		t.Fatalf("Ready: %v; want DeadlineExceeded and a SIGKILLed process", err)
	}
	p.Close()

	p = helper("hang")
	p.Signal(syscall.SIGKILL)
	p.Wait()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Ready(bgCtx()); !errors.Is(err, pause.ErrClosed) {
		t.Fatalf("Ready after Close: %v; want ErrClosed", err)
	}
}
