//go:build linux

package nsjoin

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func init() {
	testharness.RegisterHelper("exit0", func() int { return 0 })
	// frozengc SCOPEFILE HELPER: 100 frozen-hold starts of HELPER (as
	// exit0) with a GC running all the time; prints "ok".
	testharness.RegisterHelper("frozengc", func() int {
		yamaScopeFile = os.Args[1]
		go func() {
			for {
				runtime.GC()
			}
		}()
		for i := 0; i < 100; i++ {
			c := Command(nil, os.Args[2])
			c.Env = append(os.Environ(), testharness.HelperEnv("exit0"))
			c.Security = stopSecurity()
			if err := c.Run(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		fmt.Println("ok")
		return 0
	})
}

// TestFrozenHoldUnderGC: while a child is held frozen, the forking thread
// sits in vfork holding its P, so a stop-the-world cannot complete until
// the child is thawed: whatever thaws it must not need the Go scheduler.
// A helper process makes many frozen starts with a GC running all the
// time; a hang there stops its whole world (no timer inside it could
// fire), so the test kills it after a generous deadline.
func TestFrozenHoldUnderGC(t *testing.T) {
	testharness.Privileged(t)
	scope := filepath.Join(t.TempDir(), "ptrace_scope")
	must(t, os.WriteFile(scope, []byte("2"), 0o644))
	cmd := testharness.HelperCmd("frozengc", scope, reachableHelper(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || out.String() != "ok\n" {
			t.Fatalf("frozengc: %v\n%s", err, out.String())
		}
	case <-time.After(2 * time.Minute):
		// The group: the helper and its frozen child; then the frozen
		// cgroups it left behind.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		dirs, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup*/*/podkit-execstop-%d-*", cmd.Process.Pid))
		more, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/podkit-execstop-%d-*", cmd.Process.Pid))
		for _, d := range append(dirs, more...) {
			waitFor(t, "frozen cgroup to empty", func() bool { return os.Remove(d) == nil })
		}
		t.Fatalf("frozen starts hang under GC (helper killed):\n%s", out.String())
	}
}
