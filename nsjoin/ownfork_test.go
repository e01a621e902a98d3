//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/podkit/podkit/internal/ownfork"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func init() {
	// procinfo: prints what a process is born with, one "key value" line
	// each: its descriptors (number and kind), the identity, capability,
	// signal and seccomp lines of /proc/self/status, session and process
	// group (relative to its pid), RLIMIT_NOFILE, working directory,
	// parent-death signal, arguments, environment and the ns links given
	// in $PROCINFO_NS.
	testharness.RegisterHelper("procinfo", func() int {
		fds, _ := os.ReadDir("/proc/self/fd")
		var kinds []string
		for _, e := range fds {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			if l != "/proc/"+fmt.Sprint(os.Getpid())+"/fd" { // the listing's own
				kinds = append(kinds, e.Name()+"="+strings.SplitN(l, ":", 2)[0])
			}
		}
		fmt.Println("fds", strings.Join(kinds, ","))
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, ":")
			switch k {
			case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Uid", "Gid",
				"Groups", "SigBlk", "SigIgn":
				fmt.Println(k, strings.Join(strings.Fields(v), " "))
			}
		}
		pid := os.Getpid()
		sid, _ := unix.Getsid(0)
		fmt.Println("sid-is-pid", sid == pid, "pgid-is-pid", unix.Getpgrp() == pid)
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		fmt.Println("nofile", lim.Cur, lim.Max)
		wd, _ := os.Getwd()
		fmt.Println("cwd", wd)
		var sig int32
		_ = unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&sig)), 0, 0, 0)
		fmt.Println("pdeathsig", sig)
		fmt.Println("args", strings.Join(os.Args[1:], " "))
		env := os.Environ()
		sort.Strings(env)
		fmt.Println("env", strings.Join(env, " "))
		for _, k := range strings.Fields(os.Getenv("PROCINFO_NS")) {
			l, _ := os.Readlink("/proc/self/ns/" + k)
			fmt.Println(k, l)
		}
		return 0
	})
}

// TestOwnForkParity starts the same Cmds through internal/ownfork (the
// default where it applies) and through os/exec, and compares what each
// process was born with. It also checks that the first way was the one
// taken.
func TestOwnForkParity(t *testing.T) {
	testharness.Privileged(t)
	ho, set := podHolder(t)
	noPID, err := OpenSetPid(ho.pid(), Net, IPC, UTS)
	must(t, err)
	defer noPID.Close()
	caps := []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID"}
	cases := map[string]func(c *Cmd){
		"namespaces, session, dir": func(c *Cmd) {
			c.Namespaces, c.Dir = set, "/proc"
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		},
		"net, ipc and uts, parent-death signal": func(c *Cmd) {
			c.Namespaces = noPID
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGUSR2}
		},
		"runtime default as root, no_new_privs, rlimits (exec stop)": func(c *Cmd) {
			c.Namespaces = set
			c.Security = &Security{Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
				NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}}}
		},
		"non-root with groups, ambient capabilities, parent-death signal": func(c *Cmd) {
			c.Security = &Security{UID: 1000, GID: 1001, Groups: []uint32{20, 30},
				Bounding: caps, Permitted: caps, Effective: caps[:2], Inheritable: caps[:1], Ambient: caps[:1]}
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		},
	}
	// A line each report must have, beyond being the same both ways.
	wants := map[string]string{
		"namespaces, session, dir":                                        "sid-is-pid true pgid-is-pid true",
		"net, ipc and uts, parent-death signal":                           "pdeathsig 12",
		"runtime default as root, no_new_privs, rlimits (exec stop)":      "nofile 1024 1024",
		"non-root with groups, ambient capabilities, parent-death signal": "CapAmb 0000000000000400",
	}
	helper := reachableHelper(t)
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			before := ownfork.Spawns.Load()
			own := runProcInfo(t, helper, setup, false)
			if ownfork.Spawns.Load() == before {
				t.Fatalf("not started through ownfork")
			}
			ref := runProcInfo(t, helper, setup, true)
			ownFDs, own := cutFDs(own)
			refFDs, ref := cutFDs(ref)
			if own != ref {
				t.Errorf("ownfork:\n%s\nos/exec:\n%s", own, ref)
			}
			if !strings.Contains(own, "\n"+wants[name]+"\n") {
				t.Errorf("no %q in:\n%s", wants[name], own)
			}
			// The helper's own (its runtime's cgroup files, its package
			// inits' memfd and namespace descriptors) aside, the child
			// has its three files, as os/exec's has (which also inherits
			// the test's descriptors that lack close-on-exec).
			if [3]string(ownFDs[:3]) != [3]string{"/dev/null", "OUT", "OUT"} || [3]string(refFDs[:3]) != [3]string(ownFDs[:3]) {
				t.Errorf("descriptors 0-2: ownfork %q, os/exec %q", ownFDs[:3], refFDs[:3])
			}
			for fd, kind := range ownFDs[3:] {
				if !helperOwnFD(kind) {
					t.Errorf("ownfork's child has descriptor %d: %s", fd+3, kind)
				}
			}
		})
	}
	waitThreadsClean(t)
}

