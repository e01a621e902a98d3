//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// TestExecSeesWhatTheInitSees: a process started by Exec is in exactly the
// container init's namespaces and cgroups, with its capabilities,
// no_new_privs, user, groups and RLIMIT_NOFILE; the manager's own threads
// keep theirs.
func TestExecSeesWhatTheInitSees(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	for _, tc := range []struct {
		name     string
		sharePID bool
		mod      func(*ContainerSpec)
	}{
		{"private-pid", false, func(*ContainerSpec) {}},
		{"shared-pid", true, func(*ContainerSpec) {}},
		{"non-root", false, func(s *ContainerSpec) {
			s.UID, s.GID, s.AdditionalGIDs = 1000, 1001, []uint32{5, 6}
			s.Capabilities = []string{"CAP_NET_RAW", "CAP_KILL"}
			s.AllowNewPrivileges = true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "exec-"+tc.name)
			cfg.SharePID = tc.sharePID
			sb := mustCreate(t, cfg)
			spec := ctr(rootfs, "app", "sleep")
			tc.mod(&spec)
			run(t, sb, spec)
			c, err := sb.container("test", "app")
			if err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			initPid := c.pid
			c.mu.Unlock()
			// The fast start's throwaway threads (with the container's
			// credentials) end asynchronously after StartContainer.
			eventually(t, "the start's forking threads to exit", func() bool { return len(threadCreds(t)) == 1 })
			before := threadCreds(t)
			dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := make(chan *ExitStatus, 1)
			go func() {
				es, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "sleep"}})
				if err != nil {
					t.Errorf("Exec: %v", err)
				}
				res <- es
			}()
			execPid := waitExecd(t, c, initPid)
			compareProcs(t, initPid, execPid)
			if f := statusFields(readProc(execPid, "status")); tc.name != "non-root" && (f["NoNewPrivs"] != "1" || f["CapEff"] != "00000000a80425fb") {
				t.Errorf("exec'd process: NoNewPrivs %s CapEff %s, want 1 and the runtime default", f["NoNewPrivs"], f["CapEff"])
			}
			cancel() // kills the exec'd process
			if es := <-res; es == nil || es.Signal != unix.SIGKILL || es.ExitCode != 137 {
				t.Errorf("cancelled Exec: %+v", es)
			}
			if d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); d != dumpable {
				t.Errorf("dumpable %d after Exec, was %d", d, dumpable)
			}
			eventually(t, "forking threads to exit", func() bool { return slices.Equal(threadCreds(t), before) })
		})
	}
}

// waitExecd returns the pid of the process Exec started in c's cgroup.
func waitExecd(t *testing.T, c *container, initPid int) int {
	t.Helper()
	var pid int
	eventually(t, "the exec'd process", func() bool {
		procs, _ := c.leaf().Procs()
		for _, p := range procs {
			if p != initPid && strings.Contains(readProc(p, "cmdline"), "sleep") {
				pid = p
				return true
			}
		}
		return false
	})
	return pid
}

func readProc(pid int, file string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	return string(b)
}

// compareProcs checks that two processes share namespaces, cgroups,
// credentials, capabilities, no_new_privs and the open files limit.
func compareProcs(t *testing.T, initPid, execPid int) {
	t.Helper()
	for _, ns := range []string{"mnt", "net", "ipc", "uts", "pid", "cgroup"} {
		a, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, ns))
		b, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", execPid, ns))
		if a == "" || a != b {
			t.Errorf("%s namespace: init %q, exec %q", ns, a, b)
		}
	}
	if a, b := readProc(initPid, "cgroup"), readProc(execPid, "cgroup"); a == "" || a != b {
		t.Errorf("cgroups differ:\ninit:\n%s\nexec:\n%s", a, b)
	}
	ia, ea := statusFields(readProc(initPid, "status")), statusFields(readProc(execPid, "status"))
	for _, k := range []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"} {
		if ia[k] != ea[k] {
			t.Errorf("%s: init %q, exec %q", k, ia[k], ea[k])
		}
	}
	nofile := func(pid int) string {
		for _, l := range strings.Split(readProc(pid, "limits"), "\n") {
			if strings.HasPrefix(l, "Max open files") {
				return strings.Join(strings.Fields(l), " ")
			}
		}
		return ""
	}
	// With no_new_privs the limits are set before the exec'd process runs;
	// without (non-root case) right after its exec (nsjoin stopAtExec).
	want := "Max open files 1024 1024 files"
	for deadline := time.Now().Add(10 * time.Second); nofile(execPid) != want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if a, b := nofile(initPid), nofile(execPid); a != want || b != want {
		t.Errorf("open files limit: init %q, exec %q; want the runtime default 1024/1024 in both", a, b)
	}
}

