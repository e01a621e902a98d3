//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// allCapsHex is CapEff of the test process (root): every capability a
// privileged container can get.
func allCapsHex(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:\t"); ok {
			return v
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return ""
}

// execOut runs args in container name and returns its stdout and exit code.
func execOut(t *testing.T, sb *Sandbox, name string, args ...string) (string, int) {
	t.Helper()
	var out, errw bytes.Buffer
	es, err := sb.Exec(context.Background(), name, ExecSpec{Args: args, Stdout: &out, Stderr: &errw})
	if err != nil {
		t.Fatalf("exec %v: %v", args, err)
	}
	return out.String() + errw.String(), es.ExitCode
}

// TestPrivileged: a privileged container and its execs have every
// capability, the host's devices, no masked or read-only /proc paths and a
// writable /sys; Capabilities "ALL" gives every capability alone.
func TestPrivileged(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "priv"))
	spec := ctr(rootfs, "priv", "sleep")
	spec.Privileged = true
	run(t, sb, spec)
	all := allCapsHex(t)
	st, _ := execOut(t, sb, "priv", "/payload", "cat", "/proc/self/status")
	for _, want := range []string{"CapEff:\t" + all, "CapBnd:\t" + all} {
		if !strings.Contains(st, want) {
			t.Errorf("exec: missing %q in:\n%s", want, st)
		}
	}
	if out, code := execOut(t, sb, "priv", "/payload", "cat", "/proc/timer_list"); code != 0 || out == "" {
		t.Errorf("/proc/timer_list masked in a privileged container: %d %q", code, out)
	}
	devs, _ := execOut(t, sb, "priv", "/payload", "ls", "/dev")
	hostDevs, _ := os.ReadDir("/dev")
	for _, d := range hostDevs {
		if d.Type()&os.ModeCharDevice != 0 && d.Name() != "console" && !hasLine(devs, d.Name()) {
			t.Errorf("host device /dev/%s missing in the container: %q", d.Name(), devs)
		}
	}
	mi, _ := execOut(t, sb, "priv", "/payload", "cat", "/proc/self/mountinfo")
	for _, l := range strings.Split(mi, "\n") {
		if f := strings.Fields(l); len(f) > 5 && (f[4] == "/sys" || f[4] == "/proc/sys") && strings.Contains(","+f[5]+",", ",ro,") {
			t.Errorf("read-only in a privileged container: %s", l)
		}
	}
	// The init itself, through its log.
	spec = ctr(rootfs, "status", "cat", "/proc/self/status")
	spec.Privileged = true
	run(t, sb, spec)
	waitExit(t, sb, "status")
	if out := logOf(t, sb, "status"); !strings.Contains(out, "CapEff:\t"+all) {
		t.Errorf("init: CapEff is not %s:\n%s", all, out)
	}
	spec = ctr(rootfs, "capall", "cat", "/proc/self/status")
	spec.Capabilities = []string{"ALL"}
	run(t, sb, spec)
	waitExit(t, sb, "capall")
	if out := logOf(t, sb, "capall"); !strings.Contains(out, "CapBnd:\t"+all) || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf(`Capabilities ["ALL"]:\n%s`, out)
	}
}

// TestMaskedReadonlyPaths: MaskedPaths and ReadonlyPaths replace the
// defaults; empty non-nil slices mean none.
func TestMaskedReadonlyPaths(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	if err := os.WriteFile(filepath.Join(rootfs, "secret"), []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, testConfig(t, "masks"))
	spec := ctr(rootfs, "custom", "sleep")
	spec.MaskedPaths, spec.ReadonlyPaths = []string{"/secret"}, []string{"/tmp"}
	run(t, sb, spec)
	if out, code := execOut(t, sb, "custom", "/payload", "cat", "/secret"); code != 0 || out != "" {
		t.Errorf("/secret not masked: %d %q", code, out)
	}
	if out, code := execOut(t, sb, "custom", "/payload", "write", "/tmp/x", "x"); code == 0 || !strings.Contains(out, "read-only file system") {
		t.Errorf("/tmp writable: %d %q", code, out)
	}
	if out, code := execOut(t, sb, "custom", "/payload", "cat", "/proc/timer_list"); code != 0 || out == "" {
		t.Errorf("/proc/timer_list still masked (defaults not replaced): %d %q", code, out)
	}
	spec = ctr(rootfs, "none", "sleep")
	spec.MaskedPaths, spec.ReadonlyPaths = []string{}, []string{}
	run(t, sb, spec)
	if out, code := execOut(t, sb, "none", "/payload", "cat", "/proc/timer_list"); code != 0 || out == "" {
		t.Errorf("/proc/timer_list masked with MaskedPaths empty: %d %q", code, out)
	}
	if out, _ := execOut(t, sb, "none", "/payload", "cat", "/proc/self/mountinfo"); strings.Contains(out, " /proc/sys ") {
		t.Errorf("/proc/sys mounted read-only with ReadonlyPaths empty:\n%s", out)
	}
}

