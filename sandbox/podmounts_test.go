//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/internal/testharness"
)

// TestPodShm: /dev/shm is one 64 MiB tmpfs per pod, shared by its
// containers (POSIX shared memory is files there), gone after Destroy.
func TestPodShm(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "shm"))
	run(t, sb, ctr(rootfs, "put", "write", "/dev/shm/seg", "shm-ok"))
	if es := waitExit(t, sb, "put"); es.ExitCode != 0 {
		t.Fatalf("put %+v: %s", es, logOf(t, sb, "put"))
	}
	run(t, sb, ctr(rootfs, "get", "cat", "/dev/shm/seg"))
	if es := waitExit(t, sb, "get"); es.ExitCode != 0 || logOf(t, sb, "get") != "shm-ok" {
		t.Fatalf("get %+v: %q", es, logOf(t, sb, "get"))
	}
	run(t, sb, ctr(rootfs, "mounts", "cat", "/proc/self/mountinfo"))
	waitExit(t, sb, "mounts")
	var line string
	for _, l := range strings.Split(logOf(t, sb, "mounts"), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == "/dev/shm" {
			line = l
		}
	}
	if !strings.Contains(line, " - tmpfs ") || !strings.Contains(line, "size=65536k") || !strings.Contains(line, "nosuid") {
		t.Fatalf("/dev/shm in the container: %q", line)
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(shmDir(sb.Dir())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pod shm after Destroy: %v", err)
	}
}

// TestContainerCgroupMount: /sys/fs/cgroup is the container's own cgroup,
// read-only, so its memory limit is where runtimes look for it.
func TestContainerCgroupMount(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "cgmount"))
	file := "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	if cgroups.IsCgroup2UnifiedMode() {
		file = "/sys/fs/cgroup/memory.max"
	}
	spec := ctr(rootfs, "limit", "cat", file)
	spec.Resources.MemoryLimit = 48 << 20
	run(t, sb, spec)
	if es := waitExit(t, sb, "limit"); es.ExitCode != 0 || strings.TrimSpace(logOf(t, sb, "limit")) != strconv.Itoa(48<<20) {
		t.Fatalf("%s: %+v %q", file, es, logOf(t, sb, "limit"))
	}
	run(t, sb, ctr(rootfs, "ro", "write", file, "1000000"))
	if es := waitExit(t, sb, "ro"); es.ExitCode == 0 || !strings.Contains(logOf(t, sb, "ro"), "read-only") {
		t.Fatalf("wrote %s: it should be read-only: %s", file, logOf(t, sb, "ro"))
	}
}