// runProcInfo runs the procinfo helper with the Cmd setup makes, its
// output to a file (an *os.File, as ownfork needs), through os/exec when
// osExec, and returns the report.
func runProcInfo(t *testing.T, helper string, setup func(*Cmd), osExec bool) string {
	t.Helper()
	c := Command(nil, helper, "a", "b c")
	c.Env = []string{testharness.HelperEnv("procinfo"), "PROCINFO_NS=net ipc uts pid", "Z=1"}
	setup(c)
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	must(t, err)
	defer out.Close()
	c.Stdout, c.Stderr = out, out
	ownForkOff = osExec
	defer func() { ownForkOff = false }()
	must(t, c.Run())
	b, err := os.ReadFile(out.Name())
	must(t, err)
	return strings.ReplaceAll(string(b), out.Name(), "OUT")
}

// cutFDs takes the "fds" line out of a procinfo report: the kind of each
// descriptor by number (up to 64), and the rest of the report.
func cutFDs(report string) (fds [64]string, rest string) {
	var keep []string
	for _, l := range strings.Split(report, "\n") {
		v, ok := strings.CutPrefix(l, "fds ")
		if !ok {
			keep = append(keep, l)
			continue
		}
		for _, e := range strings.Split(v, ",") {
			n, kind, _ := strings.Cut(e, "=")
			var i int
			if _, err := fmt.Sscan(n, &i); err == nil && i < len(fds) {
				fds[i] = kind
			}
		}
	}
	return fds, strings.Join(keep, "\n")
}

// helperOwnFD: a descriptor the helper process opens itself.
func helperOwnFD(kind string) bool {
	switch {
	case kind == "", kind == "/memfd", strings.HasPrefix(kind, "/sys/fs/cgroup/"):
		return true
	}
	for _, k := range []string{"net", "ipc", "uts", "pid", "mnt", "cgroup", "user", "time"} {
		if kind == k {
			return true
		}
	}
	return false
}

// TestOwnForkStreams: a Reader for stdin and one Writer for both stdout
// and stderr reach an ownfork child through pipes and copies, as os/exec
// makes them; Wait returns once the output is all copied.
func TestOwnForkStreams(t *testing.T) {
	testharness.Privileged(t)
	ho, _ := podHolder(t)
	set, err := OpenSetPid(ho.pid(), Net, IPC, UTS)
	must(t, err)
	defer set.Close()
	for _, osExec := range []bool{false, true} {
		before := ownfork.Spawns.Load()
		ownForkOff = osExec
		c := Command(set, "/bin/sh", "-c", "tr a-z A-Z; echo err >&2; exit 3")
		var out bytes.Buffer
		c.Stdin, c.Stdout, c.Stderr = strings.NewReader("piped in\n"), &out, &out
		err := c.Run()
		ownForkOff = false
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || out.String() != "PIPED IN\nerr\n" {
			t.Errorf("os/exec %v: %v, output %q; want exit status 3 and %q", osExec, err, out.String(), "PIPED IN\nerr\n")
		}
		if used := ownfork.Spawns.Load() != before; used == osExec {
			t.Errorf("os/exec %v: started through ownfork: %v", osExec, used)
		}
	}
}
