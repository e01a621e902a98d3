package testharness

import (
	"testing"
	"time"
)

// Eventually polls cond every poll until it holds, and fails the test if
// it does not within the given time. The packages' tests wrap it with
// the deadline and pace that suit them; a deadline there is generous, not
// a timing assertion.
func Eventually(tb testing.TB, what string, within, poll time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s (%v)", what, within)
		}
		time.Sleep(poll)
	}
}
