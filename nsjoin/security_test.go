//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func init() {
	// secinfo: prints the Cap*, NoNewPrivs, Uid, Gid and Groups lines of
	// /proc/self/status, "nofile <soft> <hard>", "cgroup2 <path>" and the
	// ns links given.
	testharness.RegisterHelper("secinfo", func() int {
		// It reports once its stdin ends (runSecInfo closes it when
		// Start has returned; without one it ends at once).
		_, _ = io.Copy(io.Discard, os.Stdin)
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, ":")
			switch {
			case strings.HasPrefix(k, "Cap"), k == "NoNewPrivs", k == "Uid", k == "Gid", k == "Groups":
				fmt.Println(k, strings.Join(strings.Fields(v), " "))
			}
		}
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		fmt.Println("nofile", lim.Cur, lim.Max)
		if cg, err := os.ReadFile("/proc/self/cgroup"); err == nil {
			for _, l := range strings.Split(string(cg), "\n") {
				if v, ok := strings.CutPrefix(l, "0::"); ok {
					fmt.Println("cgroup2", v)
				}
			}
		}
		for _, k := range os.Args[1:] {
			l, _ := os.Readlink("/proc/self/ns/" + k)
			fmt.Println(k, l)
		}
		return 0
	})
}

// reachableHelper copies the test binary where any uid may execute it
// (the go test work directory is private to root).
func reachableHelper(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	src, err := os.Open(testharness.HelperBinary())
	must(t, err)
	defer src.Close()
	path := filepath.Join(dir, "helper")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	must(t, err)
	_, err = io.Copy(dst, src)
	must(t, errors.Join(err, dst.Close()))
	return path
}

// runSecInfo starts the secinfo helper with sec inside s and parses its
// report, made once Start has returned: without no_new_privs the rlimits
// are set right after the exec, and Start returns once they are (the
// helper would otherwise race the prlimit; a loaded host lost the race).
func runSecInfo(t *testing.T, s *Set, sec *Security, kinds ...string) map[string]string {
	t.Helper()
	c, out := secHelper(t, s, "secinfo", sec, kinds...)
	r, w, err := os.Pipe()
	must(t, err)
	c.Stdin = r
	dumpable := getDumpable(t)
	err = c.Start()
	r.Close()
	w.Close()
	must(t, err)
	must(t, c.Wait())
	if got := getDumpable(t); got != dumpable {
		t.Errorf("dumpable %d after Run, was %d", got, dumpable)
	}
	return parseInfo(out)
}

// secHelper is a Command of the test helper name inside s with sec, its
// stdout in the returned buffer and its stderr on the test's.
func secHelper(t *testing.T, s *Set, name string, sec *Security, kinds ...string) (*Cmd, *bytes.Buffer) {
	t.Helper()
	c := Command(s, reachableHelper(t), kinds...)
	c.Env = append(os.Environ(), testharness.HelperEnv(name))
	c.Security = sec
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, os.Stderr
	return c, &out
}

func getDumpable(t *testing.T) int {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	must(t, err)
	return v
}

func capHex(t *testing.T, names ...string) string {
	m, err := capMask(names)
	must(t, err)
	return fmt.Sprintf("%016x", m)
}

var runtimeDefault = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func TestSecurityRootInNamespaces(t *testing.T) {
	testharness.Privileged(t)
	ho, s := podHolder(t)
	sec := &Security{
		Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
		NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}},
	}
	info := runSecInfo(t, s, sec, "net", "pid")
	want := map[string]string{
		"CapBnd": "00000000a80425fb", "CapEff": "00000000a80425fb", "CapPrm": "00000000a80425fb",
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1",
		"Uid": "0 0 0 0", "Gid": "0 0 0 0", "Groups": "", "nofile": "1024 1024",
		"net": nsLink(t, ho.pid(), "net"), "pid": nsLink(t, ho.pid(), "pid"),
	}
	checkInfo(t, info, want)
	if got := capHex(t, runtimeDefault...); got != want["CapBnd"] {
		t.Errorf("capMask(runtime default) = %s", got)
	}
	waitThreadsClean(t)
}

func TestSecurityNonRoot(t *testing.T) {
	testharness.Privileged(t)
	caps := []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID"}
	sec := &Security{
		UID: 1000, GID: 1001, Groups: []uint32{20, 30},
		Bounding: caps, Permitted: caps, Effective: caps[:2],
		Inheritable: caps[:1], Ambient: caps[:1],
		Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 900, Hard: 900}},
	}
	// No namespaces: Security alone still forks from a throwaway thread.
	info := runSecInfo(t, nil, sec)
	amb := capHex(t, "CAP_NET_BIND_SERVICE")
	want := map[string]string{
		"CapBnd": capHex(t, caps...), "CapEff": amb, "CapPrm": amb, "CapInh": amb, "CapAmb": amb,
		"NoNewPrivs": "0", "Uid": "1000 1000 1000 1000", "Gid": "1001 1001 1001 1001",
		"Groups": "20 30", "nofile": "900 900",
	}
	checkInfo(t, info, want)
	waitThreadsClean(t)
}