// TestMountPointsReadOnly: mount points missing in a read-only rootfs and
// in a read-only bind of a host directory are made without writing to
// either; what the bind shows stays visible.
func TestMountPointsReadOnly(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	host := filepath.Join(t.TempDir(), "hostdir")
	if err := os.MkdirAll(filepath.Join(host, "share"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "share", "kept"), []byte("kept-ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, rootfs) + listTree(t, host)
	cfg := testConfig(t, "mountpoints")
	cfg.Volumes = []Volume{{Name: "data"}}
	sb := mustCreate(t, cfg)
	mounts := []Mount{
		{Destination: "/new/deep/data", Volume: "data"},
		{Destination: "/host", Source: host, ReadOnly: true},
		{Destination: "/host/share/missing/data", Volume: "data"},
	}
	w := ctr(rootfs, "w", "write", "/new/deep/data/f", "vol-ok")
	w.ReadOnlyRootfs, w.Mounts, w.Cwd = true, mounts, "/host/share/work"
	run(t, sb, w)
	if es := waitExit(t, sb, "w"); es.ExitCode != 0 {
		t.Fatalf("w %+v: %s", es, logOf(t, sb, "w"))
	}
	for _, f := range []string{"/host/share/missing/data/f", "/host/share/kept"} {
		name := "r" + strconv.Itoa(len(f))
		r := ctr(rootfs, name, "cat", f)
		r.ReadOnlyRootfs, r.Mounts = true, mounts
		run(t, sb, r)
		if es := waitExit(t, sb, name); es.ExitCode != 0 || !strings.HasSuffix(logOf(t, sb, name), "-ok") {
			t.Fatalf("cat %s: %+v %q", f, es, logOf(t, sb, name))
		}
	}
	for _, d := range []string{"rootskel/new/deep/data", "rootskel/etc/hosts", "ov/0/missing/data", "ov/0/work"} {
		if _, err := os.Stat(filepath.Join(sb.Dir(), "mounts", "w", d)); err != nil {
			t.Errorf("mount point skeleton: %v", err)
		}
	}
	if after := listTree(t, rootfs) + listTree(t, host); after != before {
		t.Fatalf("host directories changed:\nbefore %s\nafter  %s", before, after)
	}
}

// listTree lists the paths under dir.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		b.WriteString(p + " ")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSubPath: a subPath is created in its volume and mounted; one that
// leads out of the volume (by "..", absolute, or a symlink) is a
// *FieldError naming it, and the container is not created.
func TestSubPath(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "subpath")
	cfg.Volumes = []Volume{{Name: "data"}}
	sb := mustCreate(t, cfg)
	vol := filepath.Join(sb.Dir(), "volumes", "data")
	w := ctr(rootfs, "w", "write", "/sub/f", "sub-ok")
	w.Mounts = []Mount{{Destination: "/sub", Volume: "data", SubPath: "a/b"}}
	run(t, sb, w)
	if es := waitExit(t, sb, "w"); es.ExitCode != 0 {
		t.Fatalf("w %+v: %s", es, logOf(t, sb, "w"))
	}
	if b, err := os.ReadFile(filepath.Join(vol, "a", "b", "f")); err != nil || string(b) != "sub-ok" {
		t.Fatalf("volume a/b/f: %q %v", b, err)
	}
	if err := os.Symlink("/etc", filepath.Join(vol, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../..", filepath.Join(vol, "a", "up")); err != nil {
		t.Fatal(err)
	}
	for i, sub := range []string{"../x", "/etc", "a/../../x", "abs", "a/up", "abs/sub"} {
		c := ctr(rootfs, "bad"+strconv.Itoa(i), "true")
		c.Mounts = []Mount{{Destination: "/x", Volume: "data", SubPath: sub}}
		err := sb.CreateContainer(context.Background(), c)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "Mounts[0].SubPath" || !errors.Is(err, ErrSubPath) || !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("subPath %q: %v", sub, err)
		}
		if _, err := os.Stat(filepath.Join(sb.Dir(), "mounts", c.Name)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("subPath %q left its stage: %v", sub, err)
		}
	}
	if _, err := os.Stat("/etc/sub"); err == nil {
		t.Fatal("a subPath through a symlink created /etc/sub on the host")
	}
}

// TestFSGroup: a volume with FSGroup is group-owned and setgid; files made
// in it later by a container inherit the group.
func TestFSGroup(t *testing.T) {
	testharness.Privileged(t)
	gid := uint32(2345)
	cfg := testConfig(t, "fsgroup")
	cfg.Volumes = []Volume{{Name: "data", FSGroup: &gid}, {Name: "mem", Medium: MediumMemory, FSGroup: &gid,
		FSGroupChangePolicy: FSGroupOnRootMismatch}}
	sb := mustCreate(t, cfg)
	for _, v := range []string{"data", "mem"} {
		st, err := os.Stat(filepath.Join(sb.Dir(), "volumes", v))
		if err != nil {
			t.Fatal(err)
		}
		if g := statGid(st); g != gid || st.Mode()&os.ModeSetgid == 0 || st.Mode().Perm() != 0o777 {
			t.Fatalf("volume %s: gid %d mode %v", v, g, st.Mode())
		}
	}
	bad := testConfig(t, "fsgroup-bad")
	bad.Volumes = []Volume{{Name: "data", FSGroup: &gid, FSGroupChangePolicy: "Sometimes"}}
	if _, err := Create(context.Background(), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad policy: %v", err)
	}
}
