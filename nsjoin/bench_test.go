//go:build linux

package nsjoin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// BenchmarkDo compares Do with the floor: a bare setns into each namespace
// and back on an already locked thread.
func BenchmarkDo(b *testing.B) {
	testharness.Privileged(b)
	s, err := Create(Net, IPC, UTS)
	must(b, err)
	defer s.Close()
	for _, kinds := range [][]Kind{{Net}, {Net, IPC, UTS}} {
		sub := &Set{}
		name := ""
		for _, k := range kinds {
			sub.Add(s.Get(k))
			name += "+" + k.String()
		}
		name = name[1:]
		b.Run("setns-roundtrip/"+name, func(b *testing.B) {
			runtime.LockOSThread()
			var orig []*Handle
			for _, k := range kinds {
				h, err := Current(k)
				must(b, err)
				orig = append(orig, h)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, k := range kinds {
					if err := unix.Setns(sub.Get(k).Fd(), int(k)); err != nil {
						b.Fatal(err)
					}
				}
				for j := len(kinds) - 1; j >= 0; j-- {
					if err := unix.Setns(orig[j].Fd(), int(kinds[j])); err != nil {
						b.Fatal(err) // thread stays locked: discarded
					}
				}
			}
			b.StopTimer()
			for _, h := range orig {
				h.Close()
			}
			runtime.UnlockOSThread()
		})
		b.Run("Do/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := Do(sub, func() error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStart compares starting /bin/true plainly (the floor) with
// starting it inside net+ipc+uts and net+ipc+uts+pid of a holder process.
func BenchmarkStart(b *testing.B) {
	testharness.Privileged(b)
	_, s := podHolder(b)
	noPid := &Set{}
	for _, k := range []Kind{Net, IPC, UTS} {
		noPid.Add(s.Get(k))
	}
	b.Run("plain-exec.Cmd", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nsjoin.Command/no-namespaces", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := Command(nil, "/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"net+ipc+uts", "net+ipc+uts+pid"} {
		set := map[string]*Set{"net+ipc+uts": noPid, "net+ipc+uts+pid": s}[name]
		b.Run("nsjoin.Command/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := Command(set, "/bin/true").Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The same with a container's Security (runtime-default capabilities,
	// no_new_privs, uid 0, RLIMIT_NOFILE), and as a non-root user (the
	// rlimit then needs the thread's real-id switch).
	for _, uid := range []uint32{0, 1000} {
		sec := &Security{
			UID: uid, GID: uid, Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
			NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}},
		}
		b.Run(fmt.Sprintf("nsjoin.Command/net+ipc+uts+pid+Security(uid%d)", uid), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c := Command(s, "/bin/true")
				c.Security = sec
				if err := c.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The same (uid 1000) with ptrace refused: born in a frozen cgroup,
	// thawed once its rlimits are set (Yama scope 2 simulated).
	if _, err := ownCgroup2(); err == nil {
		f := filepath.Join(b.TempDir(), "ptrace_scope")
		must(b, os.WriteFile(f, []byte("2"), 0o644))
		sec := &Security{
			UID: 1000, GID: 1000, Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
			NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}},
		}
		b.Run("nsjoin.Command/net+ipc+uts+pid+Security(uid1000)/frozen-cgroup", func(b *testing.B) {
			prev := yamaScopeFile
			yamaScopeFile = f
			defer func() { yamaScopeFile = prev }()
			for i := 0; i < b.N; i++ {
				c := Command(s, "/bin/true")
				c.Security = sec
				if err := c.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreatePinUnpin: a new netns pinned and unpinned, against the
// floor of the bare unshare(CLONE_NEWNET) (+ setns back) on a locked thread.
func BenchmarkCreatePinUnpin(b *testing.B) {
	testharness.Privileged(b)
	d := newPinDir(b)
	b.Run("unshare-floor", func(b *testing.B) {
		runtime.LockOSThread()
		orig, err := Current(Net)
		must(b, err)
		for i := 0; i < b.N; i++ {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				b.Fatal(err)
			}
			if err := unix.Setns(orig.Fd(), unix.CLONE_NEWNET); err != nil {
				b.Fatal(err)
			}
		}
		orig.Close()
		runtime.UnlockOSThread()
	})
	b.Run("Create", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Create(Net)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("Pin+Unpin(existing)", func(b *testing.B) {
		s, err := Create(Net)
		must(b, err)
		defer s.Close()
		for i := 0; i < b.N; i++ {
			if _, err := d.Pin("x", s.Get(Net)); err != nil {
				b.Fatal(err)
			}
			if err := d.Unpin("x"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Create+Pin+Unpin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Create(Net)
			if err != nil {
				b.Fatal(err)
			}
			name := fmt.Sprint("b", i)
			if err := d.PinSet(name, s); err != nil {
				b.Fatal(err)
			}
			s.Close()
			if err := d.Unpin(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Create(net+ipc+uts)+Pin+Unpin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Create(Net, IPC, UTS)
			if err != nil {
				b.Fatal(err)
			}
			name := fmt.Sprint("p", i)
			if err := d.PinSet(name, s); err != nil {
				b.Fatal(err)
			}
			s.Close()
			if err := d.Unpin(name); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStartPerKind: what joining each kind alone adds to a start of
// /bin/true (joining the home uts namespace measures the throwaway thread
// and the setns pair alone). The child's life in another namespace costs
// more than the setns itself; this is the floor of an exec into a pod.
func BenchmarkStartPerKind(b *testing.B) {
	testharness.Privileged(b)
	_, s := podHolder(b)
	home, err := Current(UTS)
	must(b, err)
	defer home.Close()
	b.Run("plain-exec.Cmd", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		h    *Handle
	}{{"home-uts", home}, {"uts", s.Get(UTS)}, {"ipc", s.Get(IPC)}, {"net", s.Get(Net)}, {"pid", s.Get(PID)}} {
		set := &Set{}
		set.Add(tc.h)
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := Command(set, "/bin/true").Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