func checkInfo(t *testing.T, info, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if info[k] != v {
			t.Errorf("%s = %q, want %q", k, info[k], v)
		}
	}
}

// waitThreadsClean waits until every thread of the test process has the
// credentials of the process again: the forking threads are gone.
func waitThreadsClean(t *testing.T) {
	t.Helper()
	mine := threadCreds(t, "self")
	waitFor(t, "forking threads to exit", func() bool {
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, e := range tasks {
			if threadCreds(t, "self/task/"+e.Name()) != mine {
				return false
			}
		}
		return true
	})
}

func threadCreds(t *testing.T, path string) string {
	b, err := os.ReadFile("/proc/" + path + "/status")
	if err != nil {
		return "" // exited meanwhile
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, _, _ := strings.Cut(l, ":"); k == "Uid" || k == "Gid" || k == "Groups" || strings.HasPrefix(k, "Cap") || k == "NoNewPrivs" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSecurityRejected(t *testing.T) {
	testharness.Privileged(t)
	ho := startHolder(t, syscall.CLONE_NEWUTS)
	s, err := OpenSetPid(ho.pid(), UTS)
	must(t, err)
	defer s.Close()
	cases := map[string]func(c *Cmd){
		"unknown cap":         func(c *Cmd) { c.Security.Bounding = []string{"CAP_FLY"} },
		"eff not in prm":      func(c *Cmd) { c.Security.Effective = []string{"CAP_KILL"} },
		"inh not in bnd":      func(c *Cmd) { c.Security.Inheritable = []string{"CAP_KILL"} },
		"amb not in inh":      func(c *Cmd) { c.Security.Permitted, c.Security.Ambient = []string{"KILL"}, []string{"KILL"} },
		"rlimit soft > hard":  func(c *Cmd) { c.Security.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 2, Hard: 1}} },
		"rlimit resource":     func(c *Cmd) { c.Security.Rlimits = []Rlimit{{Resource: 99}} },
		"rlimit twice":        func(c *Cmd) { c.Security.Rlimits = []Rlimit{{Resource: 7}, {Resource: 7}} },
		"with Credential":     func(c *Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{}} },
		"with AmbientCaps":    func(c *Cmd) { c.SysProcAttr = &syscall.SysProcAttr{AmbientCaps: []uintptr{1}} },
		"with CLONE_NEWUSER":  func(c *Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER} },
		"with user namespace": func(c *Cmd) { c.Namespaces = withUser(t, s) },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			ran := false
			c := Command(s, "/bin/true")
			c.Security = &Security{}
			c.BeforeFork = func() error { ran = true; return nil }
			mod(c)
			err := c.Start()
			if !errors.Is(err, ErrInvalidSecurity) {
				t.Fatalf("Start: %v, want ErrInvalidSecurity", err)
			}
			var ne *Error
			if !errors.As(err, &ne) {
				t.Errorf("%T is not *Error", err)
			}
			if ran || c.Process != nil {
				t.Errorf("something ran: hook %v, process %v", ran, c.Process)
			}
		})
	}
	c := Command(nil, "/bin/true")
	c.BeforeFork = func() error { return unix.EXDEV }
	if err := c.Start(); !errors.Is(err, unix.EXDEV) || c.Process != nil {
		t.Errorf("failing BeforeFork: %v, process %v", err, c.Process)
	}
}

// withUser returns s plus our own user namespace (entered via nsenter).
func withUser(t *testing.T, s *Set) *Set {
	u, err := Current(User)
	must(t, err)
	t.Cleanup(func() { u.Close() })
	n, err := NewSet(s.Get(UTS), u)
	must(t, err)
	return n
}

func TestBeforeForkOnThrowawayThread(t *testing.T) {
	testharness.Privileged(t)
	var tid int
	c := Command(nil, "/bin/true")
	c.BeforeFork = func() error {
		tid = unix.Gettid()
		// Something the child must inherit from the thread: its nice
		// value is per thread.
		return unix.Setpriority(unix.PRIO_PROCESS, 0, 7)
	}
	c.Path, c.Args = reachableHelper(t), nil
	c.Env = append(os.Environ(), testharness.HelperEnv("secinfo"))
	var out bytes.Buffer
	c.Stdout = &out
	must(t, c.Start())
	nice, err := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/stat")
	must(t, c.Wait())
	if tid == 0 || tid == unix.Gettid() || tid == os.Getpid() {
		t.Errorf("BeforeFork ran on thread %d (caller %d, main %d)", tid, unix.Gettid(), os.Getpid())
	}
	if err == nil {
		f := strings.Fields(string(nice[bytes.LastIndexByte(nice, ')')+2:]))
		if len(f) > 16 && f[16] != "7" {
			t.Errorf("child nice %s, want 7 (inherited from the forking thread)", f[16])
		}
	}
	waitFor(t, "forking thread to exit", func() bool {
		_, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid))
		return err != nil
	})
}
