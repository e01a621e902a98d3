//go:build linux

package seccomp

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// maxInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxInsns = 4096

// Return values of a filter (SECCOMP_RET_*).
const (
	retKillThread  = unix.SECCOMP_RET_KILL_THREAD
	retKillProcess = unix.SECCOMP_RET_KILL_PROCESS
	retTrap        = unix.SECCOMP_RET_TRAP
	retErrno       = unix.SECCOMP_RET_ERRNO
	retTrace       = unix.SECCOMP_RET_TRACE
	retLog         = unix.SECCOMP_RET_LOG
	retAllow       = unix.SECCOMP_RET_ALLOW
	// retBadABI answers calls of an ABI the filter does not cover (other
	// architectures, x32): libseccomp's default for them is a kill too.
	retBadABI = retKillProcess
	x32Bit    = 0x40000000 // __X32_SYSCALL_BIT
)

// Offsets in struct seccomp_data; the supported ABIs are little-endian,
// so an argument's low word comes first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// abi is one syscall table the compiler can filter.
type abi struct {
	arch  specs.Arch
	audit uint32
	nums  sysTable
}

// sysTable is a syscall table sorted by name: static data, where a map
// literal of its size is built at every start of every program that
// links the package (~0.06 ms).
type sysTable []sysEntry

type sysEntry struct {
	name string
	nr   uint32
}

// lookup returns the number of the syscall called name.
func (t sysTable) lookup(name string) (uint32, bool) {
	i, ok := slices.BinarySearchFunc(t, name, func(e sysEntry, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return 0, false
	}
	return t[i].nr, true
}

var (
	abiAMD64 = abi{specs.ArchX86_64, unix.AUDIT_ARCH_X86_64, sysAMD64}
	abi386   = abi{specs.ArchX86, unix.AUDIT_ARCH_I386, sys386}
	abiARM64 = abi{specs.ArchAARCH64, unix.AUDIT_ARCH_AARCH64, sysARM64}
)

// abis returns the native ABI and the compat ones the compiler also
// filters when a profile lists them (i386 on amd64).
func abis() (native abi, compat []abi, ok bool) {
	switch runtime.GOARCH {
	case "amd64":
		return abiAMD64, []abi{abi386}, true
	case "386":
		return abi386, nil, true
	case "arm64":
		return abiARM64, nil, true
	}
	return abi{}, nil, false
}

// knownName says whether any Linux ABI has a syscall of that name.
func knownName(n string) bool {
	for _, t := range []sysTable{sysAMD64, sys386, sysARM64} {
		if _, ok := t.lookup(n); ok {
			return true
		}
	}
	return slices.Contains(otherNames, n) || slices.Contains(armPrivate, n)
}

var knownArches = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
	specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
	specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
}

var knownFlags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	// TSYNC is meaningless for a process's first filter; runc ignores it too.
	"SECCOMP_FILTER_FLAG_TSYNC": 0,
}

// action translates an OCI action and its errno into a return value.
func action(field string, a specs.LinuxSeccompAction, errno *uint) (uint32, error) {
	ret := uint32(unix.EPERM)
	if errno != nil {
		if *errno > 4095 {
			return 0, invalid(field, "", "errno %d out of range", *errno)
		}
		ret = uint32(*errno)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return retKillThread, nil
	case specs.ActKillProcess:
		return retKillProcess, nil
	case specs.ActTrap:
		return retTrap, nil
	case specs.ActErrno:
		return retErrno | ret, nil
	case specs.ActTrace:
		return retTrace | ret, nil
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActLog:
		return retLog, nil
	case specs.ActNotify:
		return 0, invalid(field, "", "action %s needs a seccomp agent, which podkit does not run", a)
	}
	return 0, invalid(field, "", "unknown action %q", a)
}

// Compile checks an OCI profile and translates it into a classic BPF
// program for the running architecture. Rules are tried in the order of
// the profile, the first match decides; a syscall name no Linux ABI
// knows is an error, a name this ABI lacks (the default profile lists
// every architecture's) is skipped.
func Compile(s *specs.LinuxSeccomp) (*Filter, error) {
	if s == nil {
		return nil, invalid("profile", "", "nil")
	}
	native, compat, ok := abis()
	if !ok {
		return nil, invalid("architectures", "", "architecture %s is not supported by the compiler", runtime.GOARCH)
	}
	def, err := action("defaultAction", s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	if s.ListenerPath != "" {
		return nil, invalid("listenerPath", "", "seccomp agents are not supported")
	}
	f := &Filter{}
	for i, fl := range s.Flags {
		v, ok := knownFlags[fl]
		if !ok {
			return nil, invalid(fmt.Sprintf("flags[%d]", i), "", "unknown flag %q", fl)
		}
		f.flags |= v
	}
	var extra []abi
	for i, a := range s.Architectures {
		if !slices.Contains(knownArches, a) {
			return nil, invalid(fmt.Sprintf("architectures[%d]", i), "", "unknown architecture %q", a)
		}
		for _, c := range compat {
			if c.arch == a {
				extra = append(extra, c)
			}
		}
	}
	rules, err := checkRules(s, def)
	if err != nil {
		return nil, err
	}
	prog, err := program(native, extra, rules, def)
	if err != nil {
		return nil, err
	}
	if len(prog) > maxInsns {
		return nil, &Error{Field: "syscalls", Err: fmt.Errorf("%w: %d instructions (limit %d)", ErrTooLarge, len(prog), maxInsns)}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, &Error{Field: "syscalls", Err: fmt.Errorf("%w: %w", ErrInvalidProfile, err)}
	}
	f.prog, f.insns = raw, prog
	return f, nil
}

// rule is one syscall name of a profile entry with its return value.
type rule struct {
	name string
	ret  uint32
	args []specs.LinuxSeccompArg
}

// checkRules validates the syscalls of s and flattens them into rules,
// dropping those whose action is the default (they change nothing).
func checkRules(s *specs.LinuxSeccomp, def uint32) ([]rule, error) {
	var rules []rule
	for i, sc := range s.Syscalls {
		field := fmt.Sprintf("syscalls[%d]", i)
		ret, err := action(field+".action", sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if len(sc.Names) == 0 {
			return nil, invalid(field+".names", "", "empty")
		}
		for j, a := range sc.Args {
			af := fmt.Sprintf("%s.args[%d]", field, j)
			if a.Index > 5 {
				return nil, invalid(af+".index", "", "%d (0..5)", a.Index)
			}
			if !slices.Contains(knownOps, a.Op) {
				return nil, invalid(af+".op", "", "unknown operator %q", a.Op)
			}
		}
		for j, n := range sc.Names {
			if !knownName(n) {
				return nil, invalid(fmt.Sprintf("%s.names[%d]", field, j), "", "unknown syscall %q", n)
			}
			if ret != def {
				rules = append(rules, rule{name: n, ret: ret, args: sc.Args})
			}
		}
	}
	return rules, nil
}
