//go:build linux

package sandbox

import (
	"testing"
	"time"
)

// TestBackoffSequence: Kubernetes' crash-loop back-off: Initial, doubling
// to Max, and back to Initial once a run lasted Reset (the kubelet's
// 10-minute rule, scaled down here).
func TestBackoffSequence(t *testing.T) {
	s := &Sandbox{cfg: Config{Backoff: Backoff{Initial: 10 * time.Second, Max: 40 * time.Second, Reset: 10 * time.Minute}}}
	s.cfg.Backoff = s.cfg.Backoff.withDefaults()
	c := &container{}
	run := func(lasted time.Duration) {
		c.started = time.Unix(1000, 0)
		c.exit = &ExitStatus{Finished: c.started.Add(lasted)}
	}
	var delay time.Duration
	var got []time.Duration
	for _, lasted := range []time.Duration{time.Second, time.Second, time.Second, time.Second, 9 * time.Minute, 10 * time.Minute, time.Second} {
		run(lasted)
		delay = s.nextDelay(delay, c)
		got = append(got, delay)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second, 40 * time.Second, 10 * time.Second, 20 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	if d := (Backoff{}).withDefaults(); d.Initial != 10*time.Second || d.Max != 5*time.Minute || d.Reset != 10*time.Minute {
		t.Fatalf("defaults %+v", d)
	}
}
