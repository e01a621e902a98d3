//go:build linux

package seccomp

import (
	"encoding/binary"
	"os"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Filter is a compiled profile: a classic BPF program for seccomp(2) and
// the filter flags to install it with. It is immutable and safe for
// concurrent use.
type Filter struct {
	prog  []bpf.RawInstruction
	insns []bpf.Instruction
	flags uint
}

// Len is the number of BPF instructions.
func (f *Filter) Len() int { return len(f.prog) }

// Install loads the filter on the calling thread only (no TSYNC): every
// later syscall of the thread, and of the processes it forks, goes
// through it. The caller must hold the thread locked (and never give it
// back: a filter cannot be removed), and it must have no_new_privs set or
// CAP_SYS_ADMIN.
func (f *Filter) Install() error {
	prog := f.Program()
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(f.flags), uintptr(unsafe.Pointer(&fp)))
	if e != 0 {
		return os.NewSyscallError("seccomp", e)
	}
	return nil
}

// Action runs the filter, as the kernel would, on syscall nr of the
// native ABI with the given arguments, and returns its SECCOMP_RET_*
// value. Callers use it to check, before installing, that a filter lets
// through what must keep working.
func (f *Filter) Action(nr uint32, args [6]uint64) uint32 {
	native, _, _ := abis()
	// x/net/bpf's machine loads big-endian words: lay seccomp_data out so
	// that each 32-bit load reads the value the kernel's would.
	var data [64]byte
	be := binary.BigEndian
	be.PutUint32(data[offNr:], nr)
	be.PutUint32(data[offArch:], native.audit)
	for i, a := range args {
		be.PutUint32(data[offArgs+8*i:], uint32(a))
		be.PutUint32(data[offArgs+8*i+4:], uint32(a>>32))
	}
	vm, err := bpf.NewVM(f.insns)
	if err != nil {
		return retKillProcess // Compile made it: cannot happen
	}
	n, err := vm.Run(data[:])
	if err != nil {
		return retKillProcess
	}
	return uint32(n)
}

// Allows says whether a return value of Action lets the syscall run
// (SECCOMP_RET_ALLOW or SECCOMP_RET_LOG).
func Allows(ret uint32) bool {
	a := ret & unix.SECCOMP_RET_ACTION_FULL
	return a == retAllow || a == retLog
}

// Program returns a copy of the filter's instructions in the form
// seccomp(2) reads (struct sock_filter), and Flags the
// SECCOMP_FILTER_FLAG_* bits to install it with: for installers that
// load it into another process (nsjoin does, by ptrace).
func (f *Filter) Program() []unix.SockFilter {
	prog := make([]unix.SockFilter, len(f.prog))
	for i, r := range f.prog {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return prog
}

// Flags are the SECCOMP_FILTER_FLAG_* bits of the profile.
func (f *Filter) Flags() uint { return f.flags }
