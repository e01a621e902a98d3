//go:build linux

package testharness

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// PauseImportPath is the main package of the pause binary (pause.ImportPath).
const PauseImportPath = "github.com/podkit/podkit/pause/cmd/podkit-pause"

// PauseLinkFlags is pause.LinkFlags, which this package cannot import (the
// pause package's own tests use the harness); a pause test checks that the
// two agree.
func PauseLinkFlags(goarch string) string {
	if goarch == "amd64" || goarch == "arm64" {
		return "-s -w -E=main.bareEntry"
	}
	return "-s -w"
}

// PauseGoName is the name of the pause binary linked without the bare
// pause (pause.BareLinkFlag), so that its pause mode runs the Go program.
const PauseGoName = "podkit-pause-go"

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{} // binary (under buildDir) -> how it was built
)

// PauseBinary returns the pause binary: $PODKIT_PAUSE if set, else one built
// once per test run as podkit builds it (PauseLinkFlags: the bare pause on
// amd64 and arm64).
func PauseBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PODKIT_PAUSE"); p != "" {
		return p
	}
	return build(t, PauseImportPath, "", "", PauseLinkFlags(runtime.GOARCH))
}

// PauseBinaryGo returns the pause binary linked without the bare pause, so
// that its pause mode runs the Go program: the tests of pause mode run
// against both. $PODKIT_PREBUILT/podkit-pause-go in the VM lane.
func PauseBinaryGo(t testing.TB) string {
	t.Helper()
	return build(t, PauseImportPath, "", PauseGoName, "-s -w")
}

// BuildStatic builds the main package pkg as a static, CGO-free binary once
// per test run and returns its path. With $PODKIT_PREBUILT set (the VM lane,
// which has no Go toolchain) it returns $PODKIT_PREBUILT/<last element of pkg>.
func BuildStatic(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, "", "", "-s -w")
}

// BuildProgram builds the main package pkg with cgo on, as `go build` does
// (programs that embed the sandbox package need cgo for libcontainer's
// nsenter) and the seccomp build tag (libcontainer's seccomp support, which
// needs libseccomp-dev), once per test run. $PODKIT_PREBUILT is honoured as in BuildStatic.
func BuildProgram(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, "cgo", "", "-s -w")
}

// build builds pkg into a binary called name (default: the last element of
// pkg), linked with ldflags, as target says: "" a static, CGO-free binary
// for this machine, "cgo" one with cgo on, a GOARCH a static binary
// cross-compiled for it.
func build(t testing.TB, pkg, target, name, ldflags string) string {
	t.Helper()
	if name == "" {
		name = path.Base(pkg)
	}
	if dir := os.Getenv("PODKIT_PREBUILT"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("prebuilt binary for %s: %v", pkg, err)
		}
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	subdir := target
	if subdir == "" {
		subdir = "static"
	}
	rel := filepath.Join(subdir, name)
	how := fmt.Sprintf("%s -ldflags=%q", pkg, ldflags)
	if was, ok := built[rel]; ok {
		if was != how {
			t.Fatalf("test binary %s wanted as %s, already built as %s", rel, how, was)
		}
		return filepath.Join(buildDir, rel)
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "podkit-testbin-")
		if err != nil {
			t.Fatalf("build dir: %v", err)
		}
		buildDir = dir
	}
	out := filepath.Join(buildDir, rel)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatalf("build dir: %v", err)
	}
	args := []string{"build", "-trimpath", "-ldflags=" + ldflags, "-o", out}
	if target == "cgo" {
		// Programs embedding the sandbox: with libcontainer's seccomp
		// support (libseccomp), as integration/test-all.sh builds.
		args = append(args, "-tags=seccomp")
	}
	cmd := exec.Command(goTool(), append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[target == "cgo"])
	if target != "" && target != "cgo" {
		cmd.Env = append(cmd.Env, "GOARCH="+target)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	built[rel] = how
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
