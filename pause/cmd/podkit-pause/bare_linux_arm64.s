//go:build linux && arm64

#include "textflag.h"

// The bare pause for arm64: bare_linux_amd64.s, instruction for
// instruction where it can be. See bare_linux.go.
//
// Registers: SVC takes its number in R8 and arguments in R0-R5; it returns
// in R0 (-errno on failure) and leaves the rest alone. R9 is where a line
// being built ends (amd64's DI), R19 the pid or signal being reported,
// R20 a wait status. The entry's argv loop holds R21-R23; a subroutine
// that calls another keeps its return address (R30) in R24, and none of
// those nests deeper than that. R18 (the platform's), R26, R28, R29 and
// RSP are never touched, and R27 only by the assembler, as its scratch.

#define SYS_dup3		24
#define SYS_fcntl		25
#define SYS_close		57
#define SYS_lseek		62
#define SYS_read		63
#define SYS_write		64
#define SYS_ppoll		73
#define SYS_exit_group		94
#define SYS_rt_sigaction	134
#define SYS_rt_sigprocmask	135
#define SYS_rt_sigtimedwait	137
#define SYS_prctl		167
#define SYS_getpid		172
#define SYS_execve		221
#define SYS_wait4		260
#define SYS_memfd_create	279

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

// Offsets into st<>, the bare pause's only state (as on amd64).
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

// APPEND copies the n (> 0) bytes of string constant sym to R9, advancing
// R9; it clobbers R1-R3.
#define APPEND(sym, n) MOVD $sym(SB), R1; MOVD $n, R2; MOVBU.P 1(R1), R3; MOVB.P R3, 1(R9); SUBS $1, R2, R2; BNE -3(PC)

// func bareEntry()
//
// The process entry point when linked with -E=main.bareEntry. RSP points at
// argc, then argv. "--guard-wait=4 -- ARGV" is the bare guard stand-in
// (guardWait below). Anything but those and pause mode's own flags goes to
// the Go runtime's entry with the stack untouched: the Go program then
// runs as if this code did not exist.
TEXT ·bareEntry(SB), NOSPLIT|NOFRAME, $0
	MOVD	$-1, R0
	MOVD	R0, st<>+READY_FD(SB)
	MOVD	R0, st<>+EVENTS_FD(SB)
	MOVD	ZR, st<>+DROP(SB)
	MOVD	RSP, R22
	MOVD	0(R22), R21	// argc
	ADD	$8, R22	// &argv[0]
	CMP	$4, R21
	BLT	pauseArgs
	MOVD	8(R22), R1	// argv[1]
	MOVD	$·bareLitGuard(SB), R2
	MOVD	$15, R3	// with its NUL: the whole argument
	BL	prefix<>(SB)
	CBZ	R0, pauseArgs
	MOVD	16(R22), R1	// argv[2]
	MOVD	$·bareLitDashes(SB), R2
	MOVD	$3, R3
	BL	prefix<>(SB)
	CBZ	R0, pauseArgs
	B	guardWait<>(SB)
pauseArgs:
	MOVD	$1, R23
args:
	CMP	R21, R23
	BGE	argsDone
	LSL	$3, R23, R1
	ADD	R22, R1
	MOVD	(R1), R1	// argv[i]
	BL	flag<>(SB)
	CBNZ	R0, goRuntime
	ADD	$1, R23
	B	args
argsDone:
	// What Parse would refuse is for the Go program to report.
	MOVD	st<>+READY_FD(SB), R0
	TBNZ	$63, R0, dropNeedsEvents
	MOVD	st<>+EVENTS_FD(SB), R1
	CMP	R0, R1
	BEQ	goRuntime
dropNeedsEvents:
	MOVD	st<>+DROP(SB), R0
	CBZ	R0, signals
	MOVD	st<>+EVENTS_FD(SB), R0
	TBNZ	$63, R0, goRuntime
