//go:build linux

package testharness

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// Leak is one difference between two snapshots.
type Leak struct {
	Kind string // "mount", "cgroup", "process", "fd", "thread-namespace", "link", "cni-lease", "cni-cache", "firewall"
	What string
}

func (l Leak) String() string { return l.Kind + ": " + l.What }

// SettleTime bounds how long LeakCheck waits for state to return to the
// baseline (processes being reaped, threads exiting) before failing.
var SettleTime = 5 * time.Second

// Diff lists what after has that before had not.
func Diff(before, after *Snapshot) []Leak {
	var leaks []Leak
	for k, n := range after.Mounts {
		if extra := n - before.Mounts[k]; extra > 0 {
			leaks = append(leaks, Leak{"mount", fmt.Sprintf("%s (x%d)", k, extra)})
		}
	}
	for d := range after.CgroupDirs {
		if !before.CgroupDirs[d] {
			leaks = append(leaks, Leak{"cgroup", d})
		}
	}
	for k, desc := range after.Children {
		if _, ok := before.Children[k]; !ok {
			leaks = append(leaks, Leak{"process", "child " + desc})
		}
	}
	for fd, target := range after.FDs {
		if before.FDs[fd] != target {
			leaks = append(leaks, Leak{"fd", fmt.Sprintf("%d -> %s", fd, target)})
		}
	}
	for id, holder := range after.ThreadNS {
		if _, ok := before.ThreadNS[id]; !ok {
			leaks = append(leaks, Leak{"thread-namespace", holder + " is in " + id})
		}
	}
	leaks = append(leaks, diffNet(before, after)...)
	sort.Slice(leaks, func(i, j int) bool { return leaks[i].String() < leaks[j].String() })
	return leaks
}

// LeakCheck snapshots the state now and, when t's cleanups run, fails t
// naming everything that leaked. Call it before registering other cleanups:
// cleanups run last-in first-out, so the check runs after them.
func LeakCheck(t testing.TB) {
	t.Helper()
	before, err := TakeSnapshot()
	if err != nil {
		t.Fatalf("leak check: %v", err)
	}
	t.Cleanup(func() {
		for _, l := range waitForBaseline(before, SettleTime) {
			t.Errorf("LEAK %s", l)
		}
	})
}

// waitForBaseline polls until nothing leaks or settle has passed, and
// returns the leaks still present.
func waitForBaseline(before *Snapshot, settle time.Duration) []Leak {
	deadline := time.Now().Add(settle)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		after, err := TakeSnapshot()
		if err != nil {
			return []Leak{{"snapshot", err.Error()}}
		}
		leaks := Diff(before, after)
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(delay)
	}
}

// diffNet lists the host network state after has that before had not.
func diffNet(before, after *Snapshot) []Leak {
	var leaks []Leak
	for name, kind := range after.Links {
		if _, ok := before.Links[name]; !ok {
			leaks = append(leaks, Leak{"link", name + " (" + kind + ")"})
		}
	}
	for f := range after.CNILeases {
		if !before.CNILeases[f] {
			leaks = append(leaks, Leak{"cni-lease", f})
		}
	}
	for f := range after.CNICache {
		if !before.CNICache[f] {
			leaks = append(leaks, Leak{"cni-cache", f})
		}
	}
	for line, n := range after.Firewall {
		if extra := n - before.Firewall[line]; extra > 0 {
			leaks = append(leaks, Leak{"firewall", fmt.Sprintf("%s (x%d)", line, extra)})
		}
	}
	return leaks
}
