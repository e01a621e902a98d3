//go:build linux

package testharness

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// PauseImportPath is the main package of the pause binary.
const PauseImportPath = "github.com/podkit/podkit/pause/cmd/podkit-pause"

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// PauseBinary returns the pause binary: $PODKIT_PAUSE if set, else one built
// once per test run.
func PauseBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PODKIT_PAUSE"); p != "" {
		return p
	}
	return BuildStatic(t, PauseImportPath)
}

// BuildStatic builds the main package pkg as a static, CGO-free binary once
// per test run and returns its path. With $PODKIT_PREBUILT set (the VM lane,
// which has no Go toolchain) it returns $PODKIT_PREBUILT/<last element of pkg>.
func BuildStatic(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, false)
}

// BuildProgram builds the main package pkg with cgo on, as `go build` does
// (programs that embed the sandbox package need cgo for libcontainer's
// nsenter), once per test run. $PODKIT_PREBUILT is honoured as in BuildStatic.
func BuildProgram(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, true)
}

func build(t testing.TB, pkg string, cgo bool) string {
	t.Helper()
	name := path.Base(pkg)
	if dir := os.Getenv("PODKIT_PREBUILT"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("prebuilt binary for %s: %v", pkg, err)
		}
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	key := fmt.Sprintf("%s cgo=%v", pkg, cgo)
	if p, ok := built[key]; ok {
		return p
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "podkit-testbin-")
		if err != nil {
			t.Fatalf("build dir: %v", err)
		}
		buildDir = dir
	}
	out := filepath.Join(buildDir, map[bool]string{true: "cgo", false: "static"}[cgo], name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatalf("build dir: %v", err)
	}
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[cgo])
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	built[key] = out
	return out
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}

func removeBuildDir() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}