signals:
	BL	signals<>(SB)
	BL	subreaper<>(SB)
	MOVD	st<>+DROP(SB), R0
	CBZ	R0, ready
	MOVD	$SYS_fcntl, R8
	MOVD	st<>+EVENTS_FD(SB), R0
	MOVD	$F_GETFL, R1
	SVC
	TBNZ	$63, R0, ready
	ORR	$O_NONBLOCK, R0, R2
	MOVD	$SYS_fcntl, R8
	MOVD	st<>+EVENTS_FD(SB), R0
	MOVD	$F_SETFL, R1
	SVC
ready:
	MOVD	st<>+READY_FD(SB), R0
	TBNZ	$63, R0, wait
	MOVD	$SYS_write, R8
	MOVD	$·bareReady(SB), R1
	MOVD	$1, R2
	SVC
	MOVD	$SYS_close, R8
	MOVD	st<>+READY_FD(SB), R0
	SVC
wait:
	MOVD	$SYS_rt_sigtimedwait, R8
	MOVD	$st<>+SIGSET(SB), R0
	MOVD	$st<>+SIGINFO(SB), R1
	MOVD	ZR, R2
	MOVD	$8, R3
	SVC
	CMP	$SIGCHLD, R0
	BEQ	reap
	CMP	$SIGTERM, R0
	BEQ	exit
	CMP	$SIGINT, R0
	BEQ	exit
	B	wait	// -EINTR (a stop and continue)
reap:
	MOVD	$SYS_wait4, R8
	MOVD	$-1, R0
	MOVD	$st<>+STATUS(SB), R1
	MOVD	$WNOHANG_WALL, R2
	MOVD	ZR, R3
	SVC
	CMN	$EINTR, R0
	BEQ	reap
	CMP	$0, R0
	BLE	wait	// no zombie left (0), or no child at all (-ECHILD)
	MOVD	R0, R19
	MOVWU	st<>+STATUS(SB), R20
	BL	orphanEvent<>(SB)
	B	reap
exit:
	MOVD	R0, R19
	BL	signalEvent<>(SB)
	MOVD	$SYS_exit_group, R8
	MOVD	ZR, R0
	SVC
goRuntime:
	B	_rt0_arm64_linux(SB)

// guardWait is the bare stand-in for a sandbox manager's guard, as on
// amd64 (R22 at argv, R21 argc): it collects the manager's messages from
// fd 3 in gbuf<> (R19 bytes), exits 0 when the pipe ends with "bye", and
// otherwise hands them to the Go program in a memfd on fd 5 (R20 while
// it is written), executing /proc/self/exe with --guard-wait=4,5.
TEXT guardWait<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	ZR, R19
read:
	MOVD	$SYS_read, R8
	MOVD	$3, R0
	MOVD	$gbuf<>(SB), R1
	ADD	R19, R1
	MOVD	$GBUF_SIZE, R2
	SUB	R19, R2
	SVC
	CMN	$EINTR, R0
	BEQ	read
	TBNZ	$63, R0, handOver
	CBZ	R0, eof
	ADD	R0, R19
	MOVD	$GBUF_SIZE, R1
	CMP	R1, R19
	BLT	read
	B	handOver
eof:
	// "bye" is the last line: the whole buffer, or after a newline.
	CMP	$13, R19
	BLT	handOver
	MOVD	$gbuf<>(SB), R1
	ADD	R19, R1
	SUB	$13, R1
	MOVD	$·bareLitBye(SB), R2
	MOVD	$13, R3
	BL	prefix<>(SB)
	CBZ	R0, handOver
	CMP	$13, R19
	BEQ	bye
	MOVD	$gbuf<>(SB), R1
	ADD	R19, R1
	MOVBU	-14(R1), R0
	CMP	$10, R0
	BNE	handOver
bye:
	MOVD	$SYS_exit_group, R8
	MOVD	ZR, R0
	SVC
