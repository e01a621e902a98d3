//go:build linux && amd64

#include "textflag.h"

// The bare pause: pause mode without the Go runtime. See bare_linux.go.
//
// Registers: SYSCALL takes its number in AX and arguments in DI, SI, DX,
// R10, R8; it returns in AX (-errno on failure) and clobbers CX and R11.
// The subroutines below (file-local, called with CALL) take their
// arguments in the registers their comments name, advance DI where they
// append, and may clobber every register but SP and R12-R14, which hold
// the entry's argv loop.

#define SYS_read		0
#define SYS_write		1
#define SYS_close		3
#define SYS_lseek		8
#define SYS_execve		59
#define SYS_rt_sigaction	13
#define SYS_rt_sigprocmask	14
#define SYS_getpid		39
#define SYS_wait4		61
#define SYS_fcntl		72
#define SYS_rt_sigtimedwait	128
#define SYS_prctl		157
#define SYS_exit_group		231
#define SYS_ppoll		271
#define SYS_dup3		292
#define SYS_memfd_create	319

#define SIGINT	2
#define SIGTERM	15
#define SIGCHLD	17
// Bit N-1 for signal N: the signals taken synchronously.
#define WAITED_SET	0x14002
// Bit N for signal N: the signals left alone (SIGINT, SIGKILL, SIGTERM,
// SIGCHLD, SIGSTOP); every other one is set to SIG_IGN.
#define KEPT_SIGNALS	0xA8204

#define EINTR	4
#define EAGAIN	11
#define WNOHANG_WALL	0x40000001
#define F_GETFL	3
#define F_SETFL	4
#define O_NONBLOCK	0x800
#define POLLOUT	4
#define PR_SET_CHILD_SUBREAPER	36
#define MAX_FD	0x100000

// The bare guard stand-in's buffer and the descriptor it hands it over on.
#define GBUF_SIZE	262144
#define GUARD_READ_FD	5
GLOBL	gbuf<>(SB), NOPTR, $GBUF_SIZE

// Offsets into st<>, the bare pause's only state.
#define READY_FD	0	// --ready-fd, -1 for none
#define EVENTS_FD	8	// --events-fd, -1 for none (or after the reader went away)
#define DROP	16	// --events-drop: 1
#define SIGSET	24	// the waited-for signals
#define STATUS	32	// wait4's status
#define POLLFD	40	// struct pollfd for the events fd
#define SIGACT	48	// struct sigaction for SIG_IGN (32 bytes)
#define SIGINFO	80	// rt_sigtimedwait's siginfo (128 bytes)
#define DIGITS	208	// itoa's scratch (24 bytes)
#define LINE	256	// the line being written (256 bytes)
GLOBL	st<>(SB), NOPTR, $512

// APPEND copies the n bytes of string constant sym to DI, advancing DI.
#define APPEND(sym, n) LEAQ sym(SB), SI; MOVQ $n, CX; REP; MOVSB

// func bareEntry()
//
// The process entry point when linked with -E=main.bareEntry. SP points at
// argc, then argv. "--guard-wait=4 -- ARGV" is the bare guard stand-in
// (guardWait below). Anything but those and pause mode's own flags goes to
// the Go runtime's entry with the stack untouched: the Go program then
// runs as if this code did not exist.
TEXT ·bareEntry(SB), NOSPLIT|NOFRAME, $0
	MOVQ	$-1, st<>+READY_FD(SB)
	MOVQ	$-1, st<>+EVENTS_FD(SB)
	MOVQ	$0, st<>+DROP(SB)
	MOVQ	SP, R13
	MOVQ	0(R13), R12	// argc
	CMPQ	R12, $4
	JLT	pauseArgs
	MOVQ	16(R13), SI	// argv[1]
	LEAQ	·bareLitGuard(SB), DI
	MOVQ	$15, CX	// with its NUL: the whole argument
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	pauseArgs
	MOVQ	24(R13), SI	// argv[2]
	LEAQ	·bareLitDashes(SB), DI
	MOVQ	$3, CX
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	pauseArgs
	JMP	guardWait<>(SB)
