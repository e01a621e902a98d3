//go:build linux && (amd64 || arm64)

#include "textflag.h"

// String constants of the bare pause (bare_linux_amd64.s, bare_linux_arm64.s).

// the whole argument, with its NUL
DATA	·bareLitDrop+0(SB)/8, $"--events"
DATA	·bareLitDrop+8(SB)/4, $"-dro"
DATA	·bareLitDrop+12(SB)/2, $"p\x00"
GLOBL	·bareLitDrop(SB), RODATA|NOPTR, $14
DATA	·bareLitReady+0(SB)/8, $"--ready-"
DATA	·bareLitReady+8(SB)/2, $"fd"
DATA	·bareLitReady+10(SB)/1, $"="
GLOBL	·bareLitReady(SB), RODATA|NOPTR, $11
DATA	·bareLitEvents+0(SB)/8, $"--events"
DATA	·bareLitEvents+8(SB)/4, $"-fd="
GLOBL	·bareLitEvents(SB), RODATA|NOPTR, $12
// the bare guard stand-in's (see guardWait)
DATA	·bareLitGuard+0(SB)/8, $"--guard-"
DATA	·bareLitGuard+8(SB)/4, $"wait"
DATA	·bareLitGuard+12(SB)/2, $"=4"
DATA	·bareLitGuard+14(SB)/1, $"\x00"
GLOBL	·bareLitGuard(SB), RODATA|NOPTR, $15
DATA	·bareLitDashes+0(SB)/2, $"--"
DATA	·bareLitDashes+2(SB)/1, $"\x00"
GLOBL	·bareLitDashes(SB), RODATA|NOPTR, $3
DATA	·bareLitGuardRead+0(SB)/8, $"--guard-"
DATA	·bareLitGuardRead+8(SB)/8, $"wait=4,5"
DATA	·bareLitGuardRead+16(SB)/1, $"\x00"
GLOBL	·bareLitGuardRead(SB), RODATA|NOPTR, $17
// the manager's last message when it ends normally (sandbox's guardBye)
DATA	·bareLitBye+0(SB)/8, $"{\"op\":\"b"
DATA	·bareLitBye+8(SB)/4, $"ye\"}"
DATA	·bareLitBye+12(SB)/1, $"\n"
GLOBL	·bareLitBye(SB), RODATA|NOPTR, $13
DATA	·bareLitMemfd+0(SB)/8, $"podkit-g"
DATA	·bareLitMemfd+8(SB)/8, $"uard-rea"
DATA	·bareLitMemfd+16(SB)/2, $"d\x00"
GLOBL	·bareLitMemfd(SB), RODATA|NOPTR, $18
DATA	·bareLitSelf+0(SB)/8, $"/proc/se"
DATA	·bareLitSelf+8(SB)/4, $"lf/e"
DATA	·bareLitSelf+12(SB)/2, $"xe"
DATA	·bareLitSelf+14(SB)/1, $"\x00"
GLOBL	·bareLitSelf(SB), RODATA|NOPTR, $15
DATA	·bareGuardFail+0(SB)/8, $"podkit-p"
DATA	·bareGuardFail+8(SB)/8, $"ause: gu"
DATA	·bareGuardFail+16(SB)/8, $"ard: han"
DATA	·bareGuardFail+24(SB)/8, $"d-over t"
DATA	·bareGuardFail+32(SB)/8, $"o Go fai"
DATA	·bareGuardFail+40(SB)/4, $"led\n"
GLOBL	·bareGuardFail(SB), RODATA|NOPTR, $44
// the subreaper notice, as the Go program writes it
DATA	·bareSubHead+0(SB)/8, $"podkit-p"
DATA	·bareSubHead+8(SB)/8, $"ause: no"
DATA	·bareSubHead+16(SB)/8, $"t PID 1 "
DATA	·bareSubHead+24(SB)/4, $"(pid"
DATA	·bareSubHead+28(SB)/1, $" "
GLOBL	·bareSubHead(SB), RODATA|NOPTR, $29
DATA	·bareSubTail+0(SB)/8, $"): regis"
DATA	·bareSubTail+8(SB)/8, $"tered as"
DATA	·bareSubTail+16(SB)/8, $" child s"
DATA	·bareSubTail+24(SB)/8, $"ubreaper"
DATA	·bareSubTail+32(SB)/1, $"\n"
GLOBL	·bareSubTail(SB), RODATA|NOPTR, $33
DATA	·bareSubFail+0(SB)/8, $"podkit-p"
DATA	·bareSubFail+8(SB)/8, $"ause: PR"
DATA	·bareSubFail+16(SB)/8, $"_SET_CHI"
DATA	·bareSubFail+24(SB)/8, $"LD_SUBRE"
DATA	·bareSubFail+32(SB)/8, $"APER fai"
DATA	·bareSubFail+40(SB)/4, $"led\n"
GLOBL	·bareSubFail(SB), RODATA|NOPTR, $44
// event lines, as cli.AppendJSON writes them
DATA	·bareOrphanHead+0(SB)/8, $"{\"event\""
DATA	·bareOrphanHead+8(SB)/8, $":\"orphan"
DATA	·bareOrphanHead+16(SB)/8, $"\",\"pid\":"
GLOBL	·bareOrphanHead(SB), RODATA|NOPTR, $24
DATA	·bareCodeKey+0(SB)/8, $",\"code\":"
GLOBL	·bareCodeKey(SB), RODATA|NOPTR, $8
DATA	·bareSigKey+0(SB)/8, $",\"signal"
DATA	·bareSigKey+8(SB)/2, $"\":"
DATA	·bareSigKey+10(SB)/1, $"\""
GLOBL	·bareSigKey(SB), RODATA|NOPTR, $11
DATA	·bareSigEnd+0(SB)/2, $"\"}"
DATA	·bareSigEnd+2(SB)/1, $"\n"
GLOBL	·bareSigEnd(SB), RODATA|NOPTR, $3
DATA	·bareObjEnd+0(SB)/2, $"}\n"
GLOBL	·bareObjEnd(SB), RODATA|NOPTR, $2
DATA	·bareSignalHead+0(SB)/8, $"{\"event\""
DATA	·bareSignalHead+8(SB)/8, $":\"signal"
DATA	·bareSignalHead+16(SB)/8, $"\",\"signa"
DATA	·bareSignalHead+24(SB)/4, $"l\":\""
GLOBL	·bareSignalHead(SB), RODATA|NOPTR, $28
DATA	·bareSignalTail+0(SB)/8, $"\",\"actio"
DATA	·bareSignalTail+8(SB)/8, $"n\":\"exit"
DATA	·bareSignalTail+16(SB)/2, $"\"}"
DATA	·bareSignalTail+18(SB)/1, $"\n"
GLOBL	·bareSignalTail(SB), RODATA|NOPTR, $19
// signal names, as cli.SignalName spells them
DATA	·bareSIG+0(SB)/2, $"SI"
DATA	·bareSIG+2(SB)/1, $"G"
GLOBL	·bareSIG(SB), RODATA|NOPTR, $3
DATA	·bareRTMIN+0(SB)/4, $"RTMI"
DATA	·bareRTMIN+4(SB)/2, $"N+"
GLOBL	·bareRTMIN(SB), RODATA|NOPTR, $6
// the ready byte
DATA	·bareReady+0(SB)/1, $"R"
GLOBL	·bareReady(SB), RODATA|NOPTR, $1

