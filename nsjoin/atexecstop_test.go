//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// TestAtExecStop: the hook runs while the process is stopped at its exec
// (the new program loaded, traced), in a new PID namespace here, before
// its rlimits; an error from it kills the process and fails Start; it
// needs Security.
func TestAtExecStop(t *testing.T) {
	testharness.Privileged(t)
	if why := ExecStopRefused(); why != "" {
		t.Logf("ptrace refused here (%s): checking the refusal", why)
	}
	sec := &Security{Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
		Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 512, Hard: 512}}}
	helper := reachableHelper(t)
	start := func(hook func(int) error, sec *Security) (*Cmd, *bytes.Buffer, error) {
		set, _ := NewSet()
		c := Command(set, helper)
		c.Env = append(os.Environ(), testharness.HelperEnv("secinfo"))
		// A new PID namespace the way a runtime makes one here: on the
		// forking thread, before Security drops CAP_SYS_ADMIN.
		c.BeforeFork = func() error { return unix.Unshare(unix.CLONE_NEWPID) }
		c.Security, c.AtExecStop = sec, hook
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, os.Stderr
		return c, &out, c.Start()
	}
	var seen string
	c, out, err := start(func(pid int) error {
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "State:"); ok {
				seen = strings.TrimSpace(v)
			}
		}
		return nil
	}, sec)
	if why := ExecStopRefused(); why != "" {
		if !errors.Is(err, ErrNoExecStop) {
			t.Fatalf("Start where ptrace is refused: %v", err)
		}
		return
	}
	must(t, err)
	must(t, c.Wait())
	if !strings.HasPrefix(seen, "t") {
		t.Errorf("hook saw state %q, want t (tracing stop)", seen)
	}
	if !strings.Contains(out.String(), "nofile 512 512") {
		t.Errorf("rlimits not set after the hook:\n%s", out)
	}

	boom := errors.New("boom")
	c, _, err = start(func(int) error { return boom }, sec)
	if !errors.Is(err, boom) {
		t.Errorf("hook error: Start = %v", err)
	}
	if c.Process != nil {
		t.Errorf("process left after a hook error")
	}
	if _, _, err := start(func(int) error { return nil }, nil); !errors.Is(err, ErrInvalidSecurity) {
		t.Errorf("AtExecStop without Security: %v", err)
	}
	waitThreadsClean(t)
}
