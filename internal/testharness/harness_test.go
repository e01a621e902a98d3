//go:build linux

package testharness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { Main(m) }

func init() {
	RegisterHelper("exit-with", func() int {
		n, _ := strconv.Atoi(os.Args[1])
		return n
	})
	// double-fork: start a sleeper and exit at once, orphaning it.
	RegisterHelper("orphan-maker", func() int {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			return 1
		}
		fmt.Println(cmd.Process.Pid)
		return 0
	})
}

func TestHelperDispatch(t *testing.T) {
	err := HelperCmd("exit-with", "7").Run()
	var exit *exec.ExitError
	if !errorAs(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("helper exit-with 7: got %v", err)
	}
}

func TestSkipVerdict(t *testing.T) {
	for _, tc := range []struct {
		problem            string
		ci                 bool
		wantSkip, wantFail bool
	}{
		{"", false, false, false},
		{"", true, false, false},
		{"not root (euid 1000)", false, true, false},
		{"not root (euid 1000)", true, false, true},
	} {
		skip, fail, msg := skipVerdict(tc.problem, tc.ci)
		if skip != tc.wantSkip || fail != tc.wantFail {
			t.Errorf("skipVerdict(%q, ci=%v) = skip %v fail %v, want %v %v", tc.problem, tc.ci, skip, fail, tc.wantSkip, tc.wantFail)
		}
		if tc.problem != "" && !strings.Contains(msg, tc.problem) {
			t.Errorf("message %q does not say why (%q)", msg, tc.problem)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b\011c`); got != "/a b\tc" {
		t.Fatalf("unescapeMount = %q", got)
	}
}

// requireLeak asserts that the state change made by leak is reported as a
// leak of kind, then undoes it and asserts the state is back to baseline.
func requireLeak(t *testing.T, kind string, leak func() (undo func())) {
	t.Helper()
	before, err := TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	undo := leak()
	found := waitForLeak(before, kind)
	undo()
	if found == "" {
		t.Fatalf("deliberate %s leak was not detected", kind)
	}
	t.Logf("detected: %s", found)
	if rest := waitForBaseline(before, SettleTime); len(rest) > 0 {
		t.Fatalf("state did not return to baseline after undo: %v", rest)
	}
}

func waitForLeak(before *Snapshot, kind string) string {
	for i := 0; i < 200; i++ {
		after, err := TakeSnapshot()
		if err != nil {
			return ""
		}
		for _, l := range Diff(before, after) {
			if l.Kind == kind {
				return l.String()
			}
		}
		runtime.Gosched()
	}
	return ""
}

func TestLeakCheckerCatchesMount(t *testing.T) {
	Privileged(t)
	dir := t.TempDir()
	requireLeak(t, "mount", func() func() {
		must(t, unix.Mount("podkit-leaktest", dir, "tmpfs", 0, "size=64k"))
		return func() { must(t, unix.Unmount(dir, unix.MNT_DETACH)) }
	})
}

func TestLeakCheckerCatchesNsfsPin(t *testing.T) {
	Privileged(t)
	pin := filepath.Join(t.TempDir(), "net")
	must(t, os.WriteFile(pin, nil, 0o600))
	requireLeak(t, "mount", func() func() {
		errc := make(chan error)
		go func() { // the thread is thrown away: never unlocked
			runtime.LockOSThread()
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				errc <- err
				return
			}
			errc <- unix.Mount("/proc/thread-self/ns/net", pin, "", unix.MS_BIND, "")
		}()
		must(t, <-errc)
		return func() { must(t, unix.Unmount(pin, unix.MNT_DETACH)) }
	})
}

func TestLeakCheckerCatchesCgroupDir(t *testing.T) {
	Privileged(t)
	mounts, err := cgroupMountpoints()
	if err != nil || len(mounts) == 0 {
		t.Fatalf("no cgroup hierarchy mounted: %v", err)
	}
	for _, mp := range mounts {
		dir := filepath.Join(mp, fmt.Sprintf("%s-leaktest-%d", CgroupPrefix, os.Getpid()))
		t.Run(filepath.Base(mp), func(t *testing.T) {
			requireLeak(t, "cgroup", func() func() {
				must(t, os.Mkdir(dir, 0o755))
				return func() { must(t, os.Remove(dir)) }
			})
		})
	}
}

func TestLeakCheckerCatchesChildProcess(t *testing.T) {
	Privileged(t)
	requireLeak(t, "process", func() func() {
		cmd := exec.Command("sleep", "60")
		must(t, cmd.Start())
		return func() { cmd.Process.Kill(); cmd.Wait() }
	})
}

// An orphaned grandchild is re-parented to the test process (a subreaper),
// where the checker sees it.
func TestLeakCheckerCatchesOrphanedGrandchild(t *testing.T) {
	Privileged(t)
	requireLeak(t, "process", func() func() {
		out, err := HelperCmd("orphan-maker").Output()
		must(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
		must(t, err)
		return func() {
			must(t, unix.Kill(pid, unix.SIGKILL))
			var ws unix.WaitStatus
			_, err := unix.Wait4(pid, &ws, 0, nil)
			must(t, err)
		}
	})
}

func TestLeakCheckerCatchesFD(t *testing.T) {
	Privileged(t)
	requireLeak(t, "fd", func() func() {
		f, err := os.Open("/dev/null")
		must(t, err)
		return func() { f.Close() }
	})
}

func TestLeakCheckerCatchesThreadInForeignNamespace(t *testing.T) {
	Privileged(t)
	requireLeak(t, "thread-namespace", func() func() {
		release, errc := make(chan struct{}), make(chan error)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
			errc <- unix.Unshare(unix.CLONE_NEWUTS)
			<-release
		}()
		must(t, <-errc)
		return func() { close(release) }
	})
}

func TestPauseBinaryBuilds(t *testing.T) {
	if m, _ := filepath.Glob("../../pause/cmd/podkit-pause/*.go"); len(m) == 0 {
		t.Skip("pause/cmd/podkit-pause not in this tree yet")
	}
	p := PauseBinary(t)
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("PauseBinary %s: %v", p, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errorAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok && e.Sys().(syscall.WaitStatus).Exited()
}

// recordingTB captures what LeakCheck reports instead of failing the test.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper()          {}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// LeakCheck itself fails the test it guards, naming the leak.
func TestLeakCheckFailsTheTest(t *testing.T) {
	Privileged(t)
	old := SettleTime
	SettleTime = 50 * time.Millisecond
	defer func() { SettleTime = old }()

	rec := &recordingTB{}
	LeakCheck(rec)
	f, err := os.Open("/dev/null")
	must(t, err)
	rec.runCleanups()
	f.Close()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "LEAK fd") || !strings.Contains(rec.errors[0], "/dev/null") {
		t.Fatalf("LeakCheck reported %q, want one LEAK fd naming /dev/null", rec.errors)
	}

	clean := &recordingTB{}
	LeakCheck(clean)
	clean.runCleanups()
	if len(clean.errors) != 0 {
		t.Fatalf("LeakCheck reported leaks for a clean test: %q", clean.errors)
	}
}

func TestLeakCheckerCatchesLink(t *testing.T) {
	Privileged(t)
	name := fmt.Sprintf("pkleak%d", os.Getpid()%100000)
	requireLeak(t, "link", func() func() {
		link := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		must(t, netlink.LinkAdd(link))
		return func() { must(t, netlink.LinkDel(link)) }
	})
}

// withCNIStateDir points the checker at a directory of the test's own.
func withCNIStateDir(t *testing.T) string {
	dir := t.TempDir()
	old := CNIStateDir
	CNIStateDir = dir
	t.Cleanup(func() { CNIStateDir = old })
	return dir
}

func TestLeakCheckerCatchesCNILease(t *testing.T) {
	Privileged(t)
	dir := filepath.Join(withCNIStateDir(t), "networks", "podkit-leaktest")
	must(t, os.MkdirAll(dir, 0o755))
	// host-local's bookkeeping files are not leases.
	must(t, os.WriteFile(filepath.Join(dir, "lock"), nil, 0o600))
	requireLeak(t, "cni-lease", func() func() {
		lease := filepath.Join(dir, "10.99.0.5")
		must(t, os.WriteFile(lease, []byte("pod1\neth0"), 0o600))
		must(t, os.WriteFile(filepath.Join(dir, "last_reserved_ip.0"), []byte("10.99.0.5"), 0o600))
		return func() { must(t, os.Remove(lease)) }
	})
}

func TestLeakCheckerCatchesCNICache(t *testing.T) {
	Privileged(t)
	dir := filepath.Join(withCNIStateDir(t), "results")
	must(t, os.MkdirAll(dir, 0o700))
	requireLeak(t, "cni-cache", func() func() {
		f := filepath.Join(dir, "podkit-leaktest-pod1-eth0")
		must(t, os.WriteFile(f, []byte("{}"), 0o600))
		return func() { must(t, os.Remove(f)) }
	})
}

func TestLeakCheckerCatchesIptablesChainAndRule(t *testing.T) {
	Privileged(t)
	ipt := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("iptables", append([]string{"-w", "-t", "nat"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables %v: %v: %s", args, err, out)
		}
	}
	chain := "PODKIT-LEAKTEST"
	requireLeak(t, "firewall", func() func() {
		ipt("-N", chain)
		return func() { ipt("-X", chain) }
	})
	ipt("-N", chain)
	defer ipt("-X", chain)
	// A rule added to a chain that was there before is a leak of its own.
	requireLeak(t, "firewall", func() func() {
		rule := []string{chain, "-s", "10.99.0.5/32", "-m", "comment", "--comment", `name: "podkit-leaktest"`, "-j", "RETURN"}
		ipt(append([]string{"-A"}, rule...)...)
		return func() { ipt(append([]string{"-D"}, rule...)...) }
	})
}

func TestLeakCheckerCatchesNftablesTable(t *testing.T) {
	Privileged(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatalf("nft not installed: %v", err)
	}
	nft := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("nft", args...).CombinedOutput(); err != nil {
			t.Fatalf("nft %v: %v: %s", args, err, out)
		}
	}
	requireLeak(t, "firewall", func() func() {
		nft("add", "table", "inet", "podkit_leaktest")
		return func() { nft("delete", "table", "inet", "podkit_leaktest") }
	})
}
