//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func init() {
	// mntholder DIR: in its own mount namespace, mounts a tmpfs on DIR with
	// a file "marker" in it, says ready and lives until stdin closes.
	testharness.RegisterHelper("mntholder", func() int {
		dir := os.Args[1]
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644)
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return 0
	})
}

// runInfo runs the nsinfo helper inside s and parses its report.
func runInfo(t *testing.T, s *Set, setup func(*Cmd), kinds ...string) map[string]string {
	t.Helper()
	c := helperCommand(s, "nsinfo", kinds...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, os.Stderr
	if setup != nil {
		setup(c)
	}
	must(t, c.Start())
	if c.PidFD() < 0 {
		t.Error("no pidfd after Start")
	}
	must(t, c.Wait())
	if c.PidFD() != -1 {
		t.Error("pidfd not released by Wait")
	}
	return parseInfo(&out)
}

func TestCommandInHolderNamespaces(t *testing.T) {
	testharness.Privileged(t)
	ho, s := podHolder(t)
	all := []string{"net", "ipc", "uts", "pid", "mnt", "cgroup", "user"}
	info := runInfo(t, s, nil, all...)
	for _, k := range all {
		want := nsLink(t, os.Getpid(), k) // not asked for: ours
		if s.Get(mustKind(t, k)) != nil {
			want = nsLink(t, ho.pid(), k)
		}
		if info[k] != want {
			t.Errorf("%s: child in %s, want %s", k, info[k], want)
		}
	}
}

func mustKind(t *testing.T, name string) Kind {
	k, err := ParseKind(name)
	must(t, err)
	return k
}

func TestCommandMountNamespace(t *testing.T) {
	testharness.Privileged(t)
	dir := t.TempDir()
	cmd := testharness.HelperCmd("mntholder", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	ho := runHolder(t, cmd)
	s, err := OpenSetPid(ho.pid(), Mount, UTS)
	must(t, err)
	defer s.Close()
	info := runInfo(t, s, func(c *Cmd) { c.Dir = dir }, "mnt", "uts")
	if info["mnt"] != nsLink(t, ho.pid(), "mnt") {
		t.Errorf("mnt: child in %s, want %s", info["mnt"], nsLink(t, ho.pid(), "mnt"))
	}
	if info["marker"] != "true" || info["cwd"] != dir {
		t.Errorf("child does not see the holder's tmpfs at its Dir: %v", info)
	}
	if _, err := os.Stat(filepath.Join(dir, "marker")); !os.IsNotExist(err) {
		t.Errorf("the holder's tmpfs is visible outside: %v", err)
	}
	if err := Command(s, "ls").Start(); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative path with mnt: %v", err)
	}
}

func TestCommandUserAndTimeViaNsenter(t *testing.T) {
	testharness.Privileged(t)
	requireTool(t, "nsenter", "--time", "--wd")
	cmd := testharness.HelperCmd("holder")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWTIME,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}
	ho := runHolder(t, cmd)
	s, err := OpenSetPid(ho.pid(), User, Net, Time)
	must(t, err)
	defer s.Close()
	info := runInfo(t, s, nil, "user", "net", "time", "mnt")
	for _, k := range []string{"user", "net", "time"} {
		if info[k] != nsLink(t, ho.pid(), k) {
			t.Errorf("%s: child in %s, want %s", k, info[k], nsLink(t, ho.pid(), k))
		}
	}
	if info["mnt"] != nsLink(t, os.Getpid(), "mnt") || info["uid"] != "0" {
		t.Errorf("mnt %s uid %s", info["mnt"], info["uid"])
	}
}

func TestCommandIntoCgroup(t *testing.T) {
	testharness.Privileged(t)
	v1 := "/sys/fs/cgroup/pids"
	if _, err := os.Stat(v1); err == nil {
		c := helperCommand(nil, "nsinfo")
		c.IntoCgroup = v1
		if err := c.Run(); !errors.Is(err, ErrNotCgroup2) {
			t.Errorf("v1 cgroup: %v", err)
		}
	}
	root := findCgroup2(t)
	cg := filepath.Join(root, fmt.Sprintf("podkit-nsjoin-%d", os.Getpid()))
	must(t, os.Mkdir(cg, 0o755))
	t.Cleanup(func() { os.Remove(cg) })
	s := netSet(t)
	info := runInfo(t, s, func(c *Cmd) { c.IntoCgroup = cg })
	if info["cgroup2"] != "/"+filepath.Base(cg) {
		t.Errorf("child not born in %s: %v", cg, info)
	}
}

func findCgroup2(t *testing.T) string {
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var sfs unix.Statfs_t
		if unix.Statfs(p, &sfs) == nil && sfs.Type == unix.CGROUP2_SUPER_MAGIC {
			return p
		}
	}
	t.Skip("no cgroup2 hierarchy mounted")
	return ""
}

func TestCommandStartTwice(t *testing.T) {
	testharness.Privileged(t)
	c := helperCommand(nil, "nsinfo")
	must(t, c.Run())
	if err := c.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
}

// TestCommandPdeathsig: the throwaway thread a process is forked from must
// not end while the process runs, or Pdeathsig would kill it at once.
func TestCommandPdeathsig(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	c := helperCommand(s, "sleep")
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, c.Run()) // a SIGKILL would make Run fail with "signal: killed"
}

// TestCommandOutputInNamespaces: Output and CombinedOutput start the
// process inside the set, like Start and Run (exec.Cmd's own would run it
// in ours).
func TestCommandOutputInNamespaces(t *testing.T) {
	testharness.Privileged(t)
	ho, s := podHolder(t)
	check := func(how string, out []byte, err error) {
		t.Helper()
		must(t, err)
		info := map[string]string{}
		for _, l := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(l, " ")
			info[k] = v
		}
		for _, k := range []string{"net", "uts"} {
			if want := nsLink(t, ho.pid(), k); info[k] != want {
				t.Errorf("%s: child in %s %s, want %s", how, k, info[k], want)
			}
		}
	}
	c := helperCommand(s, "nsinfo", "net", "uts")
	out, err := c.Output()
	check("Output", out, err)
	if c.PidFD() != -1 || c.ProcessState == nil || !c.ProcessState.Success() {
		t.Errorf("Output: pidfd %d, state %v", c.PidFD(), c.ProcessState)
	}
	c = helperCommand(s, "nsinfo", "net", "uts")
	out, err = c.CombinedOutput()
	check("CombinedOutput", out, err)
	c = helperCommand(s, "nsinfo")
	c.Stdout = os.Stderr
	if _, err := c.Output(); err == nil {
		t.Error("Output with Stdout set: no error")
	}
}

// TestCmdHidesExecCmd: no exported field or method of Cmd reaches an
// exec.Cmd, whose Start/Run/Output would skip the namespaces.
func TestCmdHidesExecCmd(t *testing.T) {
	execCmd := reflect.TypeOf(exec.Cmd{})
	ct := reflect.TypeOf(Cmd{})
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.IsExported() && ft == execCmd {
			t.Errorf("field %s exposes an exec.Cmd", f.Name)
		}
	}
	allowed := map[string]bool{
		"Start": true, "Run": true, "Wait": true, "Output": true, "CombinedOutput": true,
		"PidFD": true, "String": true, "StdinPipe": true, "StdoutPipe": true, "StderrPipe": true,
	}
	pt := reflect.TypeOf(&Cmd{})
	for i := 0; i < pt.NumMethod(); i++ {
		if m := pt.Method(i).Name; !allowed[m] {
			t.Errorf("unexpected method %s (promoted from exec.Cmd?)", m)
		}
	}
}
