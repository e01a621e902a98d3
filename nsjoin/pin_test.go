//go:build linux

package nsjoin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestPinSurvivesProcessExit(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	ho := startHolder(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWIPC|syscall.CLONE_NEWUTS)
	s, err := OpenSetPid(ho.pid(), Net, IPC, UTS)
	must(t, err)
	want := s.String()
	must(t, d.PinSet("pod1", s))
	must(t, s.Close())
	ho.stop() // every process of the namespaces is gone now

	again, err := d.OpenSet("pod1")
	must(t, err)
	if again.String() != want {
		t.Fatalf("re-opened %s, pinned %s", again, want)
	}
	// The namespace is alive and usable, not just a stale identity.
	must(t, Do(again, func() error {
		host, _ := os.Hostname()
		if cur, _ := Current(Net); cur == nil || !cur.Equal(again.Get(Net)) {
			return fmt.Errorf("not in pinned netns (host %s)", host)
		} else {
			cur.Close()
		}
		return nil
	}))
	must(t, again.Close())

	must(t, d.Unpin("pod1"))
	must(t, d.Unpin("pod1")) // idempotent
	if m := mountsUnder(t, d.Path()); !reflect.DeepEqual(m, []string{d.Path()}) {
		t.Errorf("mounts left under pin dir: %v", m)
	}
	if _, err := d.Open("pod1", Net); !errors.Is(err, ErrNotPinned) {
		t.Errorf("open after unpin: %v", err)
	}
}

func TestCreatePinUnpin(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	self, err := Current(Net)
	must(t, err)
	defer self.Close()
	s, err := Create(Net, IPC, UTS, Cgroup)
	must(t, err)
	if s.Get(Net).Equal(self) {
		t.Fatal("Create returned the current netns")
	}
	// The creating thread went back: this goroutine's namespaces never moved.
	again, _ := Current(Net)
	if !again.Equal(self) {
		t.Fatal("caller's thread changed netns")
	}
	again.Close()
	must(t, d.PinSet("c", s))
	if _, err := d.Pin("c", s.Get(Net)); !errors.Is(err, ErrExists) {
		t.Errorf("second pin: %v", err)
	}
	p := d.PinPath("c", Net)
	h, err := Open(p, Net)
	must(t, err)
	if !h.Equal(s.Get(Net)) {
		t.Errorf("pin %v != created %v", h, s.Get(Net))
	}
	h.Close()
	s.Close()
	must(t, d.UnpinKind("c", Net))
	must(t, d.Unpin("c"))
	if _, err := os.Stat(filepath.Join(d.Path(), "c")); !os.IsNotExist(err) {
		t.Errorf("pin group dir left: %v", err)
	}
	// Teardown refuses while pins exist.
	s2, err := Create(Net)
	must(t, err)
	defer s2.Close()
	must(t, d.PinSet("busy", s2))
	if err := d.Teardown(); !errors.Is(err, ErrBusy) {
		t.Errorf("teardown with pins: %v", err)
	}
	must(t, d.Unpin("busy"))
}

func TestPinNames(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	h, err := Current(Net)
	must(t, err)
	defer h.Close()
	for _, name := range []string{"", ".", "..", "../x", "a/b", ".hidden", "a\x00b", "sp ace", strings.Repeat("x", 201)} {
		if _, err := d.Pin(name, h); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Pin(%q): %v", name, err)
		}
		if err := d.Unpin(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Unpin(%q): %v", name, err)
		}
	}
	if _, err := OpenPinDir("relative/dir"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("relative pin dir: %v", err)
	}
	if ents, _ := os.ReadDir(d.Path()); len(ents) != 0 {
		t.Errorf("bad names left %v", ents)
	}
}

func TestSweep(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	lone, err := Create(Net)
	must(t, err)
	must(t, d.PinSet("lone", lone)) // no process: stale
	must(t, d.PinSet("kept", lone)) // no process, but wanted
	lone.Close()
	ho := startHolder(t, syscall.CLONE_NEWNET)
	busy, err := OpenSetPid(ho.pid(), Net)
	must(t, err)
	must(t, d.PinSet("busy", busy)) // a process is in it
	busy.Close()
	// A remnant of a crash between creating the file and mounting on it.
	must(t, os.MkdirAll(filepath.Join(d.Path(), "broken"), 0o700))
	must(t, os.WriteFile(filepath.Join(d.Path(), "broken", "net"), nil, 0o444))

	removed, err := d.Sweep(func(n string) bool { return n == "kept" })
	must(t, err)
	if !reflect.DeepEqual(removed, []string{"broken", "lone"}) {
		t.Errorf("first sweep removed %v", removed)
	}
	ho.stop()
	removed, err = d.Sweep(func(n string) bool { return n == "kept" })
	must(t, err)
	if !reflect.DeepEqual(removed, []string{"busy"}) {
		t.Errorf("second sweep removed %v", removed)
	}
	names, _ := d.Names()
	if !reflect.DeepEqual(names, []string{"kept"}) {
		t.Errorf("left %v", names)
	}
	removed, _ = d.Sweep(nil)
	if !reflect.DeepEqual(removed, []string{"kept"}) {
		t.Errorf("sweep(nil) removed %v", removed)
	}
}

// TestPinPropagation: a mount namespace created after the pin directory was
// prepared sees later pins (peer group), and an unpin reaches it too, so no
// copy of the pin stays behind there keeping the namespace alive.
func TestPinPropagation(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	ho := startHolder(t, syscall.CLONE_NEWNS)
	s, err := Create(Net)
	must(t, err)
	defer s.Close()
	path, err := d.Pin("prop", s.Get(Net))
	must(t, err)
	inHolder := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", ho.pid()))
		must(t, err)
		return strings.Contains(string(b), " "+path+" ")
	}
	if !inHolder() {
		t.Fatal("pin did not propagate into a peer mount namespace")
	}
	must(t, d.Unpin("prop"))
	if inHolder() {
		t.Fatal("unpin did not propagate: the other mount namespace keeps the netns alive")
	}
}

// TestPinConcurrent: many goroutines create, pin, re-open and unpin pod
// namespaces at once, as a runtime starting many sandboxes does.
func TestPinConcurrent(t *testing.T) {
	testharness.Privileged(t)
	d := newPinDir(t)
	const n = 32
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			errs <- func() error {
				name := fmt.Sprint("pod-", i)
				s, err := Create(Net, IPC, UTS)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := d.PinSet(name, s); err != nil {
					return err
				}
				again, err := d.OpenSet(name)
				if err != nil {
					return err
				}
				eq := again.Equal(s)
				again.Close()
				if !eq {
					return fmt.Errorf("%s: pinned %s, re-opened another set", name, s)
				}
				if err := LoopbackUp(s.Get(Net)); err != nil {
					return err
				}
				return d.Unpin(name)
			}()
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if m := mountsUnder(t, d.Path()); len(m) != 1 {
		t.Errorf("mounts left: %v", m)
	}
}