pauseArgs:
	MOVQ	$1, R14
args:
	CMPQ	R14, R12
	JGE	argsDone
	MOVQ	8(R13)(R14*8), SI	// argv[i]
	CALL	flag<>(SB)
	TESTQ	AX, AX
	JNZ	goRuntime
	INCQ	R14
	JMP	args
argsDone:
	// What Parse would refuse is for the Go program to report.
	MOVQ	st<>+READY_FD(SB), AX
	TESTQ	AX, AX
	JS	dropNeedsEvents
	CMPQ	AX, st<>+EVENTS_FD(SB)
	JEQ	goRuntime
dropNeedsEvents:
	CMPQ	st<>+DROP(SB), $0
	JEQ	signals
	CMPQ	st<>+EVENTS_FD(SB), $0
	JLT	goRuntime
signals:
	CALL	signals<>(SB)
	CALL	subreaper<>(SB)
	CMPQ	st<>+DROP(SB), $0
	JEQ	ready
	MOVQ	$SYS_fcntl, AX
	MOVQ	st<>+EVENTS_FD(SB), DI
	MOVQ	$F_GETFL, SI
	SYSCALL
	TESTQ	AX, AX
	JS	ready
	ORQ	$O_NONBLOCK, AX
	MOVQ	AX, DX
	MOVQ	$SYS_fcntl, AX
	MOVQ	st<>+EVENTS_FD(SB), DI
	MOVQ	$F_SETFL, SI
	SYSCALL
ready:
	MOVQ	st<>+READY_FD(SB), DI
	TESTQ	DI, DI
	JS	wait
	MOVQ	$SYS_write, AX
	LEAQ	·bareReady(SB), SI
	MOVQ	$1, DX
	SYSCALL
	MOVQ	$SYS_close, AX
	MOVQ	st<>+READY_FD(SB), DI
	SYSCALL
wait:
	MOVQ	$SYS_rt_sigtimedwait, AX
	LEAQ	st<>+SIGSET(SB), DI
	LEAQ	st<>+SIGINFO(SB), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $SIGCHLD
	JEQ	reap
	CMPQ	AX, $SIGTERM
	JEQ	exit
	CMPQ	AX, $SIGINT
	JEQ	exit
	JMP	wait	// -EINTR (a stop and continue)
reap:
	MOVQ	$SYS_wait4, AX
	MOVQ	$-1, DI
	LEAQ	st<>+STATUS(SB), SI
	MOVQ	$WNOHANG_WALL, DX
	XORQ	R10, R10
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	reap
	TESTQ	AX, AX
	JLE	wait	// no zombie left (0), or no child at all (-ECHILD)
	MOVQ	AX, R15
	MOVL	st<>+STATUS(SB), BX
	CALL	orphanEvent<>(SB)
	JMP	reap
exit:
	MOVQ	AX, R15
	CALL	signalEvent<>(SB)
	MOVQ	$SYS_exit_group, AX
	XORQ	DI, DI
	SYSCALL
goRuntime:
	JMP	_rt0_amd64_linux(SB)

// guardWait is the bare stand-in for a sandbox manager's guard, run as
// the sandbox package starts it (--guard-wait=4 -- ARGV, R13 at argc): it
// collects the manager's messages from fd 3 in gbuf<> without reading
// them. When the pipe ends with the manager's "bye", it exits 0. In every
// other case (the manager died, the buffer is full, a read failed) it
// hands what it read to the Go program (guardwait.go), which keeps only
// the registered sandboxes' messages and goes on from there: the bytes in
// a memfd on fd 5, the same argv with --guard-wait=4,5, from
// /proc/self/exe.
TEXT guardWait<>(SB), NOSPLIT|NOFRAME, $0
	XORQ	R15, R15	// bytes held
read:
	MOVQ	$SYS_read, AX
	MOVQ	$3, DI
	LEAQ	gbuf<>(SB), SI
	ADDQ	R15, SI
	MOVQ	$GBUF_SIZE, DX
	SUBQ	R15, DX
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	read
	TESTQ	AX, AX
	JS	handOver
	JZ	eof
	ADDQ	AX, R15
	CMPQ	R15, $GBUF_SIZE
	JLT	read
	JMP	handOver
