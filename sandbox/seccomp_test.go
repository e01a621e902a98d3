//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin/seccomp"
)

// seccompRootfs is testRootfs plus /scpayload.
func seccompRootfs(t *testing.T) string {
	t.Helper()
	root := testRootfs(t)
	data, err := os.ReadFile(testharness.BuildStatic(t, "github.com/podkit/podkit/sandbox/internal/scpayload"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "scpayload"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// scReport parses scpayload's output.
func scReport(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(l, " ")
		m[k] = v
	}
	return m
}

func checkReport(t *testing.T, what, out string, want map[string]string) {
	t.Helper()
	got := scReport(out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (output %q)", what, k, got[k], v, out)
		}
	}
}

func TestSeccompProfiles(t *testing.T) {
	testharness.Privileged(t)
	requireSeccompTag(t)
	rootfs := seccompRootfs(t)
	local := filepath.Join(t.TempDir(), "deny-getcwd.json")
	doc := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}]}`
	if err := os.WriteFile(local, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, testConfig(t, "seccomp"))
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		profile seccomp.Profile
		want    map[string]string
	}{
		{"unset", seccomp.Profile{}, map[string]string{"seccomp": "0", "keyctl": "0", "getcwd": "0"}},
		{"unconfined", seccomp.Profile{Type: seccomp.Unconfined}, map[string]string{"seccomp": "0", "keyctl": "0"}},
		{"default", seccomp.Profile{Type: seccomp.RuntimeDefault}, map[string]string{"seccomp": "2", "keyctl": "1", "getcwd": "0"}},
		{"local", seccomp.Profile{Type: seccomp.Localhost, LocalhostProfile: local}, map[string]string{"seccomp": "2", "keyctl": "0", "getcwd": "77"}},
	} {
		// The init reports, then an Exec into a running container of the
		// same profile reports: it inherits the container's filter.
		spec := ContainerSpec{Name: tc.name, Rootfs: rootfs, Args: []string{"/scpayload"}, Seccomp: tc.profile}
		run(t, sb, spec)
		waitExit(t, sb, tc.name)
		checkReport(t, tc.name+" init", logOf(t, sb, tc.name), tc.want)
		long := ctr(rootfs, tc.name+"-x", "pause")
		long.Seccomp = tc.profile
		run(t, sb, long)
		var out bytes.Buffer
		es, err := sb.Exec(ctx, long.Name, ExecSpec{Args: []string{"/scpayload"}, Stdout: &out})
		if err != nil || es.ExitCode != 0 {
			t.Fatalf("%s: Exec: %v %+v", tc.name, err, es)
		}
		checkReport(t, tc.name+" exec", out.String(), tc.want)
	}
}

func TestSeccompBadInputLeavesNothing(t *testing.T) {
	testharness.Privileged(t)
	rootfs := seccompRootfs(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, testConfig(t, "seccomp-bad"))
	for _, p := range []seccomp.Profile{
		{Type: seccomp.Localhost, LocalhostProfile: bad},
		{Type: seccomp.Localhost, LocalhostProfile: filepath.Join(dir, "missing.json")},
		{Type: seccomp.Localhost, LocalhostProfile: "relative.json"},
		{Type: "Sometimes"},
	} {
		err := sb.CreateContainer(context.Background(), ContainerSpec{Name: "c", Rootfs: rootfs, Args: []string{"/scpayload"}, Seccomp: p})
		var fe *FieldError
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &fe) || fe.Field != "Seccomp" {
			t.Errorf("%+v: %v, want a FieldError naming Seccomp", p, err)
		}
		if p.Type == seccomp.Localhost && p.LocalhostProfile == bad && !errors.Is(err, seccomp.ErrInvalidProfile) {
			t.Errorf("%v does not wrap seccomp.ErrInvalidProfile", err)
		}
	}
	if st := sb.Status(); len(st.Containers) != 0 {
		t.Errorf("containers left: %+v", st.Containers)
	}
}

// requireSeccompTag: containers get a profile only in binaries built with
// -tags seccomp (integration/test-all.sh builds so). Without it the test
// fails under CI=true and skips loudly elsewhere.
func requireSeccompTag(t *testing.T) {
	t.Helper()
	if seccompEnabled {
		return
	}
	msg := "built without -tags seccomp (needs libseccomp-dev): libcontainer cannot apply profiles"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Without libcontainer's seccomp support a profile other than Unconfined
// is refused before anything is made.
func TestSeccompWithoutTag(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "seccomp-notag"))
	defer func(v bool) { seccompEnabled = v }(seccompEnabled)
	seccompEnabled = false
	spec := ctr(rootfs, "c", "true")
	spec.Seccomp = seccomp.Profile{Type: seccomp.RuntimeDefault}
	err := sb.CreateContainer(context.Background(), spec)
	var fe *FieldError
	if !errors.Is(err, ErrSeccompUnsupported) || !errors.As(err, &fe) || fe.Field != "Seccomp" {
		t.Fatalf("CreateContainer: %v, want ErrSeccompUnsupported naming Seccomp", err)
	}
	spec.Seccomp.Type = seccomp.Unconfined
	run(t, sb, spec)
	if es := waitExit(t, sb, "c"); es.ExitCode != 0 {
		t.Errorf("unconfined container: %+v", es)
	}
	if st := sb.Status(); len(st.Containers) != 1 {
		t.Errorf("containers: %+v", st.Containers)
	}
}