// bareSigNames holds, in the 8 bytes at 8*N, the length of signal N's name
// after "SIG" (N = 1..31), then that name.
DATA	·bareSigNames+8(SB)/8, $"\x03HUP\x00\x00\x00\x00"
DATA	·bareSigNames+16(SB)/8, $"\x03INT\x00\x00\x00\x00"
DATA	·bareSigNames+24(SB)/8, $"\x04QUIT\x00\x00\x00"
DATA	·bareSigNames+32(SB)/8, $"\x03ILL\x00\x00\x00\x00"
DATA	·bareSigNames+40(SB)/8, $"\x04TRAP\x00\x00\x00"
DATA	·bareSigNames+48(SB)/8, $"\x04ABRT\x00\x00\x00"
DATA	·bareSigNames+56(SB)/8, $"\x03BUS\x00\x00\x00\x00"
DATA	·bareSigNames+64(SB)/8, $"\x03FPE\x00\x00\x00\x00"
DATA	·bareSigNames+72(SB)/8, $"\x04KILL\x00\x00\x00"
DATA	·bareSigNames+80(SB)/8, $"\x04USR1\x00\x00\x00"
DATA	·bareSigNames+88(SB)/8, $"\x04SEGV\x00\x00\x00"
DATA	·bareSigNames+96(SB)/8, $"\x04USR2\x00\x00\x00"
DATA	·bareSigNames+104(SB)/8, $"\x04PIPE\x00\x00\x00"
DATA	·bareSigNames+112(SB)/8, $"\x04ALRM\x00\x00\x00"
DATA	·bareSigNames+120(SB)/8, $"\x04TERM\x00\x00\x00"
DATA	·bareSigNames+128(SB)/8, $"\x06STKFLT\x00"
DATA	·bareSigNames+136(SB)/8, $"\x04CHLD\x00\x00\x00"
DATA	·bareSigNames+144(SB)/8, $"\x04CONT\x00\x00\x00"
DATA	·bareSigNames+152(SB)/8, $"\x04STOP\x00\x00\x00"
DATA	·bareSigNames+160(SB)/8, $"\x04TSTP\x00\x00\x00"
DATA	·bareSigNames+168(SB)/8, $"\x04TTIN\x00\x00\x00"
DATA	·bareSigNames+176(SB)/8, $"\x04TTOU\x00\x00\x00"
DATA	·bareSigNames+184(SB)/8, $"\x03URG\x00\x00\x00\x00"
DATA	·bareSigNames+192(SB)/8, $"\x04XCPU\x00\x00\x00"
DATA	·bareSigNames+200(SB)/8, $"\x04XFSZ\x00\x00\x00"
DATA	·bareSigNames+208(SB)/8, $"\x06VTALRM\x00"
DATA	·bareSigNames+216(SB)/8, $"\x04PROF\x00\x00\x00"
DATA	·bareSigNames+224(SB)/8, $"\x05WINCH\x00\x00"
DATA	·bareSigNames+232(SB)/8, $"\x02IO\x00\x00\x00\x00\x00"
DATA	·bareSigNames+240(SB)/8, $"\x03PWR\x00\x00\x00\x00"
DATA	·bareSigNames+248(SB)/8, $"\x03SYS\x00\x00\x00\x00"
GLOBL	·bareSigNames(SB), RODATA|NOPTR, $256