handOver:
	MOVD	$SYS_memfd_create, R8
	MOVD	$·bareLitMemfd(SB), R0
	MOVD	ZR, R1	// no MFD_CLOEXEC: the Go program reads it
	SVC
	TBNZ	$63, R0, failed
	MOVD	R0, R20
	MOVD	$gbuf<>(SB), R1
	MOVD	R19, R2
write:
	CBZ	R2, written
	MOVD	$SYS_write, R8
	MOVD	R20, R0
	SVC
	CMN	$EINTR, R0
	BEQ	write
	CMP	$0, R0
	BLE	failed
	ADD	R0, R1
	SUB	R0, R2
	B	write
written:
	MOVD	$SYS_lseek, R8
	MOVD	R20, R0
	MOVD	ZR, R1
	MOVD	ZR, R2	// SEEK_SET
	SVC
	TBNZ	$63, R0, failed
	CMP	$GUARD_READ_FD, R20
	BEQ	exec
	MOVD	$SYS_dup3, R8
	MOVD	R20, R0
	MOVD	$GUARD_READ_FD, R1
	MOVD	ZR, R2
	SVC
	TBNZ	$63, R0, failed
	MOVD	$SYS_close, R8
	MOVD	R20, R0
	SVC
exec:
	MOVD	$·bareLitGuardRead(SB), R0
	MOVD	R0, 8(R22)	// argv[1]
	MOVD	$SYS_execve, R8
	MOVD	$·bareLitSelf(SB), R0
	MOVD	R22, R1	// argv
	ADD	$1, R21, R2
	LSL	$3, R2
	ADD	R22, R2	// envp, after argv's NULL
	SVC
failed:
	MOVD	$SYS_write, R8
	MOVD	$2, R0
	MOVD	$·bareGuardFail(SB), R1
	MOVD	$44, R2
	SVC
	MOVD	$SYS_exit_group, R8
	MOVD	$1, R0
	SVC

// signals blocks the waited-for signals (they are taken with
// rt_sigtimedwait, never delivered) and sets every other one to SIG_IGN.
TEXT signals<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	$WAITED_SET, R0
	MOVD	R0, st<>+SIGSET(SB)
	MOVD	$SYS_rt_sigprocmask, R8
	MOVD	$2, R0	// SIG_SETMASK
	MOVD	$st<>+SIGSET(SB), R1
	MOVD	ZR, R2
	MOVD	$8, R3
	SVC
	MOVD	$1, R0
	MOVD	R0, st<>+SIGACT(SB)	// sa_handler = SIG_IGN; flags, restorer, mask 0
	MOVD	$1, R10
	MOVD	$KEPT_SIGNALS, R11
ignore:
	LSR	R10, R11, R12
	TBNZ	$0, R12, next
	MOVD	$SYS_rt_sigaction, R8
	MOVD	R10, R0
	MOVD	$st<>+SIGACT(SB), R1
	MOVD	ZR, R2
	MOVD	$8, R3
	SVC
next:
	ADD	$1, R10
	CMP	$64, R10
	BLE	ignore
	RET

// subreaper registers as child subreaper when not PID 1 and says so on
// stderr, as the Go program does.
TEXT subreaper<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	R30, R24
	MOVD	$SYS_getpid, R8
	SVC
	CMP	$1, R0
	BEQ	done
	MOVD	R0, R19
	MOVD	$SYS_prctl, R8
	MOVD	$PR_SET_CHILD_SUBREAPER, R0
	MOVD	$1, R1
	MOVD	ZR, R2
	MOVD	ZR, R3
	MOVD	ZR, R4
	SVC
	CBNZ	R0, failed
	MOVD	$st<>+LINE(SB), R9
	APPEND(·bareSubHead, 29)
	MOVD	R19, R0
	BL	itoa<>(SB)
	APPEND(·bareSubTail, 33)
	MOVD	$st<>+LINE(SB), R1
	SUB	R1, R9, R2
	MOVD	$2, R0
	MOVD	$SYS_write, R8
	SVC
