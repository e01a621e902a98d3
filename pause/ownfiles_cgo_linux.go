//go:build linux && cgo && amd64

package pause

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

enum { PK_MAX_FILES = 8, PK_STACK = 64 * 1024 };

struct pk_spawn {
	const char *path;
	char **argv, **envp;
	int nfiles, files[PK_MAX_FILES]; // the manager's descriptors for 0..nfiles-1
	int pdeathsig, ppid;
	int err, step; // out: the child's errno and the step that failed
};

struct pk_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

// pk_nofile is RLIMIT_NOFILE as the process started, read before the Go
// runtime raises the soft limit to the hard one (syscall's init):
// syscall.ForkExec's children get the original soft limit back, and so do
// pk_child's.
static struct rlimit pk_nofile;
__attribute__((constructor)) static void pk_save_nofile(void) {
	if (getrlimit(RLIMIT_NOFILE, &pk_nofile) != 0)
		pk_nofile.rlim_max = 0;
}

static void pk_fail(struct pk_spawn *s, int step) {
	s->err = errno;
	s->step = step;
	syscall(SYS_exit_group, 127);
}

// pk_child runs on its own stack in the manager's memory (CLONE_VM), with
// the manager's descriptor table (CLONE_FILES), until its first step gives
// it a table of its own holding only 0-2. It never returns.
static int pk_child(void *arg) {
	struct pk_spawn *s = arg;
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE) != 0)
		pk_fail(s, 1);
	int parent = syscall(SYS_pidfd_open, s->ppid, 0);
	if (parent < 0)
		pk_fail(s, 2);
	int high[PK_MAX_FILES];
	for (int i = 0; i < s->nfiles; i++) {
		int fd = syscall(SYS_pidfd_getfd, parent, s->files[i], 0);
		if (fd < 0)
			pk_fail(s, 3);
		high[i] = fcntl(fd, F_DUPFD_CLOEXEC, PK_MAX_FILES + 8); // above every target
		if (high[i] < 0)
			pk_fail(s, 4);
		close(fd);
	}
	for (int i = 0; i < s->nfiles; i++)
		if (dup2(high[i], i) < 0) // clears close-on-exec on i
			pk_fail(s, 4);
	syscall(SYS_close_range, s->nfiles, ~0U, 0);
	struct rlimit now;
	if (pk_nofile.rlim_max > 0 && pk_nofile.rlim_cur < pk_nofile.rlim_max - 1 && getrlimit(RLIMIT_NOFILE, &now) == 0 &&
	    now.rlim_cur == pk_nofile.rlim_max - 1 && now.rlim_max == pk_nofile.rlim_max) // as Go raised it, not changed since
		setrlimit(RLIMIT_NOFILE, &pk_nofile);
	if (s->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, s->pdeathsig) != 0)
			pk_fail(s, 5);
		if (getppid() != s->ppid)
			kill(getpid(), s->pdeathsig);
	}
	// The manager's (Go's) handlers must not run here: every signal is
	// blocked since the clone; the handled ones go back to their default,
	// as exec would, before the mask is emptied.
	for (int sig = 1; sig <= 64; sig++) {
		struct pk_ksigaction old, dfl;
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
	execve(s->path, s->argv, s->envp);
	pk_fail(s, 6);
	return 0;
}

// pk_clone3 is clone3 with the child running fn(arg) on the stack args
// give it (the libc has no clone3 wrapper). The kernel keeps r8 and r9.
static long pk_clone3(struct clone_args *ca, int (*fn)(void *), void *arg) {
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

// pk_spawn forks and execs s->path; it returns the child's pid (or
// -errno) and its pidfd in *pidfd. With the child's exec done or failed
// (CLONE_VFORK), s->err and s->step say whether it failed.
static int pk_spawn(struct pk_spawn *s, int cgroup_fd, int *pidfd) {
	void *stack = mmap(NULL, PK_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD;
	ca.pidfd = (uintptr_t)pidfd;
	ca.exit_signal = SIGCHLD;
	ca.stack = (uintptr_t)stack;
	ca.stack_size = PK_STACK;
	if (cgroup_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = cgroup_fd;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid = pk_clone3(&ca, pk_child, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, PK_STACK);
	return (int)pid;
}
*/
import "C"

import (
	"os"
	"syscall"
	"unsafe"
)

// childSteps name pk_child's steps (pk_spawn's step numbers).
var childSteps = [...]string{1: "close_range", 2: "pidfd_open", 3: "pidfd_getfd", 4: "dup", 5: "prctl", 6: "execve"}

// spawnOwnFilesSupported: the C stage above is built (cgo, amd64).
const spawnOwnFilesSupported = true

// spawnOwnFilesC is spawnOwnFiles' fork (see ownfiles_linux.go).
func spawnOwnFilesC(path string, argv, env []string, files []uintptr, cgroupFD int, pdeathsig syscall.Signal) (pid, pidfd int, step string, err error) {
	if len(files) > C.PK_MAX_FILES {
		return 0, -1, "files", syscall.E2BIG
	}
	s := (*C.struct_pk_spawn)(C.calloc(1, C.sizeof_struct_pk_spawn))
	defer C.free(unsafe.Pointer(s))
	s.path = C.CString(path)
	defer C.free(unsafe.Pointer(s.path))
	s.argv = cStrings(argv)
	defer freeCStrings(s.argv, len(argv))
	s.envp = cStrings(env)
	defer freeCStrings(s.envp, len(env))
	s.nfiles = C.int(len(files))
	for i, fd := range files {
		s.files[i] = C.int(fd)
	}
	s.pdeathsig, s.ppid = C.int(pdeathsig), C.int(os.Getpid())
	var cpidfd C.int = -1
	ret := int(C.pk_spawn(s, C.int(cgroupFD), &cpidfd))
	if ret < 0 {
		return 0, -1, "clone3", syscall.Errno(-ret)
	}
	if s.step != 0 {
		return ret, int(cpidfd), childSteps[s.step], syscall.Errno(s.err)
	}
	return ret, int(cpidfd), "", nil
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