eof:
	// "bye" is the last line: the whole buffer, or after a newline.
	CMPQ	R15, $13
	JLT	handOver
	LEAQ	gbuf<>(SB), SI
	LEAQ	-13(SI)(R15*1), SI
	LEAQ	·bareLitBye(SB), DI
	MOVQ	$13, CX
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	handOver
	CMPQ	R15, $13
	JEQ	bye
	LEAQ	gbuf<>(SB), SI
	MOVBQZX	-14(SI)(R15*1), AX
	CMPQ	AX, $10
	JNE	handOver
bye:
	MOVQ	$SYS_exit_group, AX
	XORQ	DI, DI
	SYSCALL
handOver:
	MOVQ	$SYS_memfd_create, AX
	LEAQ	·bareLitMemfd(SB), DI
	XORQ	SI, SI	// no MFD_CLOEXEC: the Go program reads it
	SYSCALL
	TESTQ	AX, AX
	JS	failed
	MOVQ	AX, R14
	LEAQ	gbuf<>(SB), SI
	MOVQ	R15, DX
write:
	TESTQ	DX, DX
	JLE	written
	MOVQ	$SYS_write, AX
	MOVQ	R14, DI
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	write
	TESTQ	AX, AX
	JLE	failed
	ADDQ	AX, SI
	SUBQ	AX, DX
	JMP	write
written:
	MOVQ	$SYS_lseek, AX
	MOVQ	R14, DI
	XORQ	SI, SI
	XORQ	DX, DX	// SEEK_SET
	SYSCALL
	TESTQ	AX, AX
	JS	failed
	CMPQ	R14, $GUARD_READ_FD
	JEQ	exec
	MOVQ	$SYS_dup3, AX
	MOVQ	R14, DI
	MOVQ	$GUARD_READ_FD, SI
	XORQ	DX, DX
	SYSCALL
	TESTQ	AX, AX
	JS	failed
	MOVQ	$SYS_close, AX
	MOVQ	R14, DI
	SYSCALL
exec:
	LEAQ	·bareLitGuardRead(SB), AX
	MOVQ	AX, 16(R13)	// argv[1]
	MOVQ	$SYS_execve, AX
	LEAQ	·bareLitSelf(SB), DI
	LEAQ	8(R13), SI	// argv
	MOVQ	0(R13), DX
	LEAQ	16(R13)(DX*8), DX	// envp, after argv's NULL
	SYSCALL
failed:
	MOVQ	$SYS_write, AX
	MOVQ	$2, DI
	LEAQ	·bareGuardFail(SB), SI
	MOVQ	$44, DX
	SYSCALL
	MOVQ	$SYS_exit_group, AX
	MOVQ	$1, DI
	SYSCALL

// signals blocks the waited-for signals (they are taken with
// rt_sigtimedwait, never delivered) and sets every other one to SIG_IGN.
TEXT signals<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ	$WAITED_SET, AX
	MOVQ	AX, st<>+SIGSET(SB)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$2, DI	// SIG_SETMASK
	LEAQ	st<>+SIGSET(SB), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$1, st<>+SIGACT(SB)	// sa_handler = SIG_IGN; flags, restorer, mask 0
	MOVQ	$1, BX
ignore:
	MOVQ	$KEPT_SIGNALS, AX
	BTQ	BX, AX
	JCS	next
	MOVQ	$SYS_rt_sigaction, AX
	MOVQ	BX, DI
	LEAQ	st<>+SIGACT(SB), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
next:
	INCQ	BX
	CMPQ	BX, $64
	JLE	ignore
	RET

// subreaper registers as child subreaper when not PID 1 and says so on
// stderr, as the Go program does.
TEXT subreaper<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ	$SYS_getpid, AX
	SYSCALL
	CMPQ	AX, $1
	JEQ	done
	MOVQ	AX, R15
	MOVQ	$SYS_prctl, AX
	MOVQ	$PR_SET_CHILD_SUBREAPER, DI
	MOVQ	$1, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	TESTQ	AX, AX
	JNZ	failed
	LEAQ	st<>+LINE(SB), DI
	APPEND(·bareSubHead, 29)
	MOVQ	R15, AX
	CALL	itoa<>(SB)
	APPEND(·bareSubTail, 33)
	LEAQ	st<>+LINE(SB), SI
	MOVQ	DI, DX
	SUBQ	SI, DX
	MOVQ	$2, DI
	MOVQ	$SYS_write, AX
	SYSCALL
