//go:build linux && amd64

package nsjoin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/podkit/podkit/nsjoin/seccomp"
	"golang.org/x/sys/unix"
)

func seccompSupported() error { return nil }

// redZone is the part below the stack pointer the amd64 ABI lets a
// leaf function use: the program is written below it.
const redZone = 128

// injectSeccomp makes the traced child pid, stopped right after its
// execve (before the first instruction of the new program), call
// seccomp(SECCOMP_SET_MODE_FILTER) on f: the program goes onto its stack
// (below the red zone; exec leaves about 128 KiB of stack mapped below
// the arguments), a syscall instruction replaces the bytes at its
// instruction pointer for one single-step, then text and registers are
// restored. It runs on the tracer thread (the one that forked pid).
func injectSeccomp(pid int, f *seccomp.Filter) error {
	fail := func(step string, err error) error {
		return fmt.Errorf("%w: %s: %w", ErrSeccomp, step, err)
	}
	var saved unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &saved); err != nil {
		return fail("ptrace getregs", err)
	}
	prog := f.Program()
	size := 16 + 8*len(prog) // struct sock_fprog, then the instructions
	addr := (saved.Rsp - redZone - uint64(size)) &^ 15
	buf := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint16(buf[0:], uint16(len(prog)))
	le.PutUint64(buf[8:], addr+16)
	for i, in := range prog {
		o := 16 + 8*i
		le.PutUint16(buf[o:], in.Code)
		buf[o+2], buf[o+3] = in.Jt, in.Jf
		le.PutUint32(buf[o+4:], in.K)
	}
	if err := writeMem(pid, addr, buf); err != nil {
		return fail("write program", err)
	}
	ret, err := injectSyscall(pid, &saved, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uint64(f.Flags()), addr)
	if err == nil && ret == -int64(unix.EACCES) {
		// Neither no_new_privs nor CAP_SYS_ADMIN: the kernel wants the
		// former before an unprivileged process may filter itself.
		if ret, err = injectSyscall(pid, &saved, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err == nil && ret == 0 {
			ret, err = injectSyscall(pid, &saved, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uint64(f.Flags()), addr)
		}
	}
	switch {
	case err != nil:
		return fail("inject", err)
	case ret < 0:
		return fail("seccomp", unix.Errno(-ret))
	}
	return nil
}

// injectSyscall makes the stopped tracee run one system call with the
// given arguments at its instruction pointer (saved: its registers at the
// stop) and returns the call's raw result; text and registers are back as
// saved afterwards.
func injectSyscall(pid int, saved *unix.PtraceRegs, nr, a0, a1, a2 uint64) (int64, error) {
	var text [8]byte
	if _, err := unix.PtracePeekText(pid, uintptr(saved.Rip), text[:]); err != nil {
		return 0, fmt.Errorf("ptrace peektext: %w", err)
	}
	code := text
	code[0], code[1] = 0x0f, 0x05 // syscall
	if _, err := unix.PtracePokeText(pid, uintptr(saved.Rip), code[:]); err != nil {
		return 0, fmt.Errorf("ptrace poketext: %w", err)
	}
	regs := *saved
	regs.Rax, regs.Orig_rax = nr, ^uint64(0) // no syscall to restart
	regs.Rdi, regs.Rsi, regs.Rdx = a0, a1, a2
	err := unix.PtraceSetRegs(pid, &regs)
	if err == nil {
		err = step(pid)
	}
	if err == nil {
		err = unix.PtraceGetRegs(pid, &regs)
	}
	// Restore the program as exec left it, whatever happened.
	_, terr := unix.PtracePokeText(pid, uintptr(saved.Rip), text[:])
	rerr := unix.PtraceSetRegs(pid, saved)
	switch {
	case err != nil:
		return 0, fmt.Errorf("single-step: %w", err)
	case regs.Rip != saved.Rip+2:
		return 0, fmt.Errorf("single-step stopped at %#x, not after the syscall at %#x", regs.Rip, saved.Rip)
	case terr != nil:
		return 0, fmt.Errorf("restore text: %w", terr)
	case rerr != nil:
		return 0, fmt.Errorf("restore registers: %w", rerr)
	}
	return int64(regs.Rax), nil
}

// step runs the stopped tracee for one instruction (dropping the SIGTRAP
// of its exec stop) and waits until it stops again.
func step(pid int) error {
	if err := unix.PtraceSingleStep(pid); err != nil {
		return err
	}
	trapped, err := waitTrapped(pid)
	if err != nil {
		return err
	}
	if !trapped {
		return errors.New("child ended during the step")
	}
	// Consume the stop, so Wait later sees only the exit.
	var ws unix.WaitStatus
	_, err = unix.Wait4(pid, &ws, unix.WALL|unix.WNOHANG, nil)
	return err
}

// writeMem writes buf into pid's memory at addr: one process_vm_writev,
// or word by word through ptrace where that is refused.
func writeMem(pid int, addr uint64, buf []byte) error {
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	if n, err := unix.ProcessVMWritev(pid, local, remote, 0); err == nil && n == len(buf) {
		return nil
	}
	_, err := unix.PtracePokeData(pid, uintptr(addr), buf)
	return err
}

// injectDeathSig makes the traced child pid, stopped at its exec, call
// prctl(PR_SET_PDEATHSIG, sig): the signal it gets when the thread that
// forked it (its tracer, alive while it does this) ends.
func injectDeathSig(pid int, sig syscall.Signal) error {
	var saved unix.PtraceRegs
	if err := unix.PtraceGetRegs(pid, &saved); err != nil {
		return os.NewSyscallError("ptrace getregs", err)
	}
	ret, err := injectSyscall(pid, &saved, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uint64(sig), 0)
	switch {
	case err != nil:
		return fmt.Errorf("parent-death signal: %w", err)
	case ret < 0:
		return os.NewSyscallError("prctl PR_SET_PDEATHSIG", unix.Errno(-ret))
	}
	return nil
}
