//go:build linux

package nsjoin

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func init() {
	// holder: says "ready", then lives until its stdin is closed.
	testharness.RegisterHelper("holder", func() int {
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return 0
	})
	// sleep: sleeps 300ms and exits 0.
	testharness.RegisterHelper("sleep", func() int {
		time.Sleep(300 * time.Millisecond)
		return 0
	})
	// nsinfo: prints "<kind> <link>" for each kind given, then "cwd <dir>"
	// and "host <hostname>".
	testharness.RegisterHelper("nsinfo", func() int {
		for _, k := range os.Args[1:] {
			link, err := os.Readlink("/proc/self/ns/" + k)
			if err != nil {
				fmt.Println(k, "error", err)
				continue
			}
			fmt.Println(k, link)
		}
		wd, _ := os.Getwd()
		host, _ := os.Hostname()
		_, err := os.Stat("marker")
		fmt.Println("marker", err == nil)
		if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "0::") {
					fmt.Println("cgroup2", strings.TrimPrefix(l, "0::"))
				}
			}
		}
		fmt.Println("cwd", wd)
		fmt.Println("host", host)
		fmt.Println("uid", os.Getuid())
		return 0
	})
}

// holder is a helper process kept alive until stop.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHolder starts the holder helper in new namespaces (cloneflags) and
// registers its stop as cleanup.
func startHolder(t testing.TB, cloneflags uintptr) *holder {
	t.Helper()
	cmd := testharness.HelperCmd("holder")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags}
	return runHolder(t, cmd)
}

// podHolder starts a holder in new net, ipc, uts and pid namespaces (a
// pod's shared set) and returns it with the set opened from it, closed
// when the test ends.
func podHolder(t testing.TB) (*holder, *Set) {
	t.Helper()
	ho := startHolder(t, syscall.CLONE_NEWNET|syscall.CLONE_NEWIPC|syscall.CLONE_NEWUTS|syscall.CLONE_NEWPID)
	s, err := OpenSetPid(ho.pid(), Net, IPC, UTS, PID)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return ho, s
}

func runHolder(t testing.TB, cmd *exec.Cmd) *holder {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	must(t, err)
	out := testharness.StartWithStdout(t, cmd)
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(h.stop)
	line, err := out.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("holder did not start: %q %v", line, err)
	}
	return h
}

func (h *holder) pid() int { return h.cmd.Process.Pid }

func (h *holder) stop() {
	if h.stdin != nil {
		h.stdin.Close()
		h.stdin = nil
		h.cmd.Wait()
	}
}

// newPinDir prepares a pin directory private to the test; cleanup unpins
// what is left and tears the directory (and its mount) down.
func newPinDir(t testing.TB) *PinDir {
	t.Helper()
	d, err := OpenPinDir(filepath.Join(t.TempDir(), "ns"))
	must(t, err)
	t.Cleanup(func() {
		names, _ := d.Names()
		for _, n := range names {
			d.Unpin(n)
		}
		if err := d.Teardown(); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	return d
}

// parseInfo parses a helper's report, lines "key value", into a map.
func parseInfo(out io.Reader) map[string]string {
	info := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		info[k] = v
	}
	return info
}

// netSet is a new network namespace, closed when the test ends.
func netSet(t testing.TB) *Set {
	t.Helper()
	s, err := Create(Net)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// waitThreadExit waits until thread tid of the test process is gone.
func waitThreadExit(t testing.TB, tid int) {
	t.Helper()
	waitFor(t, "thread exit", func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
		return os.IsNotExist(err)
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// nsLink reads /proc/<pid>/ns/<kind>.
func nsLink(t testing.TB, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	must(t, err)
	return l
}

// mountsUnder lists mountinfo mount points under dir.
func mountsUnder(t testing.TB, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

// waitFor polls cond with a generous deadline (not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testharness.Eventually(t, what, 10*time.Second, 5*time.Millisecond, cond)
}

func itoa(i int) string { return fmt.Sprint(i) }

// helperCommand is Command running a registered helper of the test binary.
func helperCommand(s *Set, name string, args ...string) *Cmd {
	c := Command(s, testharness.HelperBinary(), args...)
	c.Env = append(os.Environ(), testharness.HelperEnv(name))
	return c
}

// requireTool skips, loudly, when an interop tool is not installed (the
// test command installs iproute2 and util-linux; a minimal VM may lack them).
func requireTool(t testing.TB, tool string, needs ...string) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("*** %s not installed: interop test skipped ***", tool)
	}
	if len(needs) > 0 {
		out, _ := exec.Command(path, "--help").CombinedOutput()
		for _, n := range needs {
			if !strings.Contains(string(out), n) {
				t.Skipf("*** %s lacks %s (not util-linux?): test skipped ***", tool, n)
			}
		}
	}
}

func init() {
	// The home namespace descriptors live as long as the process; open
	// them before any leak-check snapshot is taken.
	for _, k := range []Kind{Net, IPC, UTS, Cgroup, PID, Mount} {
		homeNS(k)
	}
}
