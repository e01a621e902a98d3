//go:build linux

package nsjoin

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// TestInteropIPNetns: a netns pinned for ip(8) works with `ip netns exec`
// and `ip netns list`, and is gone after UnpinNetnsForIPTool.
func TestInteropIPNetns(t *testing.T) {
	testharness.Privileged(t)
	requireTool(t, "ip")
	wasMount, _ := isMountRoot(IPNetnsDir)
	s := netSet(t)
	must(t, LoopbackUp(s.Get(Net)))
	name := "podkit-nsjoin-test"
	_, err := PinNetnsForIPTool(name, s.Get(Net))
	must(t, err)
	t.Cleanup(func() {
		must(t, UnpinNetnsForIPTool(name))
		if !wasMount {
			if err := ReleaseIPToolDir(); err != nil && !errors.Is(err, ErrBusy) {
				t.Error(err)
			}
		}
	})
	out, err := exec.Command("ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").CombinedOutput()
	must(t, err)
	if strings.TrimSpace(string(out)) != s.Get(Net).String() {
		t.Errorf("ip netns exec ran in %q, want %s", out, s.Get(Net))
	}
	out, err = exec.Command("ip", "netns", "exec", name, "ip", "-o", "link", "show", "lo").CombinedOutput()
	must(t, err)
	if !strings.Contains(string(out), "UP") {
		t.Errorf("lo inside: %s", out)
	}
	list, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	if !strings.Contains(string(list), name) {
		t.Errorf("ip netns list: %s", list)
	}
}

// TestInteropNsenterPin: nsenter --net=PIN --uts=PIN enters pinned
// namespaces whose creator is gone.
func TestInteropNsenterPin(t *testing.T) {
	testharness.Privileged(t)
	requireTool(t, "nsenter")
	d := newPinDir(t)
	s, err := Create(Net, UTS)
	must(t, err)
	want := s.String()
	must(t, d.PinSet("ns", s))
	s.Close()
	out, err := exec.Command("nsenter", "--net="+d.PinPath("ns", Net), "--uts="+d.PinPath("ns", UTS),
		"sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/uts").CombinedOutput()
	must(t, err)
	got := strings.Fields(string(out))
	if len(got) != 2 || !strings.Contains(want, got[0]) || !strings.Contains(want, got[1]) {
		t.Errorf("nsenter saw %q, pinned %s", got, want)
	}
	must(t, d.Unpin("ns"))
}

// TestInteropLsns: lsns(8) shows a started process in exactly the
// namespaces asked for (and in ours for the rest).
func TestInteropLsns(t *testing.T) {
	testharness.Privileged(t)
	requireTool(t, "lsns")
	ho := startHolder(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWUTS|syscall.CLONE_NEWIPC)
	s, err := OpenSetPid(ho.pid(), Net, UTS)
	must(t, err)
	defer s.Close()
	c := helperCommand(s, "holder")
	stdin, err := c.StdinPipe()
	must(t, err)
	stdout, err := c.StdoutPipe()
	must(t, err)
	must(t, c.Start())
	defer func() { stdin.Close(); c.Wait() }()
	buf := make([]byte, 6)
	stdout.Read(buf)
	pid := c.Process.Pid
	out, err := exec.Command("lsns", "-n", "-o", "TYPE,NS", "-p", itoa(pid)).CombinedOutput()
	must(t, err)
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			seen[f[0]] = f[1]
		}
	}
	for _, k := range []string{"net", "uts", "ipc", "mnt"} {
		ref := os.Getpid()
		if k == "net" || k == "uts" {
			ref = ho.pid()
		}
		link := nsLink(t, ref, k)
		if want := strings.TrimSuffix(strings.TrimPrefix(link, k+":["), "]"); seen[k] != want {
			t.Errorf("lsns %s: %s, want %s (%v)", k, seen[k], want, seen)
		}
	}
}