func statusFields(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

// threadCreds lists the credentials of every thread of this process.
func threadCreds(t *testing.T) []string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range tasks {
		f := statusFields(readProc(os.Getpid(), "task/"+e.Name()+"/status"))
		if len(f) == 0 {
			continue // exited meanwhile
		}
		out = append(out, fmt.Sprint(f["Uid"], f["Gid"], f["Groups"], f["CapEff"], f["CapPrm"], f["CapBnd"], f["NoNewPrivs"]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestExecBehaviour(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "exec-behaviour"))
	ctx := context.Background()
	spec := ctr(rootfs, "app", "sleep")
	spec.Env = []string{"FOO=bar"}
	spec.Cwd = "/tmp"
	if err := sb.CreateContainer(ctx, spec); err != nil {
		t.Fatal(err)
	}
	_, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "true"}})
	if !errors.Is(err, ErrInvalidState) {
		t.Errorf("Exec in a created container: %v, want ErrInvalidState", err)
	}
	if err := sb.StartContainer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	es, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "cat", "/proc/self/environ"}, Stdout: &out, Stderr: &errOut})
	if err != nil || es.ExitCode != 0 || es.Reason != ReasonCompleted {
		t.Fatalf("Exec cat: %+v %v %s", es, err, errOut.String())
	}
	if env := out.String(); !strings.Contains(env, "FOO=bar") || !strings.Contains(env, "PATH=") {
		t.Errorf("default env: %q", env)
	}
	out.Reset()
	if _, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "write", "cwd-file", "x"}}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(rootfs + "/tmp/cwd-file"); err != nil || string(b) != "x" {
		t.Errorf("default cwd /tmp: %q %v", b, err)
	}
	es, err = sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "cat", "/nope"}, Env: []string{"X=1"}, Cwd: "/", Stderr: &errOut})
	if err != nil || es.ExitCode != 1 || es.Reason != ReasonError || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("failing Exec: %+v %v %q", es, err, errOut.String())
	}
	if _, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/nope"}}); !errors.Is(err, ErrCommandNotFound) {
		t.Errorf("missing command: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	es, err = sb.Exec(short, "app", ExecSpec{Args: []string{"/payload", "sleep"}})
	if err != nil || es.Signal != unix.SIGKILL {
		t.Errorf("Exec past its deadline: %+v %v", es, err)
	}
}

// TestExecFindsCommandsBehindMounts: Exec looks the command up in the
// container's mount namespace (its /proc/<init>/root), where bind mounts
// are, not in the rootfs directory on the host (where a host-root image
// is an empty skeleton).
func TestExecFindsCommandsBehindMounts(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	tools := t.TempDir()
	data, err := os.ReadFile(rootfs + "/payload")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tools+"/tool", data, 0o755); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, testConfig(t, "exec-mounted"))
	spec := ctr(rootfs, "app", "sleep")
	spec.Mounts = []Mount{{Destination: "/opt/tools", Source: tools, ReadOnly: true}}
	run(t, sb, spec)
	es, err := sb.Exec(context.Background(), "app", ExecSpec{Args: []string{"tool", "true"}, Env: []string{"PATH=/opt/tools"}})
	if err != nil || es.ExitCode != 0 {
		t.Fatalf("Exec of a command behind a bind mount: %+v %v", es, err)
	}
}

// TestContainerOutputFiles: a container given its own stdout and stderr
// writes each stream to its file, and no log file is created for it.
func TestContainerOutputFiles(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "outputs"))
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer errR.Close()
	for _, spec := range []ContainerSpec{ctr(rootfs, "out", "hostname"), ctr(rootfs, "err", "cat", "/nope")} {
		spec.Stdout, spec.Stderr = outW, errW
		run(t, sb, spec)
		waitExit(t, sb, spec.Name)
	}
	outW.Close()
	errW.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdout.ReadFrom(outR); err != nil {
		t.Fatal(err)
	}
	if _, err := stderr.ReadFrom(errR); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "outputs\n" || !strings.Contains(stderr.String(), "no such file") || strings.Contains(stderr.String(), "outputs") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	for _, name := range []string{"out", "err"} {
		if _, err := os.Stat(sb.Dir() + "/logs/" + name + ".log"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("log file of %s: %v, want none", name, err)
		}
	}
}

// TestExecFollowsRestarts: what Exec keeps open for a container's init
// (its namespaces and cgroup files) is for that run only: after the init
// is killed and the container created and started again (a kubelet's
// restart: RemoveContainer, CreateContainer with the next Attempt), execs
// land in the new init's namespaces, and the old run's descriptors are
// closed (the harness's fd leak check).
func TestExecFollowsRestarts(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "exec-restarts"))
	spec := ctr(rootfs, "app", "sleep")
	run(t, sb, spec)
	ctx := context.Background()
	var c *container
	for attempt := range 2 {
		var err error
		if c, err = sb.container("test", "app"); err != nil {
			t.Fatal(err)
		}
		pid := statusOf(sb, "app").Pid
		if es, err := sb.Exec(ctx, "app", ExecSpec{Args: []string{"/payload", "true"}}); err != nil || es.ExitCode != 0 {
			t.Fatalf("attempt %d: Exec true: %+v %v", attempt, es, err)
		}
		execCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sb.Exec(execCtx, "app", ExecSpec{Args: []string{"/payload", "sleep"}})
		}()
		compareProcs(t, pid, waitExecd(t, c, pid))
		cancel()
		<-done
		if attempt == 0 {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitExit(t, sb, "app")
			if err := sb.RemoveContainer(ctx, "app"); err != nil {
				t.Fatal(err)
			}
			spec.Attempt = 1
			run(t, sb, spec)
			if st := statusOf(sb, "app"); st.Attempt != 1 || st.Pid == pid {
				t.Fatalf("after the restart: %+v", st)
			}
		}
	}
	c.execMu.Lock()
	cached := c.execTgt
	c.execMu.Unlock()
	if pid := statusOf(sb, "app").Pid; cached == nil || cached.pid != pid {
		t.Errorf("cached exec target %+v, want the current init %d's", cached, pid)
	}
}