done:
	MOVD	R24, R30
	RET
failed:
	MOVD	$SYS_write, R8
	MOVD	$2, R0
	MOVD	$·bareSubFail(SB), R1
	MOVD	$44, R2
	SVC
	MOVD	$SYS_exit_group, R8
	MOVD	$1, R0
	SVC
	B	done

// orphanEvent reports the reaped process R19 with wait status R20:
// {"event":"orphan","pid":N,"code":C} plus ,"signal":"NAME" when killed.
TEXT orphanEvent<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	st<>+EVENTS_FD(SB), R0
	TBNZ	$63, R0, out
	MOVD	R30, R24
	MOVD	$st<>+LINE(SB), R9
	APPEND(·bareOrphanHead, 24)
	MOVD	R19, R0
	BL	itoa<>(SB)
	APPEND(·bareCodeKey, 8)
	AND	$0x7f, R20, R19	// the terminating signal, 0 if it exited
	CBNZ	R19, killed
	LSR	$8, R20, R0
	AND	$0xff, R0
	BL	itoa<>(SB)
	APPEND(·bareObjEnd, 2)
	B	write
killed:
	ADD	$128, R19, R0
	BL	itoa<>(SB)
	APPEND(·bareSigKey, 11)
	MOVD	R19, R0
	BL	signame<>(SB)
	APPEND(·bareSigEnd, 3)
write:
	BL	writeEvent<>(SB)
	MOVD	R24, R30
out:
	RET

// signalEvent reports the exit on signal R19:
// {"event":"signal","signal":"SIGTERM","action":"exit"}.
TEXT signalEvent<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	st<>+EVENTS_FD(SB), R0
	TBNZ	$63, R0, out
	MOVD	R30, R24
	MOVD	$st<>+LINE(SB), R9
	APPEND(·bareSignalHead, 28)
	MOVD	R19, R0
	BL	signame<>(SB)
	APPEND(·bareSignalTail, 19)
	BL	writeEvent<>(SB)
	MOVD	R24, R30
out:
	RET

// writeEvent writes the line from st<>+LINE up to R9 to the events fd.
// A full non-blocking fd waits in ppoll, or with --events-drop drops the
// line; any other error (EPIPE: SIGPIPE is ignored) ends all reporting.
TEXT writeEvent<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	$st<>+LINE(SB), R1
	SUB	R1, R9, R2
again:
	CMP	$0, R2
	BLE	done
	MOVD	$SYS_write, R8
	MOVD	st<>+EVENTS_FD(SB), R0
	SVC
	CMP	$0, R0
	BLE	failed
	ADD	R0, R1
	SUB	R0, R2
	B	again
failed:
	CMN	$EINTR, R0
	BEQ	again
	CMN	$EAGAIN, R0
	BNE	stop
	MOVD	st<>+DROP(SB), R3
	CBNZ	R3, done
	MOVD	R1, R10
	MOVD	R2, R11
	MOVD	st<>+EVENTS_FD(SB), R0
	MOVW	R0, st<>+POLLFD(SB)
	MOVD	$POLLOUT, R0
	MOVW	R0, st<>+POLLFD+4(SB)
	MOVD	$SYS_ppoll, R8
	MOVD	$st<>+POLLFD(SB), R0
	MOVD	$1, R1
	MOVD	ZR, R2
	MOVD	ZR, R3
	MOVD	ZR, R4
	SVC
	MOVD	R10, R1
	MOVD	R11, R2
	B	again
stop:
	MOVD	$-1, R0
	MOVD	R0, st<>+EVENTS_FD(SB)
done:
	RET

// signame appends the name of signal R0 (1..64) at R9, as cli.SignalName.
TEXT signame<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	R0, R10
	APPEND(·bareSIG, 3)
	CMP	$31, R10
	BGT	realtime
	MOVD	$·bareSigNames(SB), R1
	LSL	$3, R10, R2
	ADD	R2, R1
	MOVBU.P	1(R1), R2	// the name's length, then the name
