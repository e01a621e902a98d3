//go:build linux

package pause_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podkit/podkit/pause"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, pause.BinaryName)
	if err := os.WriteFile(exe, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("env", func(t *testing.T) {
		t.Setenv(pause.EnvPath, exe)
		if p, err := pause.Find(); err != nil || p != exe {
			t.Fatalf("Find = %q, %v; want %q", p, err, exe)
		}
	})
	t.Run("env-missing", func(t *testing.T) {
		t.Setenv(pause.EnvPath, filepath.Join(dir, "missing"))
		_, err := pause.Find()
		var nf *pause.NotFoundError
		if !errors.Is(err, pause.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &nf) {
			t.Fatalf("Find: %v; want ErrNotFound wrapping fs.ErrNotExist", err)
		}
		if !strings.Contains(err.Error(), "go build") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Fatalf("error does not say how to build the binary: %v", err)
		}
	})
	t.Run("env-not-executable", func(t *testing.T) {
		t.Setenv(pause.EnvPath, plain)
		if _, err := pause.Find(); !errors.Is(err, pause.ErrNotFound) {
			t.Fatalf("Find: %v; want ErrNotFound", err)
		}
	})
	t.Run("path", func(t *testing.T) {
		t.Setenv(pause.EnvPath, "")
		os.Unsetenv(pause.EnvPath)
		t.Setenv("PATH", "relative:"+dir)
		if p, err := pause.Find(); err != nil || p != exe {
			t.Fatalf("Find = %q, %v; want %q from $PATH", p, err, exe)
		}
	})
	t.Run("nowhere", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(pause.LibexecDir, pause.BinaryName)); err == nil {
			t.Skip("podkit-pause is installed in " + pause.LibexecDir)
		}
		t.Setenv(pause.EnvPath, "")
		os.Unsetenv(pause.EnvPath)
		t.Setenv("PATH", filepath.Join(dir, "empty"))
		_, err := pause.Find()
		var nf *pause.NotFoundError
		if !errors.As(err, &nf) || !slices.Contains(nf.Tried, filepath.Join(pause.LibexecDir, pause.BinaryName)) {
			t.Fatalf("Find: %v; want a NotFoundError that lists %s", err, pause.LibexecDir)
		}
	})
}
