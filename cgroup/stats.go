//go:build linux

package cgroup

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// NoLimit is reported for a limit that is not set ("max").
const NoLimit = math.MaxUint64

// Stats is a snapshot of a cgroup's usage and counters. Counters cover the
// cgroup and its descendants, except OOM and OOMKills, which count events
// of this cgroup itself where the kernel tells them apart (v2
// memory.events.local; v1 memory.oom_control).
type Stats struct {
	Memory MemoryStats
	CPU    CPUStats
	Pids   PidsStats
	// OOM counts the times the cgroup hit its memory limit and the OOM
	// killer was invoked (v2 only: v1 does not count these; it is 0 there).
	OOM uint64
	// OOMKills counts processes the OOM killer killed in this cgroup.
	OOMKills uint64
}

// MemoryStats in bytes.
type MemoryStats struct {
	Usage uint64
	Peak  uint64 // high-water mark (v1 max_usage_in_bytes, v2 memory.peak)
	Limit uint64 // NoLimit when unlimited
	// InactiveFile is the page cache on the inactive LRU list (v1
	// memory.stat total_inactive_file, v2 inactive_file): Usage minus
	// this is the working set kubelet and cAdvisor report.
	InactiveFile uint64
}

// CPUStats: usage and CFS throttling.
type CPUStats struct {
	Usage, User, System time.Duration
	Periods             uint64 // CFS periods elapsed with a quota set
	Throttled           uint64 // periods in which the cgroup was throttled
	ThrottledTime       time.Duration
}

// PidsStats: task count and limit.
type PidsStats struct {
	Current uint64
	Max     uint64 // NoLimit when unlimited
}

// killLoop is the kill-all for hierarchies without cgroup.kill: freeze (so
// nothing can fork), list and SIGKILL every process, thaw (so the signals
// are delivered), and repeat until no process is left. Without a freezer
// (freeze nil) it only lists and kills. An empty cgroup returns at once.
//
// Our own pid is never killed nor frozen: on v1 it is listed while a
// thread of ours that joined the cgroup (JoinThread, to fork a process
// into it) is still exiting. Freezing that thread could stop it holding a
// Go runtime lock the thaw needs, so a round waits for it to leave first.
func killLoop(ctx context.Context, freeze, thaw func(context.Context) error, procs func() ([]int, error)) error {
	self := os.Getpid()
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return wrapBoth(ErrBusy, err)
		}
		pids, err := procs()
		if err == nil && len(pids) == 0 {
			// Nothing to kill, and nothing can fork into a cgroup with no
			// process: no freeze needed (on v1 a freeze round trip costs
			// ~0.3 ms, paid by every removal of an exited container).
			return nil
		}
		if err == nil && slices.Contains(pids, self) {
			waitGone(func() ([]int, error) { return selfIn(procs, self) }, 10*time.Millisecond)
			continue
		}
		frozen := freeze != nil && freezeBounded(ctx, freeze, thaw)
		pids, err = procs()
		for _, pid := range pids {
			if pid == self {
				continue
			}
			if kerr := unix.Kill(pid, unix.SIGKILL); kerr != nil && !errors.Is(kerr, unix.ESRCH) && err == nil {
				err = kerr
			}
		}
		if frozen {
			if terr := thaw(context.WithoutCancel(ctx)); terr != nil && err == nil {
				err = terr
			}
		}
		if err != nil || len(pids) == 0 {
			return err
		}
		if waitGone(procs, time.Duration(min(round+1, 10))*5*time.Millisecond) {
			return nil
		}
	}
}

// freezeTimeout bounds one freeze of killLoop. A freeze normally takes
// microseconds; one that cannot complete (a task in an uninterruptible
// wait on another, frozen, task: an execve in de_thread waiting for its
// frozen sibling threads to die) would otherwise hang the kill for good.
const freezeTimeout = 100 * time.Millisecond

// freezeBounded freezes for at most freezeTimeout. When the freeze does
// not complete it thaws again and reports false: that round kills without
// the freeze (SIGKILL ends the de_thread wait once the siblings run).
func freezeBounded(ctx context.Context, freeze, thaw func(context.Context) error) bool {
	fctx, cancel := context.WithTimeout(ctx, freezeTimeout)
	defer cancel()
	if freeze(fctx) == nil {
		return true
	}
	_ = thaw(context.WithoutCancel(ctx))
	return false
}

// selfIn lists self if procs does (for waitGone: "gone" once our exiting
// thread has left).
func selfIn(procs func() ([]int, error), self int) ([]int, error) {
	pids, err := procs()
	if err != nil || !slices.Contains(pids, self) {
		return nil, err
	}
	return []int{self}, nil
}

// waitGone polls procs with growing sleeps until it is empty (true) or
// budget is spent (false); killLoop then starts another round for whatever
// is left, such as a child forked just before the freeze.
func waitGone(procs func() ([]int, error), budget time.Duration) bool {
	deadline := time.Now().Add(budget)
	for sleep := 20 * time.Microsecond; ; sleep = min(sleep*2, 200*time.Microsecond) {
		if pids, err := procs(); err == nil && len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(sleep)
	}
}
