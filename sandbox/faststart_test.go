//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// wantFast says whether the fast path applies to the default spec here;
// when it does not, the test logs why and checks the fallback instead.
func wantFast(t *testing.T, sharePID bool) (bool, string) {
	if err := procOfNamespaceSupported(); err != nil {
		return false, "procfs has no pidns parameter"
	}
	if why := nsjoin.ExecStopRefused(); why != "" && !sharePID {
		return false, why
	}
	return true, ""
}

// checkPath asserts which path started a container: the fast one where it
// applies, else libcontainer with a reason (the test never skips).
func checkPath(t *testing.T, sb *Sandbox, name string, want StartPath, sharePID bool) {
	t.Helper()
	st := statusOf(sb, name)
	fast, why := wantFast(t, sharePID)
	switch {
	case want == StartLibcontainer:
		if st.StartPath != StartLibcontainer || st.StartPathReason == "" {
			t.Errorf("%s: path %q (%q), want libcontainer as requested", name, st.StartPath, st.StartPathReason)
		}
	case fast && st.StartPath != StartFast:
		t.Errorf("%s: started by %q, not the fast path: %s", name, st.StartPath, st.StartPathReason)
	case !fast && (st.StartPath != StartLibcontainer || !strings.Contains(st.StartPathReason, firstWord(why))):
		t.Errorf("%s: fast path cannot apply here (%s), but path %q reason %q", name, why, st.StartPath, st.StartPathReason)
	case !fast:
		t.Logf("%s: fell back to libcontainer as expected: %s", name, st.StartPathReason)
	}
}

func firstWord(s string) string { w, _, _ := strings.Cut(s, " "); return w }

// TestStartPathDifferential starts the same ContainerSpec by both start
// paths and compares the container as its process sees it (mount table,
// /dev, masked and read-only paths, capabilities, no_new_privs, seccomp,
// rlimits, ids, cgroups, namespaces, hostname, env, cwd, umask) and from
// outside (cgroup limits), in a pod with private PID namespaces and in
// one sharing its PID namespace.
func TestStartPathDifferential(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	hostDir := t.TempDir()
	// Where procfs takes a "pidns", the fast path's /proc made the other
	// way (opened by a child in the namespace) is compared too.
	byChild := []bool{false}
	if procPidnsSupported() == nil && procByChildBuilt {
		byChild = append(byChild, true)
	}
	for _, share := range []bool{false, true} {
		for _, child := range byChild {
			t.Run(fmt.Sprintf("sharePID=%v/procByChild=%v", share, child), func(t *testing.T) {
				procByChild = child
				t.Cleanup(func() { procByChild = false })
				testDifferential(t, rootfs, hostDir, share)
			})
		}
	}
}

func testDifferential(t *testing.T, rootfs, hostDir string, share bool) {
	cfg := testConfig(t, fmt.Sprintf("diff%v", share))
	cfg.SharePID = share
	cfg.Volumes = []Volume{{Name: "vol"}}
	sb := mustCreate(t, cfg)
	// On cgroup v2 the first device filter this process loads
	// (cilium/ebpf, under either path's cgroup manager) lifts its
	// RLIMIT_MEMLOCK, which containers inherit: start one first so
	// that both paths' containers see the same limit.
	run(t, sb, ctr(rootfs, "warmup", "true"))
	waitExit(t, sb, "warmup")
	variants := map[string]func(*ContainerSpec){
		"root": func(*ContainerSpec) {},
		"user": func(s *ContainerSpec) {
			s.UID, s.GID, s.AdditionalGIDs = 1000, 1000, []uint32{5, 20}
			s.ReadOnlyRootfs, s.Cwd, s.Env = true, "/tmp", []string{"FOO=bar", "PATH=/bin"}
			s.Capabilities = []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"}
		},
		"mounts": func(s *ContainerSpec) {
			s.Cwd = "/work/here" // created, as runc does
			s.Mounts = []Mount{{Destination: "/data", Volume: "vol"}, {Destination: "/ro", Source: hostDir, ReadOnly: true}}
			s.Resources = Resources{MemoryLimit: 64 << 20, PidsLimit: 50, CPULimitMilli: 500}
			s.AllowNewPrivileges = true
		},
	}
	for vname, mod := range variants {
		var reports [2]string
		for i, path := range []StartPath{StartFast, StartLibcontainer} {
			name := vname + "-" + string(path)
			spec := ctr(rootfs, name, "inspect")
			mod(&spec)
			spec.StartPath = path
			run(t, sb, spec)
			if es := waitExit(t, sb, name); es.ExitCode != 0 {
				t.Fatalf("%s: %+v %s", name, es, logOf(t, sb, name))
			}
			checkPath(t, sb, name, path, share)
			reports[i] = normalizeReport(t, sb, name, logOf(t, sb, name))
			reports[i] += limitsReport(t, sb, name)
		}
		if reports[0] != reports[1] {
			t.Errorf("%s: fast and libcontainer differ:\n%s", vname, lineDiff(reports[0], reports[1]))
		}
		// A root container may make a user namespace: the kernel refuses
		// one to a process it takes for chrooted (enterRoot).
		if vname == "root" && !strings.Contains(reports[0], "userns: ok\n") {
			t.Errorf("root: no user namespace in the container:\n%s", reports[0])
		}
	}
}

