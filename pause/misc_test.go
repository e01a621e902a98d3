//go:build linux

package pause_test

import (
	"os"
	"strings"
	"testing"
)

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() }) // the reader closes r once it sees EOF
	return r, w
}

func environ() []string { return os.Environ() }

// isAlive reports a /proc status State of a live process (not a zombie).
func isAlive(state string) bool {
	return state != "" && strings.IndexByte("RSD", state[0]) >= 0
}
