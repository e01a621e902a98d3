//go:build linux

package pause_test

import (
	"os"
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
