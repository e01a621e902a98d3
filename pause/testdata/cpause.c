/*
 * cpause: podkit's own minimal C pause, written only as a benchmark
 * baseline for podkit-pause (it is not shipped). Same contract as pause
 * mode: --ready-fd=N gets one byte once signals are set up; every signal is
 * blocked and taken synchronously with sigwaitinfo(2); SIGCHLD reaps all
 * zombies; SIGTERM/SIGINT exit 0; everything else is ignored. With
 * --events-fd=N it writes one line per reaped process.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd_flag(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 ? atoi(arg + n) : -1;
}

int main(int argc, char **argv)
{
	int ready = -1, events = -1;
	sigset_t all;

	for (int i = 1; i < argc; i++) {
		if (fd_flag(argv[i], "--ready-fd=") >= 0)
			ready = fd_flag(argv[i], "--ready-fd=");
		if (fd_flag(argv[i], "--events-fd=") >= 0)
			events = fd_flag(argv[i], "--events-fd=");
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (ready >= 0) {
		(void)!write(ready, "R", 1);
		close(ready);
	}
	for (;;) {
		int sig = sigwaitinfo(&all, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		if (sig != SIGCHLD)
			continue;
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			if (events >= 0)
				(void)!write(events, "orphan\n", 7);
	}
}
