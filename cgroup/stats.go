//go:build linux

package cgroup

import (
	"context"
	"errors"
	"math"
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
// nothing can fork), SIGKILL every process, thaw (so the signals are
// delivered), and repeat until no process is left.
func killLoop(ctx context.Context, freeze, thaw func(context.Context) error, procs func() ([]int, error)) error {
	for round := 0; ; round++ {
		pids, err := procs()
		if err != nil || len(pids) == 0 {
			return err
		}
		if err := ctx.Err(); err != nil {
			return wrapBoth(ErrBusy, err)
		}
		if freeze != nil {
			if err := freeze(ctx); err != nil {
				return err
			}
			if pids, err = procs(); err != nil {
				_ = thaw(context.WithoutCancel(ctx))
				return err
			}
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				if thaw != nil {
					_ = thaw(context.WithoutCancel(ctx))
				}
				return err
			}
		}
		if thaw != nil {
			if err := thaw(context.WithoutCancel(ctx)); err != nil {
				return err
			}
		}
		waitGone(procs, time.Duration(min(round+1, 10))*5*time.Millisecond)
	}
}

// waitGone polls procs with growing sleeps until it is empty or budget is
// spent; killLoop then starts another round for whatever is left.
func waitGone(procs func() ([]int, error), budget time.Duration) {
	deadline := time.Now().Add(budget)
	for sleep := 50 * time.Microsecond; time.Now().Before(deadline); sleep = min(sleep*2, 2*time.Millisecond) {
		if pids, err := procs(); err != nil || len(pids) == 0 {
			return
		}
		time.Sleep(sleep)
	}
}
