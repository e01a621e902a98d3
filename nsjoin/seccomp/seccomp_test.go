//go:build linux

package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testharness.Main(m) }

var defaultCaps = []string{"CAP_CHOWN", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"}

func TestRuntimeDefaultCompiles(t *testing.T) {
	s, err := Profile{Type: RuntimeDefault}.Resolve(defaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default profile: %d rules, %d instructions", len(s.Syscalls), f.Len())
	ok := func(nr uint32, args ...uint64) bool {
		var a [6]uint64
		copy(a[:], args)
		return Allows(f.Action(nr, a))
	}
	for _, nr := range []uint32{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_FUTEX, unix.SYS_EXECVE, unix.SYS_EXIT_GROUP} {
		if !ok(nr) {
			t.Errorf("syscall %d denied", nr)
		}
	}
	if runtime.GOARCH == "amd64" {
		if !ok(unix.SYS_CLONE, uint64(unix.SIGCHLD)) {
			t.Error("plain clone denied")
		}
		if ok(unix.SYS_CLONE, unix.CLONE_NEWNS|uint64(unix.SIGCHLD)) {
			t.Error("clone(CLONE_NEWNS) allowed without CAP_SYS_ADMIN")
		}
	}
	for _, nr := range []uint32{unix.SYS_UNSHARE, unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_MOUNT} {
		if r := f.Action(nr, [6]uint64{}); r != retErrno|uint32(unix.EPERM) {
			t.Errorf("syscall %d: %#x, want errno EPERM", nr, r)
		}
	}
	// The same profile for a container holding CAP_SYS_ADMIN allows them.
	s, err = Profile{Type: RuntimeDefault}.Resolve(append(defaultCaps, "sys_admin"))
	if err != nil {
		t.Fatal(err)
	}
	if f, err = Compile(s); err != nil {
		t.Fatal(err)
	}
	if !ok(unix.SYS_UNSHARE) || !ok(unix.SYS_MOUNT) {
		t.Error("CAP_SYS_ADMIN: unshare/mount still denied")
	}
}

func TestBadProfiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, doc string
		field     string
	}{
		{"bad json", `{"defaultAction": `, "profile"},
		{"no default", `{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`, "defaultAction"},
		{"unknown syscall", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", "nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}`, "syscalls[0].names[1]"},
		{"bad action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}`, "syscalls[0].action"},
		{"bad default", `{"defaultAction": "SCMP_ACT_NOPE"}`, "defaultAction"},
		{"notify", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, "syscalls[0].action"},
		{"bad op", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}`, "syscalls[0].args[0].op"},
		{"bad index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "syscalls[0].args[0].index"},
		{"bad arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`, "architectures[0]"},
		{"bad errno", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}`, "defaultAction"},
		{"empty names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}`, "syscalls[0].names"},
	}
	for i, tc := range cases {
		path := filepath.Join(dir, strconv.Itoa(i)+".json")
		if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Profile{Type: Localhost, LocalhostProfile: path}.Resolve(defaultCaps)
		var e *Error
		if !errors.Is(err, ErrInvalidProfile) || !errors.As(err, &e) || e.Field != tc.field || e.Path != path {
			t.Errorf("%s: %v, want ErrInvalidProfile naming %s in %s", tc.name, err, tc.field, path)
		}
	}
	for _, p := range []Profile{
		{Type: "Sometimes"},
		{Type: Localhost, LocalhostProfile: "relative.json"},
		{Type: Localhost, LocalhostProfile: filepath.Join(dir, "missing.json")},
		{Type: RuntimeDefault, LocalhostProfile: "/x.json"},
	} {
		if _, err := p.Resolve(nil); !errors.Is(err, ErrInvalidProfile) {
			t.Errorf("%+v: %v, want ErrInvalidProfile", p, err)
		}
	}
	if s, err := (Profile{}).Resolve(nil); s != nil || err != nil {
		t.Errorf("zero Profile: %v, %v; want no filter", s, err)
	}
}

// argProfile errors getppid (which ignores its arguments, so any can be
// passed) with errno 77 when its argument 1 passes op against value and
// value2.
func argProfile(op specs.LinuxSeccompOperator, value, value2 uint64) *specs.LinuxSeccomp {
	errno := uint(77)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: &errno,
			Args: []specs.LinuxSeccompArg{{Index: 1, Value: value, ValueTwo: value2, Op: op}},
		}},
	}
}

