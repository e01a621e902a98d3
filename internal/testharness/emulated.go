//go:build linux

package testharness

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// qemuArch is qemu's name for each GOARCH whose pause the tests run under
// qemu-user on other machines.
var qemuArch = map[string]string{"arm64": "aarch64"}

// qemuWrappers are the wrapper scripts written in this test run (buildMu).
var qemuWrappers = map[string]bool{}

// EmulatedPauseArchs are the GOARCHes whose pause (a bare pause of its own)
// the host's tests also run, under qemu-user.
func EmulatedPauseArchs() []string { return []string{"arm64"} }

// PauseBinaryEmulated returns a program that runs the pause built for
// goarch as podkit builds it (PauseLinkFlags(goarch)) under qemu-user: a
// shell script, podkit-pause-<goarch>-qemu, that execs
// qemu-<arch>-static with the binary and the script's arguments, so the
// process a test starts, and its pid, is the emulated pause. ok is false when there is none to be had: for this
// machine's own GOARCH, in the VM lane (no Go toolchain there), or with no
// qemu-user installed, which is a failure under CI=true
// (integration/install-deps.sh installs it).
func PauseBinaryEmulated(t testing.TB, goarch string) (wrapper string, ok bool) {
	t.Helper()
	arch := qemuArch[goarch]
	if arch == "" {
		t.Fatalf("no qemu-user name for GOARCH=%s", goarch)
	}
	if goarch == runtime.GOARCH || os.Getenv("PODKIT_PREBUILT") != "" {
		return "", false
	}
	qemu, err := exec.LookPath("qemu-" + arch + "-static")
	if err != nil {
		if inCI() {
			t.Fatalf("CI=true: qemu-%s-static is missing, so the %s pause cannot be tested (integration/install-deps.sh installs qemu-user-static)", arch, goarch)
		}
		t.Logf("*** qemu-%s-static is not installed: the %s pause is not tested (apt-get install qemu-user-static) ***", arch, goarch)
		return "", false
	}
	bin := build(t, PauseImportPath, goarch, "podkit-pause", PauseLinkFlags(goarch))
	wrapper = filepath.Join(filepath.Dir(bin), "podkit-pause-"+goarch+"-qemu")
	script := "#!/bin/sh\nexec " + shellQuote(qemu) + " " + shellQuote(bin) + ` "$@"` + "\n"
	buildMu.Lock()
	defer buildMu.Unlock()
	if !qemuWrappers[wrapper] {
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatalf("qemu wrapper: %v", err)
		}
		qemuWrappers[wrapper] = true
	}
	return wrapper, true
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