done:
	RET
failed:
	MOVQ	$SYS_write, AX
	MOVQ	$2, DI
	LEAQ	·bareSubFail(SB), SI
	MOVQ	$44, DX
	SYSCALL
	MOVQ	$SYS_exit_group, AX
	MOVQ	$1, DI
	SYSCALL
	RET

// orphanEvent reports the reaped process R15 with wait status BX:
// {"event":"orphan","pid":N,"code":C} plus ,"signal":"NAME" when killed.
TEXT orphanEvent<>(SB), NOSPLIT|NOFRAME, $0
	CMPQ	st<>+EVENTS_FD(SB), $0
	JLT	done
	LEAQ	st<>+LINE(SB), DI
	APPEND(·bareOrphanHead, 24)
	MOVQ	R15, AX
	CALL	itoa<>(SB)
	APPEND(·bareCodeKey, 8)
	MOVQ	BX, R15
	ANDQ	$0x7f, R15	// the terminating signal, 0 if it exited
	JNZ	killed
	MOVQ	BX, AX
	SHRQ	$8, AX
	ANDQ	$0xff, AX
	CALL	itoa<>(SB)
	APPEND(·bareObjEnd, 2)
	JMP	write
killed:
	MOVQ	R15, AX
	ADDQ	$128, AX
	CALL	itoa<>(SB)
	APPEND(·bareSigKey, 11)
	MOVQ	R15, AX
	CALL	signame<>(SB)
	APPEND(·bareSigEnd, 3)
write:
	CALL	writeEvent<>(SB)
done:
	RET

// signalEvent reports the exit on signal R15:
// {"event":"signal","signal":"SIGTERM","action":"exit"}.
TEXT signalEvent<>(SB), NOSPLIT|NOFRAME, $0
	CMPQ	st<>+EVENTS_FD(SB), $0
	JLT	done
	LEAQ	st<>+LINE(SB), DI
	APPEND(·bareSignalHead, 28)
	MOVQ	R15, AX
	CALL	signame<>(SB)
	APPEND(·bareSignalTail, 19)
	CALL	writeEvent<>(SB)
done:
	RET

// writeEvent writes the line from st<>+LINE up to DI to the events fd.
// A full non-blocking fd waits in ppoll, or with --events-drop drops the
// line; any other error (EPIPE: SIGPIPE is ignored) ends all reporting.
TEXT writeEvent<>(SB), NOSPLIT|NOFRAME, $0
	LEAQ	st<>+LINE(SB), SI
	MOVQ	DI, DX
	SUBQ	SI, DX
again:
	TESTQ	DX, DX
	JLE	done
	MOVQ	$SYS_write, AX
	MOVQ	st<>+EVENTS_FD(SB), DI
	SYSCALL
	TESTQ	AX, AX
	JLE	failed
	ADDQ	AX, SI
	SUBQ	AX, DX
	JMP	again
failed:
	CMPQ	AX, $-EINTR
	JEQ	again
	CMPQ	AX, $-EAGAIN
	JNE	stop
	CMPQ	st<>+DROP(SB), $0
	JNE	done
	MOVQ	SI, R8	// ppoll's fifth argument is ignored with no sigmask
	MOVQ	DX, R9
	MOVQ	st<>+EVENTS_FD(SB), AX
	MOVL	AX, st<>+POLLFD(SB)
	MOVL	$POLLOUT, st<>+POLLFD+4(SB)
	MOVQ	$SYS_ppoll, AX
	LEAQ	st<>+POLLFD(SB), DI
	MOVQ	$1, SI
	XORQ	DX, DX
	XORQ	R10, R10
	SYSCALL
	MOVQ	R8, SI
	MOVQ	R9, DX
	JMP	again