func want(op specs.LinuxSeccompOperator, arg, v, v2 uint64) bool {
	switch op {
	case specs.OpEqualTo:
		return arg == v
	case specs.OpNotEqual:
		return arg != v
	case specs.OpLessThan:
		return arg < v
	case specs.OpLessEqual:
		return arg <= v
	case specs.OpGreaterThan:
		return arg > v
	case specs.OpGreaterEqual:
		return arg >= v
	case specs.OpMaskedEqual:
		return arg&v == v2
	}
	panic(op)
}

// argCases are values around the 32-bit boundaries, where a two-word
// comparison goes wrong first.
func argCases() []uint64 {
	vals := []uint64{0, 1, 0xffffffff, 1 << 32, 1<<32 + 1, 0xffffffff_ffffffff, 5<<32 | 7, 5<<32 | 8, 4<<32 | 9}
	r := rand.New(rand.NewPCG(1, 2))
	for range 6 {
		vals = append(vals, r.Uint64(), uint64(r.Uint32()))
	}
	return vals
}

func TestArgOperators(t *testing.T) {
	for _, op := range knownOps {
		for _, v := range argCases() {
			f, err := Compile(argProfile(op, v, v&0xf0f0))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range argCases() {
				got := !Allows(f.Action(unix.SYS_GETPPID, [6]uint64{0, a}))
				if got != want(op, a, v, v&0xf0f0) {
					t.Errorf("%s value %#x arg %#x: denied %v", op, v, a, got)
				}
			}
		}
	}
}

// The kernel agrees with Action: the helper installs each operator's
// filter on a locked thread and calls getppid with every argument.
func init() {
	testharness.RegisterHelper("seccomp-args", func() int {
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fmt.Println(err)
			return 1
		}
		var s specs.LinuxSeccomp
		if err := json.Unmarshal([]byte(os.Args[1]), &s); err != nil {
			fmt.Println(err)
			return 1
		}
		f, err := Compile(&s)
		if err == nil {
			err = f.Install()
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
		for _, a := range argCases() {
			_, _, e := unix.RawSyscall6(unix.SYS_GETPPID, 0, uintptr(a), 0, 0, 0, 0)
			fmt.Printf("%d ", e)
		}
		return 0
	})
}

func TestKernelAgrees(t *testing.T) {
	testharness.Privileged(t)
	if strconv.IntSize != 64 {
		t.Skip("64-bit arguments")
	}
	for _, op := range knownOps {
		v := uint64(5<<32 | 8)
		doc, _ := json.Marshal(argProfile(op, v, v&0xf0f0))
		out, err := testharness.HelperCmd("seccomp-args", string(doc)).Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", op, err, out)
		}
		got := strings.Fields(string(out))
		for i, a := range argCases() {
			wantErr := "0"
			if want(op, a, v, v&0xf0f0) {
				wantErr = "77"
			}
			if got[i] != wantErr {
				t.Errorf("%s arg %#x: errno %s, want %s", op, a, got[i], wantErr)
			}
		}
	}
}

// TestSyscallTablesSorted: lookup's binary search needs each table in
// name order (gen_syscalls.go writes them so).
func TestSyscallTablesSorted(t *testing.T) {
	for name, table := range map[string]sysTable{"amd64": sysAMD64, "386": sys386, "arm64": sysARM64} {
		for i := 1; i < len(table); i++ {
			if table[i-1].name >= table[i].name {
				t.Fatalf("%s table: %q before %q", name, table[i-1].name, table[i].name)
			}
		}
		if nr, ok := table.lookup(table[len(table)/2].name); !ok || nr != table[len(table)/2].nr {
			t.Fatalf("%s table: lookup of %q: %d %v", name, table[len(table)/2].name, nr, ok)
		}
	}
	if nr, ok := sysAMD64.lookup("openat"); !ok || nr != 257 {
		t.Fatalf("amd64 openat: %d %v, want 257", nr, ok)
	}
	if _, ok := sysAMD64.lookup("no_such_syscall"); ok {
		t.Fatal("found a syscall that does not exist")
	}
}
