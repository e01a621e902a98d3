//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func init() {
	// secexec PATH: starts PATH (a copy of the test binary) as the
	// secinfo helper with uid 1000, no_new_privs and RLIMIT_NOFILE 77,
	// its output on ours.
	testharness.RegisterHelper("secexec", func() int {
		c := Command(nil, os.Args[1], os.Args[2:]...)
		c.Env = append(os.Environ(), testharness.HelperEnv("secinfo"))
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		c.Security = stopSecurity()
		if err := c.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "secexec:", err)
			return 1
		}
		return 0
	})
}

// stopSecurity needs the child held before its exec: no_new_privs with
// rlimits, and not the capability that would let it trace anything.
func stopSecurity() *Security {
	caps := []string{"CAP_NET_BIND_SERVICE"}
	return &Security{
		UID: 1000, GID: 1000, Bounding: caps, Permitted: caps, Effective: caps,
		NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 77, Hard: 77}},
	}
}

var stopWant = map[string]string{"NoNewPrivs": "1", "nofile": "77 77", "Uid": "1000 1000 1000 1000"}

// TestSecurityRlimitsUnderStrace: a manager run under `strace -f` (its
// children are traced as they fork, so PTRACE_TRACEME fails) still starts
// the program with no_new_privs and its rlimits.
func TestSecurityRlimitsUnderStrace(t *testing.T) {
	testharness.Privileged(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace not installed (integration/install-deps.sh installs it)")
		}
		t.Skip("*** strace not installed: test skipped ***")
	}
	cmd := exec.Command(strace, "-f", "-qq", "-o", "/dev/null", "--", testharness.HelperBinary(), reachableHelper(t))
	cmd.Env = append(os.Environ(), testharness.HelperEnv("secexec"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("secexec under strace -f: %v\n%s", err, out.String())
	}
	checkInfo(t, parseInfo(&out), stopWant)
}

// TestSecurityRlimitsYamaScope2: with kernel.yama.ptrace_scope 2 the child
// may not PTRACE_TRACEME (its parent, the forking thread, lacks
// CAP_SYS_PTRACE); the program still starts with no_new_privs and its
// rlimits, born in IntoCgroup. Without Yama on the host the scope is read
// from a file of the test, which drives the same choice of mechanism.
func TestSecurityRlimitsYamaScope2(t *testing.T) {
	testharness.Privileged(t)
	setYamaScope2(t)
	if why := ptraceRefused(); why == "" {
		t.Fatal("ptraceRefused: ptrace considered usable under scope 2")
	}
	root := findCgroup2(t)
	cg := filepath.Join(root, fmt.Sprintf("podkit-nsjoin-stop-%d", os.Getpid()))
	must(t, os.Mkdir(cg, 0o755))
	t.Cleanup(func() { os.Remove(cg) })
	// While frozen the child has run nothing: not even Go's post-fork
	// code, which would have switched it to uid 1000 and then exec'd.
	self, err := os.Executable()
	must(t, err)
	var seen []string
	frozenHook = func(pid int, exe, uid string) {
		seen = append(seen, exe+" uid "+strings.Join(strings.Fields(uid), " "))
	}
	t.Cleanup(func() { frozenHook = nil })
	for _, into := range []string{"", cg} {
		c := Command(nil, reachableHelper(t))
		c.Env = append(os.Environ(), testharness.HelperEnv("secinfo"))
		c.Security, c.IntoCgroup = stopSecurity(), into
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, os.Stderr
		must(t, c.Run())
		info := parseInfo(&out)
		checkInfo(t, info, stopWant)
		if into != "" && info["cgroup2"] != "/"+filepath.Base(cg) {
			t.Errorf("child in cgroup %q, want the IntoCgroup %s", info["cgroup2"], cg)
		}
	}
	for _, s := range seen {
		if s != self+" uid 0 0 0 0" {
			t.Errorf("frozen child: %s, want %s uid 0 0 0 0 (not exec'd, not switched)", s, self)
		}
	}
	if len(seen) != 2 {
		t.Errorf("frozen child seen %d times, want 2", len(seen))
	}
	waitThreadsClean(t)
}

// setYamaScope2 sets kernel.yama.ptrace_scope to 2 until the test ends
// (never 3, which cannot be lowered before a reboot), or, on a host
// without Yama, points the package at a file saying 2.
func setYamaScope2(t *testing.T) {
	orig, err := os.ReadFile(yamaScopeFile)
	switch {
	case os.IsNotExist(err):
		t.Logf("no Yama on this host: scope 2 simulated through %s", "yamaScopeFile")
		f := filepath.Join(t.TempDir(), "ptrace_scope")
		must(t, os.WriteFile(f, []byte("2\n"), 0o644))
		prev := yamaScopeFile
		yamaScopeFile = f
		t.Cleanup(func() { yamaScopeFile = prev })
	case err != nil:
		t.Fatal(err)
	case strings.TrimSpace(string(orig)) >= "2":
		t.Logf("kernel.yama.ptrace_scope is already %s", strings.TrimSpace(string(orig)))
	default:
		must(t, os.WriteFile(yamaScopeFile, []byte("2"), 0))
		t.Cleanup(func() {
			if err := os.WriteFile(yamaScopeFile, orig, 0); err != nil {
				t.Errorf("restoring kernel.yama.ptrace_scope: %v", err)
			}
		})
	}
}

// TestFrozenHoldFailures: rlimits the kernel refuses (RLIMIT_NOFILE above
// fs.nr_open) kill the child while it is still frozen: it never ran, Start
// fails with the prlimit error, and the frozen cgroup is gone (leak check).
// No cgroup v2 to hold it in is ErrNoExecStop.
func TestFrozenHoldFailures(t *testing.T) {
	testharness.Privileged(t)
	setYamaScope2(t)
	c := Command(nil, reachableHelper(t))
	c.Env = append(os.Environ(), testharness.HelperEnv("secinfo"))
	c.Security = stopSecurity()
	c.Security.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1 << 40, Hard: 1 << 40}}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Start()
	var ne *Error
	if !errors.Is(err, unix.EPERM) || !errors.As(err, &ne) || ne.Op != "start: rlimits" {
		t.Errorf("impossible rlimit: %v, want a start: rlimits error wrapping EPERM", err)
	}
	if out.Len() != 0 || c.Process != nil {
		t.Errorf("the program ran (%q) or a process is left (%v)", out.String(), c.Process)
	}
	_, err = newFreezeStop(filepath.Join(t.TempDir(), "not-a-cgroup"), "test", nil)
	if !errors.Is(err, ErrNoExecStop) || !errors.As(err, &ne) {
		t.Errorf("no cgroup to hold in: %v, want *Error wrapping ErrNoExecStop", err)
	}
}
