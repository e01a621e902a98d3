//go:build linux

package kubelet

import (
	"testing"
	"time"
)

// TestBackoffSequence: Kubernetes' crash-loop back-off: Initial, doubling
// to Max, and back to Initial once a run lasted Reset (the kubelet's
// 10-minute rule).
func TestBackoffSequence(t *testing.T) {
	b := Backoff{Initial: 10 * time.Second, Max: 40 * time.Second, Reset: 10 * time.Minute}.withDefaults()
	var delay time.Duration
	var got []time.Duration
	for _, ran := range []time.Duration{time.Second, time.Second, time.Second, time.Second, 9 * time.Minute, 10 * time.Minute, time.Second} {
		delay = b.nextDelay(delay, ran)
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