name:
	MOVBU.P	1(R1), R3
	MOVB.P	R3, 1(R9)
	SUBS	$1, R2, R2
	BNE	name
	RET
realtime:
	MOVD	R10, R0
	CMP	$34, R10
	BGE	rtmin
	B	itoa<>(SB)	// SIG32, SIG33
rtmin:
	APPEND(·bareRTMIN, 6)
	SUB	$34, R10, R0
	B	itoa<>(SB)

// itoa appends the decimal digits of R0 (>= 0) at R9.
TEXT itoa<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	$st<>+DIGITS+24(SB), R10
	MOVD	R10, R11
	MOVD	$10, R12
digit:
	UDIV	R12, R0, R13
	MUL	R12, R13, R14
	SUB	R14, R0, R14
	ADD	$'0', R14
	MOVB.W	R14, -1(R10)
	MOVD	R13, R0
	CBNZ	R0, digit
copy:
	MOVBU.P	1(R10), R14
	MOVB.P	R14, 1(R9)
	CMP	R10, R11
	BNE	copy
	RET

// flag parses argv string R1: --events-drop, --ready-fd=N or
// --events-fd=N. R0 is 0 when it did, 1 for anything else.
TEXT flag<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	R30, R24
	MOVD	R1, R10
	MOVD	$·bareLitDrop(SB), R2
	MOVD	$14, R3	// with its NUL: the whole argument
	BL	prefix<>(SB)
	CBZ	R0, readyFD
	MOVD	$1, R0
	MOVD	R0, st<>+DROP(SB)
	MOVD	ZR, R0
	B	out
readyFD:
	MOVD	R10, R1
	MOVD	$·bareLitReady(SB), R2
	MOVD	$11, R3
	BL	prefix<>(SB)
	CBZ	R0, eventsFD
	BL	fd<>(SB)
	TBNZ	$63, R0, other
	MOVD	R0, st<>+READY_FD(SB)
	MOVD	ZR, R0
	B	out
eventsFD:
	MOVD	R10, R1
	MOVD	$·bareLitEvents(SB), R2
	MOVD	$12, R3
	BL	prefix<>(SB)
	CBZ	R0, other
	BL	fd<>(SB)
	TBNZ	$63, R0, other
	MOVD	R0, st<>+EVENTS_FD(SB)
	MOVD	ZR, R0
	B	out
other:
	MOVD	$1, R0
out:
	MOVD	R24, R30
	RET

// prefix reports in R0 whether the NUL-terminated string R1 starts with
// the R3 bytes at R2 (which hold no NUL before their end), and on a match
// advances R1 past them.
TEXT prefix<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	ZR, R4
loop:
	CMP	R3, R4
	BEQ	match
	ADD	R4, R1, R7
	MOVBU	(R7), R5
	ADD	R4, R2, R7
	MOVBU	(R7), R6
	CMP	R5, R6
	BNE	differ
	ADD	$1, R4
	B	loop
match:
	ADD	R4, R1
	MOVD	$1, R0
	RET
differ:
	MOVD	ZR, R0
	RET

// fd parses the NUL-terminated decimal at R1 into R0, 0..MAX_FD, or -1.
TEXT fd<>(SB), NOSPLIT|NOFRAME, $0
	MOVD	ZR, R0
	MOVD	ZR, R4
	MOVD	$10, R6
loop:
	MOVBU	(R1), R5
	CBZ	R5, end
	SUB	$'0', R5
	CMP	$9, R5
	BHI	bad
	MUL	R6, R0, R0
	ADD	R5, R0
	CMP	$MAX_FD, R0
	BGT	bad
	ADD	$1, R1
	ADD	$1, R4
	B	loop
end:
	CBZ	R4, bad
	RET
bad:
	MOVD	$-1, R0
	RET
