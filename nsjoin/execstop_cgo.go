//go:build linux && cgo

package nsjoin

/*
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct podkit_stop {
	int dir_fd, dest_fd;     // the frozen directory, where the child goes
	int n;                   // rlimits
	int res[16];
	unsigned long long soft[16], hard[16];
	int probe;               // tests: record exe and Uid of the frozen child
	atomic_int stop;         // set once the fork returned
	pthread_t thread;
	int pid;                 // out: the child, 0 if never seen
	int err, step;           // out: errno and the step that failed
	char exe[256], uid[128]; // out (probe)
};

enum { STEP_PROCS = 1, STEP_PRLIMIT, STEP_MOVE };

// podkit_stop_wait polls the frozen directory for the child's pid.
static int podkit_stop_wait(struct podkit_stop *s) {
	long pause = 1000;
	for (;;) {
		char buf[32];
		int fd = openat(s->dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n < 0)
			return -1;
		if (n > 0) {
			buf[n] = 0;
			s->pid = atoi(buf);
			return 0;
		}
		if (atomic_load(&s->stop))
			return 0;
		struct timespec ts = {0, pause};
		nanosleep(&ts, NULL);
		if (pause < 1000000)
			pause *= 2;
	}
}

static void podkit_stop_probe(struct podkit_stop *s) {
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", s->pid);
	ssize_t n = readlink(path, s->exe, sizeof s->exe - 1);
	s->exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof path, "/proc/%d/status", s->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *l = strstr(buf, "\nUid:");
	if (l) {
		l += 5;
		size_t k = strcspn(l, "\n");
		if (k >= sizeof s->uid)
			k = sizeof s->uid - 1;
		memcpy(s->uid, l, k);
		s->uid[k] = 0;
	}
}

static void *podkit_stop_run(void *arg) {
	struct podkit_stop *s = arg;
	if (podkit_stop_wait(s) < 0) {
		s->err = errno, s->step = STEP_PROCS;
		goto kill;
	}
	if (s->pid <= 0)
		return NULL; // the fork returned without a child here
	if (s->probe)
		podkit_stop_probe(s);
	for (int i = 0; i < s->n; i++) {
		struct rlimit lim = {s->soft[i], s->hard[i]};
		if (prlimit(s->pid, s->res[i], &lim, NULL) < 0) {
			s->err = errno, s->step = STEP_PRLIMIT;
			goto kill;
		}
	}
	int fd = openat(s->dest_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	char buf[32];
	int len = snprintf(buf, sizeof buf, "%d", s->pid);
	if (fd < 0 || write(fd, buf, len) != len) {
		s->err = errno, s->step = STEP_MOVE;
		if (fd >= 0)
			close(fd);
		goto kill;
	}
	close(fd);
	return NULL;
kill:
	// Whatever is in there dies frozen: it never runs without its rlimits
	// (and the forking thread waits for it).
	if (s->pid > 0)
		kill(s->pid, SIGKILL); // our unreaped child: the pid is its own
	fd = openat(s->dir_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
	return NULL;
}

// podkit_stop_start starts the watcher with every signal blocked (they
// belong to the Go runtime's threads).
static int podkit_stop_start(struct podkit_stop *s) {
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&s->thread, NULL, podkit_stop_run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

static void podkit_stop_join(struct podkit_stop *s) {
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
}
*/
import "C"

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher is the C thread of a freezeStop (see there).
type watcher struct {
	s *C.struct_podkit_stop // C memory: the thread uses it
}

// startWatcher starts the thread watching dir for the child, which gets
// rlimits and is moved to dest.
func startWatcher(dir, dest string, rlimits []Rlimit) (*watcher, error) {
	s := (*C.struct_podkit_stop)(C.calloc(1, C.sizeof_struct_podkit_stop))
	w := &watcher{s: s}
	s.dir_fd, s.dest_fd = -1, -1
	fail := func(err error) (*watcher, error) {
		w.free()
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(&os.PathError{Op: "open", Path: dir, Err: err})
	}
	s.dir_fd = C.int(fd)
	if fd, err = unix.Open(dest, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return fail(&os.PathError{Op: "open", Path: dest, Err: err})
	}
	s.dest_fd = C.int(fd)
	if len(rlimits) > len(s.res) {
		return fail(syscall.E2BIG)
	}
	s.n = C.int(len(rlimits))
	for i, r := range rlimits {
		s.res[i], s.soft[i], s.hard[i] = C.int(r.Resource), C.ulonglong(r.Soft), C.ulonglong(r.Hard)
	}
	if frozenHook != nil {
		s.probe = 1
	}
	if e := C.podkit_stop_start(s); e != 0 {
		return fail(os.NewSyscallError("pthread_create", syscall.Errno(e)))
	}
	return w, nil
}

// join stops the watch (the fork has returned) and waits for the thread.
func (w *watcher) join() (pid int, err error) {
	s := w.s
	C.podkit_stop_join(s)
	pid = int(s.pid)
	switch {
	case s.step == C.STEP_PROCS:
		err = os.NewSyscallError("read cgroup.procs", syscall.Errno(s.err))
	case s.step == C.STEP_PRLIMIT:
		err = os.NewSyscallError("prlimit", syscall.Errno(s.err))
	case s.step == C.STEP_MOVE:
		err = os.NewSyscallError("write cgroup.procs", syscall.Errno(s.err))
	case pid == 0:
		err = errNeverForked
	}
	if frozenHook != nil && pid > 0 {
		frozenHook(pid, C.GoString(&s.exe[0]), C.GoString(&s.uid[0]))
	}
	w.free()
	return pid, err
}

func (w *watcher) free() {
	if w.s.dir_fd >= 0 {
		unix.Close(int(w.s.dir_fd))
	}
	if w.s.dest_fd >= 0 {
		unix.Close(int(w.s.dest_fd))
	}
	C.free(unsafe.Pointer(w.s))
	w.s = nil
}
