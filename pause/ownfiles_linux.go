//go:build linux

package pause

import (
	"sync/atomic"
	"syscall"

	"github.com/podkit/podkit/internal/ownfork"
)

// spawnOwnFilesSupported: the C stage of internal/ownfork is built (cgo,
// amd64); without it every pause is forked by syscall.ForkExec.
const spawnOwnFilesSupported = ownfork.Supported

// spawnOwnFiles forks and execs the pause so that the child never holds a
// copy of the manager's descriptor table: a manager of many pods holds
// several descriptors per pod (pidfds, log pipes and files), and a fork
// copies them all for the exec to close one by one again (filp_close of
// each: with 1,000 pods, ~1.8 ms of every pause's start went there). See
// internal/ownfork. It is born in the thread's namespaces and cgroups like
// syscall.ForkExec's child, into cgroupFD's cgroup if cgroupFD >= 0
// (CLONE_INTO_CGROUP), with files as its 0..n-1.
//
// ok is false when this way is not available (no C stage; a kernel or a
// policy refusing it, which is remembered; more files than it passes):
// the caller forks the usual way. The child is in the caller's PID
// namespace (it names its parent by pid for the parent-death signal).
func spawnOwnFiles(path string, argv, env []string, files []uintptr, cgroupFD int, pdeathsig syscall.Signal) (pid, pidfd int, ok bool, err error) {
	fds := make([]int, len(files))
	for i, fd := range files {
		fds[i] = int(fd)
	}
	pid, pidfd, ok, err = ownfork.Start(&ownfork.Request{Path: path, Argv: argv, Env: env, Files: fds,
		Pdeathsig: pdeathsig, CgroupFD: cgroupFD, PidFD: true})
	if ok && err == nil {
		ownFilesSpawns.Add(1)
	}
	return pid, pidfd, ok, err
}

// ownFilesSpawns counts the pauses forked by spawnOwnFiles (tests).
var ownFilesSpawns atomic.Int64
