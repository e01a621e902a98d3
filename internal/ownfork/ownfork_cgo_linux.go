//go:build linux && cgo && amd64

package ownfork

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

enum { OF_MAX_FILES = 6, OF_MAX_GROUPS = 64, OF_MAX_CAPS = 64, OF_STACK = 64 * 1024 };

struct of_req {
	const char *path, *dir; // dir NULL: keep the thread's
	char **argv, **envp;
	int below;                          // the child keeps only descriptors < below
	int nfiles, files[OF_MAX_FILES];    // slots (< below) that become 0..nfiles-1
	int setsid, setctty, ctty;
	int pdeathsig, ppid, ptrace;
	int setcred, setgroups, ngroups;
	unsigned int uid, gid, groups[OF_MAX_GROUPS];
	int ncaps, caps[OF_MAX_CAPS];
	int err, step; // out: the child's errno and the step that failed
};

struct of_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

// of_nofile is RLIMIT_NOFILE as the process started, read before the Go
// runtime raises the soft limit (syscall's init): syscall.ForkExec's
// children get the original back, and so do of_child's.
static struct rlimit of_nofile;
__attribute__((constructor)) static void of_save_nofile(void) {
	if (getrlimit(RLIMIT_NOFILE, &of_nofile) != 0)
		of_nofile.rlim_max = 0;
}

static void of_fail(struct of_req *r, int step) {
	r->err = errno;
	r->step = step;
	syscall(SYS_exit_group, 127);
}

// of_signals_default: the manager's (Go's) handlers must not run in the
// child; every signal has been blocked since the clone. The handled ones
// go back to their default, as exec would, and the mask is emptied.
static void of_signals_default(void) {
	for (int sig = 1; sig <= 64; sig++) {
		struct of_ksigaction old, dfl;
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, 8) != 0)
			continue;
		if (old.handler == (void *)SIG_DFL || old.handler == (void *)SIG_IGN)
			continue;
		memset(&dfl, 0, sizeof dfl);
		syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	}
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
}

// of_credentials: groups, gid, uid (raw syscalls: this child is no
// pthread, libc's set*id would signal the manager's threads), then the
// ambient capabilities, as syscall.ForkExec's child does.
static void of_credentials(struct of_req *r) {
	if (r->ncaps > 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		of_fail(r, 4);
	if (r->setcred) {
		if (r->setgroups && syscall(SYS_setgroups, r->ngroups, r->groups) != 0)
			of_fail(r, 4);
		if (syscall(SYS_setgid, r->gid) != 0 || syscall(SYS_setuid, r->uid) != 0)
			of_fail(r, 4);
	}
	if (r->ncaps == 0)
		return;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) != 0)
		of_fail(r, 5);
	for (int i = 0; i < r->ncaps; i++) {
		data[r->caps[i] >> 5].permitted |= 1U << (r->caps[i] & 31);
		data[r->caps[i] >> 5].inheritable |= 1U << (r->caps[i] & 31);
	}
	if (syscall(SYS_capset, &hdr, data) != 0)
		of_fail(r, 5);
	for (int i = 0; i < r->ncaps; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, r->caps[i], 0, 0) != 0)
			of_fail(r, 5);
}

// of_files puts the slots on 0..nfiles-1 (without close-on-exec) and
// closes everything else.
static void of_files(struct of_req *r) {
	int high[OF_MAX_FILES];
	for (int i = 0; i < r->nfiles; i++) {
		high[i] = fcntl(r->files[i], F_DUPFD_CLOEXEC, r->below + OF_MAX_FILES); // above every target
		if (high[i] < 0)
			of_fail(r, 7);
	}
	for (int i = 0; i < r->nfiles; i++)
		if (dup2(high[i], i) < 0)
			of_fail(r, 7);
	syscall(SYS_close_range, r->nfiles, ~0U, 0);
}

// of_child runs on its own stack in the manager's memory (CLONE_VM), with
// the manager's descriptor table (CLONE_FILES) until its first step. It
// never returns.
static int of_child(void *arg) {
	struct of_req *r = arg;
	if (syscall(SYS_close_range, r->below, ~0U, CLOSE_RANGE_UNSHARE) != 0)
		of_fail(r, 1);
	if (r->setsid && setsid() < 0)
		of_fail(r, 2);
	of_signals_default();
	of_credentials(r);
	if (r->dir && chdir(r->dir) != 0)
		of_fail(r, 6);
	if (r->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, r->pdeathsig, 0, 0, 0) != 0)
			of_fail(r, 8);
		if (getppid() != r->ppid)
			kill(getpid(), r->pdeathsig);
	}
	of_files(r);
	if (r->setctty && ioctl(r->ctty, TIOCSCTTY, 1) != 0)
		of_fail(r, 9);
	struct rlimit now;
	if (of_nofile.rlim_max > 0 && of_nofile.rlim_cur < of_nofile.rlim_max - 1 && getrlimit(RLIMIT_NOFILE, &now) == 0 &&
	    now.rlim_cur == of_nofile.rlim_max - 1 && now.rlim_max == of_nofile.rlim_max) // as Go raised it, not changed since
		setrlimit(RLIMIT_NOFILE, &of_nofile);
	if (r->ptrace && ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
		of_fail(r, 10);
	execve(r->path, r->argv, r->envp);
	of_fail(r, 11);
	return 0;
}