// TestSecurityRefused: bad security fields are *FieldErrors naming the
// field; the container is not created.
func TestSecurityRefused(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	private := bindSelf(t, "private")
	sb := mustCreate(t, testConfig(t, "secbad"))
	for field, edit := range map[string]func(*ContainerSpec){
		"ContainerSpec.Capabilities":  func(s *ContainerSpec) { s.Capabilities = []string{"CAP_NOPE"} },
		"ContainerSpec.MaskedPaths":   func(s *ContainerSpec) { s.MaskedPaths = []string{"relative"} },
		"ContainerSpec.ReadonlyPaths": func(s *ContainerSpec) { s.Privileged, s.ReadonlyPaths = true, []string{"/tmp"} },
		"ContainerSpec.Mounts[0].Propagation": func(s *ContainerSpec) {
			s.Mounts = []Mount{{Source: private, Destination: "/mnt", Propagation: PropagationBidirectional}}
		},
	} {
		spec := ctr(rootfs, "bad", "true")
		edit(&spec)
		err := sb.CreateContainer(context.Background(), spec)
		var fe *FieldError
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
		if len(sb.Status().Containers) != 0 {
			t.Fatalf("%s: container created", field)
		}
	}
}

// bindSelf makes a directory that is a mount of its own with propagation
// prop ("shared", "private"), unmounted at cleanup.
func bindSelf(t *testing.T, prop string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src-"+prop)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	flag := map[string]uintptr{"shared": unix.MS_SHARED, "private": unix.MS_PRIVATE}[prop]
	if err := unix.Mount("", dir, "", flag|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMountPropagation: a mount made on the host below a bind source
// appears in the container with rslave and rshared, not with private; a
// mount the container makes appears on the host with rshared only.
func TestMountPropagation(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	for _, p := range []Propagation{PropagationPrivate, PropagationHostToContainer, PropagationBidirectional} {
		t.Run(p.option(), func(t *testing.T) {
			src := bindSelf(t, "shared")
			for _, d := range []string{"in", "out"} {
				if err := os.Mkdir(filepath.Join(src, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			flagDir := t.TempDir()
			if err := os.WriteFile(filepath.Join(flagDir, "flag"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			sb := mustCreate(t, testConfig(t, "prop"))
			spec := ctr(rootfs, "c", "sleep")
			spec.Privileged = true
			spec.Mounts = []Mount{{Source: src, Destination: "/mnt", Propagation: p}}
			run(t, sb, spec)
			// Host to container.
			in := filepath.Join(src, "in")
			if err := unix.Mount(flagDir, in, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			defer unix.Unmount(in, unix.MNT_DETACH)
			out, _ := execOut(t, sb, "c", "/payload", "ls", "/mnt/in")
			if seen := hasLine(out, "flag"); seen != (p != PropagationPrivate) {
				t.Errorf("host mount seen in the container: %v (ls: %q)", seen, out)
			}
			// Container to host.
			if out, code := execOut(t, sb, "c", "/payload", "bindmount", "/proc", "/mnt/out"); code != 0 {
				t.Fatalf("bindmount in the container: %d %s", code, out)
			}
			hostOut := filepath.Join(src, "out")
			_, err := os.Stat(filepath.Join(hostOut, "cpuinfo")) // the container's /proc
			if seen := err == nil; seen != (p == PropagationBidirectional) {
				t.Errorf("container mount seen on the host: %v", seen)
			}
			if err == nil {
				if err := unix.Unmount(hostOut, unix.MNT_DETACH); err != nil {
					t.Error(err)
				}
			}
			if err := sb.Destroy(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
