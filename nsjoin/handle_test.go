//go:build linux

package nsjoin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func TestOpenCurrentAndPath(t *testing.T) {
	testharness.Privileged(t)
	for _, k := range AllKinds() {
		h, err := Current(k)
		must(t, err)
		if h.Kind() != k {
			t.Fatalf("kind %v, want %v", h.Kind(), k)
		}
		p, err := Open("/proc/self/ns/"+k.String(), k)
		must(t, err)
		if !h.Equal(p) {
			t.Errorf("%v: thread %v != process %v", k, h, p)
		}
		link, _ := os.Readlink("/proc/self/ns/" + k.String())
		if p.String() != link {
			t.Errorf("String %q, want %q", p.String(), link)
		}
		must(t, h.Close())
		must(t, h.Close()) // idempotent
		must(t, p.Close())
	}
}

func TestOpenPidAndPidfd(t *testing.T) {
	testharness.Privileged(t)
	ho := startHolder(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWUTS)
	h, err := OpenPid(ho.pid(), Net)
	must(t, err)
	defer h.Close()
	if h.String() != nsLink(t, ho.pid(), "net") {
		t.Fatalf("OpenPid %v, /proc says %v", h, nsLink(t, ho.pid(), "net"))
	}
	pidfd, err := unix.PidfdOpen(ho.pid(), 0)
	must(t, err)
	defer unix.Close(pidfd)
	// Both the ioctl path and the /proc fallback must agree.
	for name, open := range map[string]func(int, Kind) (*Handle, error){"ioctl": OpenPidfd, "proc": openPidfdProc} {
		u, err := open(pidfd, UTS)
		must(t, err)
		if u.String() != nsLink(t, ho.pid(), "uts") {
			t.Errorf("%s: %v != %v", name, u, nsLink(t, ho.pid(), "uts"))
		}
		u.Close()
	}
	s, err := OpenSetPid(ho.pid(), Net, UTS, IPC)
	must(t, err)
	defer s.Close()
	want := "net:[" + strings.TrimSuffix(strings.TrimPrefix(nsLink(t, ho.pid(), "net"), "net:["), "]") + "]"
	if !strings.Contains(s.String(), want) || s.Len() != 3 {
		t.Errorf("set %q lacks %q", s, want)
	}
	// After the process is gone (and reaped), its pidfd yields ErrProcessGone.
	ho.stop()
	for _, open := range []func(int, Kind) (*Handle, error){OpenPidfd, openPidfdProc} {
		if _, err := open(pidfd, Net); !errors.Is(err, ErrProcessGone) {
			t.Errorf("dead pidfd: %v, want ErrProcessGone", err)
		}
	}
}

func TestBadInput(t *testing.T) {
	testharness.Privileged(t)
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	must(t, os.WriteFile(regular, []byte("x"), 0o644))
	fifo := filepath.Join(dir, "fifo")
	must(t, unix.Mkfifo(fifo, 0o644))
	cases := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"regular file", ErrNotNamespace, func() error { _, err := Open(regular, 0); return err }},
		{"fifo (must not block)", ErrNotNamespace, func() error { _, err := Open(fifo, Net); return err }},
		{"directory", ErrNotNamespace, func() error { _, err := Open(dir, 0); return err }},
		{"missing", os.ErrNotExist, func() error { _, err := Open(filepath.Join(dir, "nope"), Net); return err }},
		{"wrong kind", ErrWrongKind, func() error { _, err := Open("/proc/self/ns/ipc", Net); return err }},
		{"unknown kind", ErrUnknownKind, func() error { _, err := Open("/proc/self/ns/ipc", Kind(3)); return err }},
		{"dead pid", ErrProcessGone, func() error { _, err := OpenPid(deadPid(t), Net); return err }},
		{"pid 0", ErrProcessGone, func() error { _, err := OpenPid(0, Net); return err }},
		{"not a pidfd", ErrProcessGone, func() error { _, err := openPidfdProc(0, Net); return err }},
		{"empty set", ErrEmptySet, func() error { return Do(&Set{}, func() error { return nil }) }},
		{"create pid", ErrNotCreatable, func() error { _, err := Create(PID); return err }},
		{"create user", ErrNotCreatable, func() error { _, err := Create(User); return err }},
		{"create dup", ErrDuplicateKind, func() error { _, err := Create(Net, Net); return err }},
	}
	for _, c := range cases {
		err := c.fn()
		if !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
		var ne *Error
		if !errors.As(err, &ne) {
			t.Errorf("%s: %T is not *Error", c.name, err)
		}
	}
	// A closed handle is refused everywhere.
	h, err := Current(Net)
	must(t, err)
	h.Close()
	s, _ := NewSet(h)
	if err := Do(s, func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Do with closed handle: %v", err)
	}
	if _, err := h.Dup(); !errors.Is(err, ErrClosed) {
		t.Errorf("Dup closed: %v", err)
	}
	d := newPinDir(t)
	if _, err := d.Pin("closed", h); !errors.Is(err, ErrClosed) {
		t.Errorf("Pin closed: %v", err)
	}
	if names, _ := d.Names(); len(names) != 0 {
		t.Errorf("failed pin left %v", names)
	}
	if err := Command(s, "/bin/true").Run(); !errors.Is(err, ErrClosed) {
		t.Errorf("Command with closed handle: %v", err)
	}
	h2, _ := Current(Net)
	defer h2.Close()
	if _, err := NewSet(h2, h); !errors.Is(err, ErrDuplicateKind) {
		t.Errorf("duplicate kind: %v", err)
	}
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) int {
	cmd := testharness.HelperCmd("nsinfo")
	must(t, cmd.Run())
	return cmd.Process.Pid
}
