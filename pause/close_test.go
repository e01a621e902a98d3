//go:build linux

package pause_test

import (
	"context"
	"errors"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// TestCloseRacesStop: Close while a Stop is waiting for a command that
// ignores SIGTERM neither blocks nor keeps Stop from escalating to
// SIGKILL. (Wait used to hold the read lock across waitid: Close's pending
// write lock then blocked Stop's SIGKILL for good.) The whole loop runs
// under a harness timeout that only detects a hang.
func TestCloseRacesStop(t *testing.T) {
	testharness.Privileged(t)
	const rounds = 12
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < rounds && !t.Failed(); i++ {
			closeDuringStop(t, time.Duration(i%4)*time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		var b strings.Builder
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Fatalf("Close racing Stop hangs:\n%s", b.String())
	}
}

// closeDuringStop starts an init-mode pause whose command ignores SIGTERM,
// stops it with a short context and closes it after delay.
func closeDuringStop(t *testing.T, delay time.Duration) {
	outR, outW := pipe(t)
	ctx, cancel := context.WithTimeout(bgCtx(), deadline)
	defer cancel()
	p, err := pause.Start(ctx, pause.Options{
		Path:       testharness.PauseBinary(t),
		Cloneflags: pause.PodNamespaces,
		Args:       []string{testharness.HelperBinary()},
		Env:        append(environ(), testharness.HelperEnv("ignore-term")),
		Stdout:     outW,
	})
	outW.Close()
	if err != nil {
		t.Errorf("Start: %v", err)
		return
	}
	expectLines(t, lines(outR), "ready")
	type result struct {
		st  pause.ExitStatus
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sctx, scancel := context.WithTimeout(bgCtx(), 20*time.Millisecond)
		defer scancel()
		st, err := p.Stop(sctx)
		ch <- result{st, err}
	}()
	time.Sleep(delay)
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	r := <-ch
	switch {
	case errors.Is(r.err, pause.ErrClosed):
		// Close came first: Stop had nothing to act on. The pause is
		// our unreaped child, so its pid is still its own.
		unix.Kill(p.Pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(p.Pid, &ws, 0, nil)
	case r.err != nil || r.st.Signal != syscall.SIGKILL:
		t.Errorf("Stop with Close: %v, %v; want killed by SIGKILL", r.st, r.err)
	}
}