// of_clone3 is clone3 with the child running fn(arg) on the stack args
// give it (the libc has no clone3 wrapper). The kernel keeps r8 and r9.
static long of_clone3(struct clone_args *ca, int (*fn)(void *), void *arg) {
	long ret;
	register void *r8 __asm__("r8") = arg;
	register void *r9 __asm__("r9") = (void *)fn;
	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"xor %%ebp, %%ebp\n\t"
		"and $-16, %%rsp\n\t"
		"mov %%r8, %%rdi\n\t"
		"call *%%r9\n\t"
		"mov $231, %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"hlt\n"
		"1:\n\t"
		: "=a"(ret)
		: "a"((long)SYS_clone3), "D"(ca), "S"(sizeof *ca), "r"(r8), "r"(r9)
		: "rcx", "r11", "memory");
	return ret;
}

// of_spawn forks and execs; it returns the child's pid or -errno. With
// the child's exec done or failed (CLONE_VFORK), r->err and r->step say
// whether it failed.
static int of_spawn(struct of_req *r, int cgroup_fd, int *pidfd) {
	void *stack = mmap(NULL, OF_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_VFORK | CLONE_FILES;
	if (pidfd) {
		ca.flags |= CLONE_PIDFD;
		ca.pidfd = (uintptr_t)pidfd;
	}
	ca.exit_signal = SIGCHLD;
	ca.stack = (uintptr_t)stack;
	ca.stack_size = OF_STACK;
	if (cgroup_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = cgroup_fd;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid = of_clone3(&ca, of_child, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, OF_STACK);
	return (int)pid;
}
*/
import "C"

import (
	"os"
	"syscall"
	"unsafe"
)

// supported: the C stage above is built.
const supported = true

// childSteps name of_child's steps.
var childSteps = [...]string{1: "close_range", 2: "setsid", 4: "credentials", 5: "capabilities", 6: "chdir",
	7: "dup", 8: "prctl", 9: "ioctl TIOCSCTTY", 10: "ptrace", 11: "execve"}

// spawnC is Start's fork: files are the slots holding the child's files.
func spawnC(r *Request, files []int, below int) (pid, pidfd int, step string, err error) {
	req := (*C.struct_of_req)(C.calloc(1, C.sizeof_struct_of_req))
	defer C.free(unsafe.Pointer(req))
	if !fillRequest(req, r, files, below) {
		return 0, -1, "request", syscall.E2BIG
	}
	cstrs := []*C.char{C.CString(r.Path)}
	req.path = cstrs[0]
	if r.Dir != "" {
		req.dir = C.CString(r.Dir)
		cstrs = append(cstrs, req.dir)
	}
	defer func() {
		for _, p := range cstrs {
			C.free(unsafe.Pointer(p))
		}
	}()
	req.argv = cStrings(r.Argv)
	defer freeCStrings(req.argv, len(r.Argv))
	req.envp = cStrings(r.Env)
	defer freeCStrings(req.envp, len(r.Env))
	cpidfd := (*C.int)(C.malloc(C.sizeof_int))
	defer C.free(unsafe.Pointer(cpidfd))
	*cpidfd = -1
	var want *C.int
	if r.PidFD {
		want = cpidfd
	}
	ret := int(C.of_spawn(req, C.int(r.CgroupFD), want))
	if ret < 0 {
		return 0, -1, "clone3", syscall.Errno(-ret)
	}
	if req.step != 0 {
		return ret, int(*cpidfd), childSteps[req.step], syscall.Errno(req.err)
	}
	return ret, int(*cpidfd), "", nil
}

// fillRequest copies r's numbers into req; false if r has more groups or
// capabilities than req holds.
func fillRequest(req *C.struct_of_req, r *Request, files []int, below int) bool {
	req.below, req.nfiles = C.int(below), C.int(len(files))
	for i, fd := range files {
		req.files[i] = C.int(fd)
	}
	req.setsid, req.setctty, req.ctty = cBool(r.Setsid), cBool(r.Setctty), C.int(r.Ctty)
	req.pdeathsig, req.ppid, req.ptrace = C.int(r.Pdeathsig), C.int(os.Getpid()), cBool(r.Ptrace)
	if cred := r.Credential; cred != nil {
		if len(cred.Groups) > len(req.groups) {
			return false
		}
		req.setcred, req.setgroups = 1, cBool(!cred.NoSetGroups)
		req.uid, req.gid, req.ngroups = C.uint(cred.Uid), C.uint(cred.Gid), C.int(len(cred.Groups))
		for i, g := range cred.Groups {
			req.groups[i] = C.uint(g)
		}
	}
	if len(r.AmbientCaps) > len(req.caps) {
		return false
	}
	req.ncaps = C.int(len(r.AmbientCaps))
	for i, c := range r.AmbientCaps {
		req.caps[i] = C.int(c)
	}
	return true
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func cStrings(ss []string) **C.char {
	arr := (**C.char)(C.calloc(C.size_t(len(ss)+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
	view := unsafe.Slice(arr, len(ss)+1)
	for i, s := range ss {
		view[i] = C.CString(s)
	}
	return arr
}

func freeCStrings(arr **C.char, n int) {
	for _, p := range unsafe.Slice(arr, n) {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(arr))
}
