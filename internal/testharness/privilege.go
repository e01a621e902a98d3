//go:build linux

package testharness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requiredCaps are the capabilities podkit's privileged tests use.
var requiredCaps = []struct {
	bit  uint
	name string
}{
	{unix.CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"},
	{unix.CAP_KILL, "CAP_KILL"},
	{unix.CAP_SETGID, "CAP_SETGID"},
	{unix.CAP_SETUID, "CAP_SETUID"},
	{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"},
	{unix.CAP_SYS_CHROOT, "CAP_SYS_CHROOT"},
	{unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
	{unix.CAP_MKNOD, "CAP_MKNOD"},
}

func inCI() bool { return os.Getenv("CI") == "true" }

func timeZero() time.Time { return time.Unix(1, 0) }

// privilegeProblem says why this process cannot run privileged tests, or "".
func privilegeProblem() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("not root (euid %d)", os.Geteuid())
	}
	eff, err := effectiveCaps()
	if err != nil {
		return "cannot read capabilities: " + err.Error()
	}
	var missing []string
	for _, c := range requiredCaps {
		if eff&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return "root but missing " + strings.Join(missing, ", ")
	}
	return ""
}

func effectiveCaps() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapEff line in /proc/self/status")
}

// skipVerdict decides what a privileged test does given the privilege
// problem (empty when privileged) and whether it runs under CI.
func skipVerdict(problem string, ci bool) (skip, fail bool, msg string) {
	if problem == "" {
		return false, false, ""
	}
	if ci {
		return false, true, "privileged test cannot run (" + problem + ") and CI=true forbids skipping it"
	}
	return true, false, "PRIVILEGED TEST SKIPPED: " + problem + "; run as root, e.g. `sudo go test ./...`"
}

// RequireRoot skips t loudly unless the process is root with the
// capabilities podkit needs. Under CI=true the skip is a failure.
func RequireRoot(t testing.TB) {
	t.Helper()
	skip, fail, msg := skipVerdict(privilegeProblem(), inCI())
	switch {
	case fail:
		t.Fatal(msg)
	case skip:
		t.Skip(msg)
	}
}

// Privileged is the first line of every privileged test: RequireRoot, then
// LeakCheck.
func Privileged(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	LeakCheck(t)
}
