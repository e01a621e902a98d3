//go:build linux

package cgroup

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// TestForkBombStopsAtPidsMax: an exponential fork bomb in a container
// cgroup is refused forks at pids.max and never exceeds it; kill-all ends it.
func TestForkBombStopsAtPidsMax(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	const max = 40
	pod := newTestPod(t, s, "bomb", nil)
	app, err := pod.AddContainer("bomb", &Resources{Pids: &Pids{Max: max}})
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "forkbomb")
	if err := app.AddProcess(h.pid()); err != nil {
		t.Fatal(err)
	}
	h.goNow(t)
	eventually(t, "a fork refused at pids.max", func() bool {
		return fileKV(t, app, "pids", "pids.events", "max") > 0
	})
	for range 20 {
		st, err := app.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Pids.Current > max || st.Pids.Max != max {
			t.Fatalf("pids current %d max %d, limit %d", st.Pids.Current, st.Pids.Max, max)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := app.KillAll(ctx30(t)); err != nil {
		t.Fatalf("KillAll: %v", err)
	}
	_ = h.cmd.Wait()
	reapOrphans()
	if err := pod.Destroy(ctx30(t)); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
}

// TestOOMKillEvent: a memory hog is OOM-killed, the watcher names its
// cgroup, the sibling container's process keeps running, and Stats counts
// the kill.
func TestOOMKillEvent(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "oom", nil)
	hogCg, err := pod.AddContainer("hog", &Resources{Memory: &Memory{Limit: 48 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	sibCg, err := pod.AddContainer("sibling", &Resources{Memory: &Memory{Limit: 256 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewOOMWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, c := range []Cgroup{hogCg, sibCg} {
		if err := w.Add(c); err != nil {
			t.Fatalf("watch %s: %v", c.Path(), err)
		}
	}
	sib := startHelper(t, "sleeper")
	if err := sibCg.AddProcess(sib.pid()); err != nil {
		t.Fatal(err)
	}
	hog := startHelper(t, "memhog")
	if err := hogCg.AddProcess(hog.pid()); err != nil {
		t.Fatal(err)
	}
	hog.goNow(t)
	select {
	case ev := <-w.Events():
		if ev.Path != hogCg.Path() || ev.Kills < 1 {
			t.Fatalf("event %+v, want a kill in %s", ev, hogCg.Path())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no OOM event")
	}
	err = hog.cmd.Wait()
	if ws, ok := hog.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("hog exit: %v", err)
	}
	if err := sib.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("sibling died: %v", err)
	}
	if p, _ := sibCg.Procs(); len(p) != 1 {
		t.Fatalf("sibling procs %v", p)
	}
	st, err := hogCg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.OOMKills < 1 || st.Memory.Limit != 48<<20 || st.Memory.Peak < 40<<20 {
		t.Fatalf("hog stats %+v", st)
	}
	if sst, _ := sibCg.Stats(); sst.OOMKills != 0 {
		t.Fatalf("sibling stats %+v", sst)
	}
	if n, err := hogCg.OOMKills(); err != nil || n != st.OOMKills {
		t.Fatalf("hog OOMKills() = %d, %v; Stats says %d", n, err, st.OOMKills)
	}
	if n, err := sibCg.OOMKills(); err != nil || n != 0 {
		t.Fatalf("sibling OOMKills() = %d, %v", n, err)
	}
	select {
	case ev := <-w.Events():
		if ev.Path != hogCg.Path() {
			t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(100 * time.Millisecond):
	}
	if err := pod.Destroy(ctx30(t)); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	_ = sib.cmd.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, open := <-w.Events(); open {
		t.Fatal("Events not closed after Close")
	}
}

// TestCPUThrottling: a busy process under a 100m limit is throttled and
// Stats shows it.
func TestCPUThrottling(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "cpu", nil)
	app, err := pod.AddContainer("spin", &Resources{CPU: &CPU{RequestMilli: 100, LimitMilli: 100}})
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "spin", "700ms")
	if err := app.AddProcess(h.pid()); err != nil {
		t.Fatal(err)
	}
	h.goNow(t)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("spin: %v", err)
	}
	st, err := app.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cpu stats: %+v", st.CPU)
	if st.CPU.Throttled == 0 || st.CPU.ThrottledTime == 0 || st.CPU.Periods < st.CPU.Throttled || st.CPU.Usage == 0 {
		t.Fatalf("no throttling in stats: %+v", st.CPU)
	}
	if err := pod.Destroy(ctx30(t)); err != nil {
		t.Fatal(err)
	}
}

// TestStatsUnlimited: an unlimited cgroup reports NoLimit. (Memory usage
// is not checked: v1 does not move a process's existing charges with it.)
func TestStatsUnlimited(t *testing.T) {
	testharness.Privileged(t)
	s := hostSystem(t)
	pod := newTestPod(t, s, "stats", nil)
	h := startHelper(t, "sleeper")
	if err := pod.Pause().AddProcess(h.pid()); err != nil {
		t.Fatal(err)
	}
	if line, _ := h.out.ReadString('\n'); !strings.HasPrefix(line, "ready") {
		t.Fatalf("helper said %q", line)
	}
	st, err := pod.Pause().Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit != NoLimit || st.Pids.Max != NoLimit || st.Pids.Current < 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := pod.Destroy(ctx30(t)); err != nil {
		t.Fatal(err)
	}
}
