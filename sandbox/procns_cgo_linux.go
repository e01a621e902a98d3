//go:build linux && cgo

package sandbox

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_move_mount 429
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum {
	PK_CLOSE_RANGE_UNSHARE = 2,
	PK_FSOPEN_CLOEXEC = 1,
	PK_FSMOUNT_CLOEXEC = 1,
	PK_FSCONFIG_SET_FLAG = 0,
	PK_FSCONFIG_SET_STRING = 1,
	PK_FSCONFIG_CMD_CREATE = 6,
	PK_MOVE_MOUNT_F_EMPTY_PATH = 4,
	PK_MAX_OPTS = 16,
	PK_CHILD_STACK = 16 * 1024,
};

struct pk_procmount {
	const char *dest;  // NULL: only open a procfs context (a probe)
	unsigned int attrs; // fsmount's MOUNT_ATTR_*
	int nopts;
	const char *keys[PK_MAX_OPTS], *values[PK_MAX_OPTS]; // value NULL: a flag
	int err, step; // out: errno and the step that failed
};

static int pk_procmount_fail(struct pk_procmount *p, int step) {
	p->err = errno;
	p->step = step;
	return 1;
}

// pk_procmount_child runs in the caller's memory, every signal blocked.
// Its first step gives it a descriptor table of its own holding only 0-2
// (nothing is copied above them), so whatever it opens goes with it, even
// if it is killed half-way (its PID namespace's init may die meanwhile).
static int pk_procmount_child(void *arg) {
	struct pk_procmount *p = arg;
	if (syscall(SYS_close_range, 3, ~0U, PK_CLOSE_RANGE_UNSHARE) != 0)
		return pk_procmount_fail(p, 1);
	int fd = syscall(SYS_fsopen, "proc", PK_FSOPEN_CLOEXEC);
	if (fd < 0)
		return pk_procmount_fail(p, 2);
	if (p->dest == NULL)
		return 0;
	for (int i = 0; i < p->nopts; i++) {
		int cmd = p->values[i] ? PK_FSCONFIG_SET_STRING : PK_FSCONFIG_SET_FLAG;
		if (syscall(SYS_fsconfig, fd, cmd, p->keys[i], p->values[i], 0) != 0)
			return pk_procmount_fail(p, 3);
	}
	if (syscall(SYS_fsconfig, fd, PK_FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		return pk_procmount_fail(p, 4);
	int mfd = syscall(SYS_fsmount, fd, PK_FSMOUNT_CLOEXEC, p->attrs);
	if (mfd < 0)
		return pk_procmount_fail(p, 5);
	if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, p->dest, PK_MOVE_MOUNT_F_EMPTY_PATH) != 0)
		return pk_procmount_fail(p, 6);
	return 0;
}

// pk_procmount forks the child into the calling thread's PID namespace for
// children, with its mount namespace, root and cwd, and waits for its exit
// (CLONE_VFORK). It returns 0, -1 with p->err and p->step set, or the
// signal that killed the child.
static int pk_procmount(struct pk_procmount *p) {
	char stack[PK_CHILD_STACK] __attribute__((aligned(16)));
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pid = clone(pk_procmount_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, p);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		p->err = err;
		p->step = 0;
		return -1;
	}
	int status = 0;
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procByChildBuilt: the C stage above is built (cgo).
const procByChildBuilt = true

// procMountSteps name pk_procmount_child's steps.
var procMountSteps = [...]string{0: "clone", 1: "close_range", 2: "fsopen proc", 3: "fsconfig", 4: "fsconfig create", 5: "fsmount", 6: "move_mount"}

// mountProcByChild mounts at dest (a path in the calling thread's mount
// namespace, from its root and cwd) a procfs of the thread's PID
// namespace for children, made by a child forked into it: a procfs
// context takes its opener's PID namespace, and a thread cannot enter one
// itself (setns only sets its children's). With dest "" the child only
// opens a context (a probe). The caller is a locked thread.
func mountProcByChild(dest string, attrs int, opts []fsOption) error {
	if len(opts) > C.PK_MAX_OPTS {
		return fmt.Errorf("procfs options %v: %w", opts, syscall.E2BIG)
	}
	p := (*C.struct_pk_procmount)(C.calloc(1, C.sizeof_struct_pk_procmount))
	defer C.free(unsafe.Pointer(p))
	var cstrs []*C.char
	defer func() {
		for _, s := range cstrs {
			C.free(unsafe.Pointer(s))
		}
	}()
	cstr := func(s string) *C.char {
		c := C.CString(s)
		cstrs = append(cstrs, c)
		return c
	}
	if dest != "" {
		p.dest = cstr(dest)
	}
	p.attrs, p.nopts = C.uint(attrs), C.int(len(opts))
	for i, o := range opts {
		p.keys[i] = cstr(o.key)
		if !o.flag {
			p.values[i] = cstr(o.value)
		}
	}
	switch r := C.pk_procmount(p); {
	case r > 0:
		return fmt.Errorf("mount proc in a child: the child was killed by %v (its PID namespace ended?)", unix.Signal(r))
	case r < 0:
		return os.NewSyscallError(procMountSteps[p.step]+" (in a child)", syscall.Errno(p.err))
	}
	return nil
}
