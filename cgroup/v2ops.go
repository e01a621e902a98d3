//go:build linux

package cgroup

import (
	"context"
	"errors"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// waitEvents waits until the "key" line of dir/cgroup.events reads want,
// woken by inotify. The kernel rate-limits cgroup.events notifications to
// one per 10ms per file (CGROUP_FILE_NOTIFY_MIN_INTV), so a change right
// after another one (populated 0->1->0 within 10ms) is announced late; the
// file is therefore also re-read on a short, growing timeout (1ms..50ms).
func waitEvents(ctx context.Context, dir, key string, want uint64) error {
	path := dir + "/cgroup.events"
	check := func() (bool, error) {
		v, _, err := readKV(path, key)
		return err == nil && v == want, err
	}
	if ok, err := check(); ok || err != nil {
		return err
	}
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return os.NewSyscallError("inotify_init1", err)
	}
	defer unix.Close(ifd)
	if _, err := unix.InotifyAddWatch(ifd, path, unix.IN_MODIFY); err != nil {
		return &os.PathError{Op: "inotify_add_watch", Path: path, Err: err}
	}
	var buf [4096]byte
	for timeout := 1; ; timeout = min(timeout*2, 50) {
		if ok, err := check(); ok || err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(ifd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		_, _ = unix.Read(ifd, buf[:]) // drain; EAGAIN is fine
	}
}

func (c *cgroupV2) freeze(ctx context.Context, op string, v uint64) error {
	if err := writeFile(c.dir+"/cgroup.freeze", map[uint64]string{0: "0", 1: "1"}[v]); err != nil {
		return fsErr(op, c.path, err)
	}
	return fsErr(op, c.path, waitEvents(ctx, c.dir, "frozen", v))
}

func (c *cgroupV2) Freeze(ctx context.Context) error { return c.freeze(ctx, "freeze", 1) }
func (c *cgroupV2) Thaw(ctx context.Context) error   { return c.freeze(ctx, "thaw", 0) }

// KillAll writes cgroup.kill (kernel 5.14+), which SIGKILLs every process
// of the subtree and keeps new forks from escaping, then waits until
// cgroup.events reports populated 0. Without cgroup.kill it falls back to
// the freeze, kill, thaw loop.
func (c *cgroupV2) KillAll(ctx context.Context) error {
	err := writeFile(c.dir+"/cgroup.kill", "1")
	if err != nil && isNotExist(err) {
		if _, serr := os.Stat(c.dir); serr == nil {
			err = killLoop(ctx, c.Freeze, c.Thaw, c.Procs)
		}
	}
	if err != nil {
		return fsErr("killall", c.path, err)
	}
	return fsErr("killall", c.path, waitEvents(ctx, c.dir, "populated", 0))
}

// memoryEvents reads memory.events.local, this cgroup's own OOM counters,
// or memory.events on kernels without it (which counts descendants too).
func (c *cgroupV2) memoryEvents() (string, error) {
	s, err := readFile(c.dir + "/memory.events.local")
	if isNotExist(err) {
		s, err = readFile(c.dir + "/memory.events")
	}
	return s, err
}

// OOMKills reads oom_kill from memoryEvents.
func (c *cgroupV2) OOMKills() (uint64, error) {
	s, err := c.memoryEvents()
	if err != nil {
		if _, derr := os.Stat(c.dir); isNotExist(err) && derr == nil {
			// The cgroup is there, its memory controller is not.
			return 0, &Error{Op: "oomkills", Path: c.path, Err: wrapBoth(ErrUnsupported, err)}
		}
		return 0, fsErr("oomkills", c.path, err)
	}
	n, _, err := lookupKV(s, "oom_kill")
	return n, fsErr("oomkills", c.path, err)
}

// Stats reads the v2 interface files this package reports: memory.current,
// .peak, .max and memory.stat's inactive_file; cpu.stat; pids.current and
// .max; and the OOM counters of memoryEvents. A file a disabled
// controller does not provide reads as 0.
func (c *cgroupV2) Stats() (*Stats, error) {
	if _, err := os.Stat(c.dir); err != nil {
		return nil, fsErr("stats", c.path, err)
	}
	num := func(file string) uint64 { return readStatNum(c.dir + "/" + file) }
	st := &Stats{
		Memory: MemoryStats{Usage: num("memory.current"), Peak: num("memory.peak"), Limit: noLimit(num("memory.max"))},
		Pids:   PidsStats{Current: num("pids.current"), Max: noLimit(num("pids.max"))},
	}
	if s, err := readFile(c.dir + "/memory.stat"); err == nil {
		st.Memory.InactiveFile, _, _ = lookupKV(s, "inactive_file")
	}
	if s, err := readFile(c.dir + "/cpu.stat"); err == nil {
		kv := func(key string) uint64 { n, _, _ := lookupKV(s, key); return n }
		st.CPU = CPUStats{
			Usage:         usec(kv("usage_usec")),
			User:          usec(kv("user_usec")),
			System:        usec(kv("system_usec")),
			Periods:       kv("nr_periods"),
			Throttled:     kv("nr_throttled"),
			ThrottledTime: usec(kv("throttled_usec")),
		}
	}
	s, err := c.memoryEvents()
	switch {
	case err == nil:
		st.OOM, _, _ = lookupKV(s, "oom")
		st.OOMKills, _, _ = lookupKV(s, "oom_kill")
	case !errors.Is(err, unix.ENOENT): // no memory controller: no counters
		return nil, fsErr("stats", c.path, err)
	}
	return st, nil
}

func usec(n uint64) time.Duration { return time.Duration(n) * time.Microsecond }

// noLimit maps the kernel's "no limit" spellings to NoLimit.
func noLimit(n uint64) uint64 {
	if n == math.MaxUint64 || n >= 1<<62 {
		return NoLimit
	}
	return n
}