stop:
	MOVQ	$-1, st<>+EVENTS_FD(SB)
done:
	RET

// signame appends the name of signal AX (1..64) at DI, as cli.SignalName.
TEXT signame<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ	AX, R9
	APPEND(·bareSIG, 3)
	MOVQ	R9, AX
	CMPQ	AX, $31
	JGT	realtime
	LEAQ	·bareSigNames(SB), SI
	LEAQ	(SI)(AX*8), SI
	MOVBQZX	(SI), CX
	INCQ	SI
	REP;	MOVSB
	RET
realtime:
	CMPQ	AX, $34
	JGE	rtmin
	JMP	itoa<>(SB)	// SIG32, SIG33
rtmin:
	APPEND(·bareRTMIN, 6)
	LEAQ	-34(R9), AX
	JMP	itoa<>(SB)

// itoa appends the decimal digits of AX (>= 0) at DI.
TEXT itoa<>(SB), NOSPLIT|NOFRAME, $0
	LEAQ	st<>+DIGITS+24(SB), R8
	MOVQ	R8, R9
	MOVQ	$10, CX
digit:
	XORQ	DX, DX
	DIVQ	CX
	ADDQ	$'0', DX
	DECQ	R8
	MOVB	DX, (R8)
	TESTQ	AX, AX
	JNZ	digit
	MOVQ	R8, SI
	MOVQ	R9, CX
	SUBQ	R8, CX
	REP;	MOVSB
	RET

// flag parses argv string SI: --events-drop, --ready-fd=N or
// --events-fd=N. AX is 0 when it did, 1 for anything else.
TEXT flag<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ	SI, BX
	LEAQ	·bareLitDrop(SB), DI
	MOVQ	$14, CX	// with its NUL: the whole argument
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	readyFD
	MOVQ	$1, st<>+DROP(SB)
	XORQ	AX, AX
	RET
readyFD:
	MOVQ	BX, SI
	LEAQ	·bareLitReady(SB), DI
	MOVQ	$11, CX
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	eventsFD
	CALL	fd<>(SB)
	TESTQ	AX, AX
	JS	other
	MOVQ	AX, st<>+READY_FD(SB)
	XORQ	AX, AX
	RET
eventsFD:
	MOVQ	BX, SI
	LEAQ	·bareLitEvents(SB), DI
	MOVQ	$12, CX
	CALL	prefix<>(SB)
	TESTQ	AX, AX
	JZ	other
	CALL	fd<>(SB)
	TESTQ	AX, AX
	JS	other
	MOVQ	AX, st<>+EVENTS_FD(SB)
	XORQ	AX, AX
	RET
other:
	MOVQ	$1, AX
	RET

// prefix reports in AX whether the NUL-terminated string SI starts with
// the CX bytes at DI (which hold no NUL before their end), and on a match
// advances SI past them.
TEXT prefix<>(SB), NOSPLIT|NOFRAME, $0
	XORQ	R8, R8
loop:
	CMPQ	R8, CX
	JEQ	match
	MOVBQZX	(SI)(R8*1), AX
	MOVBQZX	(DI)(R8*1), DX
	CMPQ	AX, DX
	JNE	differ
	INCQ	R8
	JMP	loop
match:
	ADDQ	R8, SI
	MOVQ	$1, AX
	RET
differ:
	XORQ	AX, AX
	RET

// fd parses the NUL-terminated decimal at SI into AX, 0..MAX_FD, or -1.
TEXT fd<>(SB), NOSPLIT|NOFRAME, $0
	XORQ	AX, AX
	XORQ	CX, CX
loop:
	MOVBQZX	(SI), DX
	TESTQ	DX, DX
	JZ	end
	SUBQ	$'0', DX
	CMPQ	DX, $9
	JHI	bad
	IMULQ	$10, AX
	ADDQ	DX, AX
	CMPQ	AX, $MAX_FD
	JGT	bad
	INCQ	SI
	INCQ	CX
	JMP	loop
end:
	TESTQ	CX, CX
	JZ	bad
	RET
bad:
	MOVQ	$-1, AX
	RET