// normalizeReport removes what legitimately differs between two runs:
// mount and namespace ids, pids, the container's name.
func normalizeReport(t *testing.T, sb *Sandbox, name, out string) string {
	pod := sb.Status().Namespaces
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		sec, v, _ := strings.Cut(l, ": ")
		v = strings.ReplaceAll(v, name, "NAME")
		switch sec {
		case "mount":
			v = normalizeMount(v)
		case "ns":
			kind, id, _ := strings.Cut(v, " ")
			v = kind + " " + nsLabel(t, kind, id, pod)
		case "status":
			if strings.HasPrefix(v, "NSpid") || strings.HasPrefix(v, "NSpgid") {
				f := strings.Fields(v)
				v = fmt.Sprintf("%s levels=%d", f[0], len(f)-1)
				if len(f) == 3 && f[2] == "1" {
					v += " init"
				}
			}
		case "ids":
			var pid, ppid, sid, pgid, umask int
			fmt.Sscanf(v, "pid=%d ppid=%d sid=%d pgid=%d umask=%o", &pid, &ppid, &sid, &pgid, &umask)
			v = fmt.Sprintf("pid1=%v ppid0=%v sid=pid:%v pgid=pid:%v umask=%o", pid == 1, ppid == 0, sid == pid, pgid == pid, umask)
		}
		lines = append(lines, sec+": "+v)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// normalizeMount keeps mount point, root, options, propagation kinds,
// type and super options of a mountinfo line.
func normalizeMount(l string) string {
	f := strings.Fields(l)
	i := slices.Index(f, "-")
	if i < 6 || len(f) < i+4 {
		return l
	}
	var prop []string
	for _, o := range f[6:i] {
		k, _, _ := strings.Cut(o, ":")
		prop = append(prop, k)
	}
	return strings.Join([]string{f[4], f[3], f[5], strings.Join(prop, ","), f[i+1], f[i+3]}, " ")
}

// nsLabel names a namespace by whose it is: the host's, the pod's, or
// the container's own.
func nsLabel(t *testing.T, kind, id string, pod map[string]uint64) string {
	var host string
	if l, err := os.Readlink("/proc/self/ns/" + kind); err == nil {
		host = l
	}
	switch {
	case id == host:
		return "host"
	case pod[strings.TrimSuffix(kind, "_for_children")] != 0 && strings.Contains(id, fmt.Sprint(pod[strings.TrimSuffix(kind, "_for_children")])):
		return "pod"
	}
	return "own"
}

// limitsReport reads the container's cgroup limits from outside.
func limitsReport(t *testing.T, sb *Sandbox, name string) string {
	c, err := sb.container("limits", name)
	if err != nil {
		t.Fatal(err)
	}
	cg := c.leaf()
	var out []string
	for _, f := range []string{"memory.limit_in_bytes", "memory.max", "pids.max", "cpu.cfs_quota_us", "cpu.max", "devices.list"} {
		for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/devices"} {
			if b, err := os.ReadFile(filepath.Join(root, cg.Path(), f)); err == nil {
				out = append(out, "limit-outside: "+f+"="+strings.Join(strings.Fields(string(b)), ","))
			}
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			d = append(d, "fast only:         "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			d = append(d, "libcontainer only: "+l)
		}
	}
	return strings.Join(d, "\n")
}

// TestStartPathExits compares exit codes, signals and OOM reporting of
// both paths, and an exec into each, in a pod with private PID
// namespaces; a created container killed before its start is recorded
// the same way too.
func TestStartPathExits(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "exits"))
	ctx := context.Background()
	type result struct{ exit, stop, oom, unstarted ExitStatus }
	var res [2]result
	for i, path := range []StartPath{StartFast, StartLibcontainer} {
		p := string(path)
		spec := ctr(rootfs, "exit-"+p, "exit", "3")
		spec.StartPath = path
		run(t, sb, spec)
		res[i].exit = *waitExit(t, sb, spec.Name)
		checkPath(t, sb, spec.Name, path, false)

		spec = ctr(rootfs, "sleep-"+p, "term", "ignore") // killed after its grace period
		spec.StartPath = path
		run(t, sb, spec)
		var out strings.Builder
		if es, err := sb.Exec(ctx, spec.Name, ExecSpec{Args: []string{"/payload", "hostname"}, Stdout: &out}); err != nil || es.ExitCode != 0 || strings.TrimSpace(out.String()) != "exits" {
			t.Errorf("%s: exec: %v %+v %q", spec.Name, err, es, out.String())
		}
		name := spec.Name
		eventually(t, name+" ignores SIGTERM", func() bool { return strings.Contains(logOf(t, sb, name), "ready") })
		if err := sb.StopContainer(ctx, spec.Name, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		res[i].stop = *waitExit(t, sb, spec.Name)

		spec = ctr(rootfs, "oom-"+p, "oom")
		spec.StartPath, spec.Resources = path, Resources{MemoryLimit: 32 << 20}
		run(t, sb, spec)
		res[i].oom = *waitExit(t, sb, spec.Name)

		spec = ctr(rootfs, "unstarted-"+p, "true")
		spec.StartPath = path
		if err := sb.CreateContainer(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if err := sb.StopContainer(ctx, spec.Name, 0); err != nil {
			t.Fatal(err)
		}
		res[i].unstarted = *waitExit(t, sb, spec.Name)
		if err := sb.StartContainer(ctx, spec.Name); err == nil {
			t.Errorf("%s: started after it was stopped", spec.Name)
		}
		if err := sb.RemoveContainer(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
	}
	for i := range res {
		r := &res[i]
		for _, es := range []*ExitStatus{&r.exit, &r.stop, &r.oom, &r.unstarted} {
			es.Finished = time.Time{}
		}
	}
	if res[0] != res[1] {
		t.Errorf("exits differ:\nfast:         %+v\nlibcontainer: %+v", res[0], res[1])
	}
	if res[0].exit.ExitCode != 3 || res[0].oom.Reason != ReasonOOMKilled {
		t.Errorf("fast: %+v", res[0])
	}
}

// TestSetuidCommandPath: with no_new_privs off, a setuid command starts
// through libcontainer (the fast path's traced exec would drop the bit),
// while the same command without the bit takes the fast path where the
// kernel allows it at all; with no_new_privs on, the bit cannot matter.
func TestSetuidCommandPath(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	data, err := os.ReadFile(filepath.Join(rootfs, "payload"))
	if err != nil {
		t.Fatal(err)
	}
	suid := filepath.Join(rootfs, "suid")
	if err := os.WriteFile(suid, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, testConfig(t, "suid"))
	started := func(name, cmd string, nnpOff bool) ContainerStatus {
		run(t, sb, ContainerSpec{Name: name, Rootfs: rootfs, Args: []string{cmd, "true"}, AllowNewPrivileges: nnpOff})
		waitExit(t, sb, name)
		return statusOf(sb, name)
	}
	plain := started("plain", "/payload", true)
	fastApplies := plain.StartPath == StartFast
	st := started("suid-nnp-off", "/suid", true)
	if st.StartPath != StartLibcontainer || fastApplies && !strings.Contains(st.StartPathReason, "setuid") {
		t.Errorf("setuid, no_new_privs off: path %q (%q); a plain command: %q (%q)", st.StartPath, st.StartPathReason, plain.StartPath, plain.StartPathReason)
	}
	if st := started("suid-nnp-on", "/suid", false); strings.Contains(st.StartPathReason, "setuid") {
		t.Errorf("setuid, no_new_privs on: path %q (%q)", st.StartPath, st.StartPathReason)
	}
}

// TestStartAgainAfterExecFailure: a fast start whose exec fails (the
// command is no program) leaves the container created, with its mount
// namespace as it was: /proc, which the fast path may have mounted for
// the dead init while it was on its way to the exec, is gone again, so
// the next start mounts exactly one. Where libcontainer starts the
// container, its init reports the failed exec as the container's exit.
func TestStartAgainAfterExecFailure(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cmd := filepath.Join(rootfs, "later")
	if err := os.WriteFile(cmd, []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sb := mustCreate(t, testConfig(t, "again"))
	ctx := context.Background()
	spec := ContainerSpec{Name: "c", Rootfs: rootfs, Args: []string{"/later", "cat", "/proc/self/mountinfo"}, Stdout: out}
	if err := sb.CreateContainer(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if fast, why := wantFast(t, false); !fast {
		t.Logf("libcontainer starts the container here (%s)", why)
		if err := sb.StartContainer(ctx, "c"); err == nil {
			if es := waitExit(t, sb, "c"); es.ExitCode == 0 {
				t.Fatalf("start of a non-program through libcontainer: exit %+v", es)
			}
		}
		return
	}
	if err := sb.StartContainer(ctx, "c"); !errors.Is(err, unix.ENOEXEC) {
		t.Fatalf("start of a non-program: %v, want ENOEXEC", err)
	}
	payload, err := os.ReadFile(filepath.Join(rootfs, "payload"))
	if err == nil {
		err = os.WriteFile(cmd, payload, 0o755) // the same inode, seen through the container's rootfs
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.StartContainer(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if es := waitExit(t, sb, "c"); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	mi, _ := os.ReadFile(out.Name())
	procs := 0
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == "/proc" {
			procs++
		}
	}
	if st := statusOf(sb, "c"); procs != 1 {
		t.Errorf("%d mounts at /proc after a failed start (path %s), want 1:\n%s", procs, st.StartPath, mi)
	}
}

// TestProcMountedByChild: a /proc opened by a child forked into the PID
// namespace (kernels whose procfs has no "pidns", forced here) is that
// namespace's: the container's own (its init is pid 1), or the pod's
// (the pause is pid 1).
func TestProcMountedByChild(t *testing.T) {
	testharness.Privileged(t)
	if !procByChildBuilt {
		t.Fatal("built without cgo: the fast path needs procfs's pidns here")
	}
	procByChild = true
	t.Cleanup(func() { procByChild = false })
	rootfs := testRootfs(t)
	for _, share := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharePID=%v", share), func(t *testing.T) {
			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			cfg := testConfig(t, fmt.Sprintf("bychild%v", share))
			cfg.SharePID = share
			sb := mustCreate(t, cfg)
			run(t, sb, ContainerSpec{Name: "c", Rootfs: rootfs, Args: []string{"/payload", "ps"}, Stdout: out})
			if es := waitExit(t, sb, "c"); es.ExitCode != 0 {
				t.Fatalf("exit %+v", es)
			}
			checkPath(t, sb, "c", StartFast, share)
			b, _ := os.ReadFile(out.Name())
			var pids []string
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				pids = append(pids, firstWord(line))
			}
			if pids[0] != "1" {
				t.Fatalf("ps in the container: %q, want its PID namespace's pids (1 first)", b)
			}
			if want := map[bool]int{false: 1, true: 2}[share]; len(pids) != want {
				t.Errorf("ps in the container: %q, want %d processes (the child that opened /proc is gone)", b, want)
			}
		})
	}
}

// TestProcMountedAtExecStop: where the init's cgroup cannot be watched (a
// v1-only host), the exec stop hands the init's pid to the /proc mounter;
// the container's /proc is its own PID namespace's, masks and all, as
// when it is mounted early.
func TestProcMountedAtExecStop(t *testing.T) {
	testharness.Privileged(t)
	procMountEarly = false
	t.Cleanup(func() { procMountEarly = true })
	rootfs := testRootfs(t)
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sb := mustCreate(t, testConfig(t, "late"))
	run(t, sb, ContainerSpec{Name: "c", Rootfs: rootfs, Args: []string{"/payload", "ps"}, Stdout: out})
	if es := waitExit(t, sb, "c"); es.ExitCode != 0 {
		t.Fatalf("exit %+v", es)
	}
	b, _ := os.ReadFile(out.Name())
	if fast, why := wantFast(t, false); !fast {
		t.Logf("libcontainer starts the container here (%s): %s", why, b)
		return
	}
	// The init is PID 1 of its own namespace and the only process there.
	if lines := strings.Fields(strings.TrimSpace(string(b))); len(lines) == 0 || lines[0] != "1" {
		t.Errorf("ps in the container: %q, want its own PID namespace (pid 1 first)", b)
	}
	if st := statusOf(sb, "c"); st.StartPath != StartFast {
		t.Errorf("path %s (%s)", st.StartPath, st.StartPathReason)
	}
	// The masks are on it too: /proc/timer_list reads empty (/dev/null).
	if _, err := os.Stat("/proc/timer_list"); err == nil {
		masked, err := os.Create(filepath.Join(t.TempDir(), "masked"))
		if err != nil {
			t.Fatal(err)
		}
		defer masked.Close()
		run(t, sb, ContainerSpec{Name: "m", Rootfs: rootfs, Args: []string{"/payload", "cat", "/proc/timer_list"}, Stdout: masked})
		es := waitExit(t, sb, "m")
		if b, _ := os.ReadFile(masked.Name()); es.ExitCode != 0 || len(b) != 0 {
			t.Errorf("/proc/timer_list in the container: exit %d, %d bytes, want masked (empty)", es.ExitCode, len(b))
		}
	}
}
