//go:build linux

package nsjoin

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/internal/testharness/scinfo"
	"github.com/podkit/podkit/nsjoin/seccomp"
	"golang.org/x/sys/unix"
)

func init() {
	// seccompinfo: prints the Seccomp line of /proc/self/status and the
	// errno of keyctl (which root may call without any capability) and
	// of getcwd, as the sandbox's seccomp payload does.
	testharness.RegisterHelper("seccompinfo", func() int {
		scinfo.Print()
		return 0
	})
}

func compileProfile(t *testing.T, p seccomp.Profile, caps []string) *seccomp.Filter {
	t.Helper()
	s, err := p.Resolve(caps)
	must(t, err)
	f, err := seccomp.Compile(s)
	must(t, err)
	return f
}

func runSeccompInfo(t *testing.T, sec *Security) (map[string]string, error) {
	t.Helper()
	c, out := secHelper(t, nil, "seccompinfo", sec)
	err := c.Run()
	return parseInfo(out), err
}

func TestSecuritySeccomp(t *testing.T) {
	testharness.Privileged(t)
	base := Security{
		Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
		NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}},
	}
	errno77 := uint(77)
	denyGetcwd := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: &errno77},
	}}
	local, err := seccomp.Compile(denyGetcwd)
	must(t, err)
	for _, tc := range []struct {
		name   string
		filter *seccomp.Filter
		rlim   bool
		want   map[string]string
	}{
		{"none", nil, true, map[string]string{"seccomp": "0", "keyctl": "0", "getcwd": "0"}},
		{"runtime default", compileProfile(t, seccomp.Profile{Type: seccomp.RuntimeDefault}, runtimeDefault), true,
			map[string]string{"seccomp": "2", "keyctl": "1", "getcwd": "0"}},
		{"localhost", local, false, map[string]string{"seccomp": "2", "keyctl": "0", "getcwd": "77"}},
	} {
		sec := base
		sec.Seccomp = tc.filter
		if !tc.rlim {
			sec.Rlimits = nil
		}
		info, err := runSeccompInfo(t, &sec)
		must(t, err)
		for k, v := range tc.want {
			if info[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, info[k], v)
			}
		}
	}
	waitThreadsClean(t)
}

// A filter that kills the process at its first syscall kills the child,
// never the manager: nothing of the manager runs under it.
func TestSecuritySeccompKillsOnlyTheChild(t *testing.T) {
	testharness.Privileged(t)
	f, err := seccomp.Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess})
	must(t, err)
	sec := &Security{Effective: []string{}, NoNewPrivs: true, Seccomp: f}
	c := Command(nil, "/bin/true")
	c.Security = sec
	err = c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGSYS {
		t.Fatalf("Run: %v, want killed by SIGSYS", err)
	}
	waitThreadsClean(t)
}

// Without no_new_privs and CAP_SYS_ADMIN the process gets no_new_privs
// set before its filter (the kernel's condition for installing one).
func TestSecuritySeccompWithoutNoNewPrivs(t *testing.T) {
	testharness.Privileged(t)
	f, err := seccomp.Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
	must(t, err)
	sec := &Security{Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault, Seccomp: f}
	info := runSecInfo(t, nil, sec)
	if info["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q, want 1", info["NoNewPrivs"])
	}
	waitThreadsClean(t)
}

// BenchmarkSecuritySeccomp: an exec of a static program with the
// container Security, without and with the default profile (its
// injection by ptrace at the exec stop).
func BenchmarkSecuritySeccomp(b *testing.B) {
	testharness.RequireRoot(b)
	f, err := seccomp.Profile{Type: seccomp.RuntimeDefault}.Resolve(runtimeDefault)
	if err != nil {
		b.Fatal(err)
	}
	filter, err := seccomp.Compile(f)
	if err != nil {
		b.Fatal(err)
	}
	bin := testharness.BuildStatic(b, "github.com/podkit/podkit/sandbox/internal/scpayload")
	for _, bc := range []struct {
		name string
		f    *seccomp.Filter
	}{{"none", nil}, {"default", filter}} {
		b.Run(bc.name, func(b *testing.B) {
			sec := &Security{Bounding: runtimeDefault, Effective: runtimeDefault, Permitted: runtimeDefault,
				NoNewPrivs: true, Rlimits: []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}}, Seccomp: bc.f}
			for b.Loop() {
				c := Command(nil, bin)
				c.Security = sec
				if err := c.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
