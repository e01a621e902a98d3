//go:build linux

package manifest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/podkit/podkit/nsjoin/seccomp"
)

func TestSeccompProfile(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "deny.json"), []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Path: "test.yaml", SeccompRoot: root}
	for _, tc := range []struct {
		name, spec, ctr string
		want            seccomp.Profile
	}{
		{"unset", "", "", seccomp.Profile{}},
		{"container", "", "    securityContext:\n      seccompProfile:\n        type: RuntimeDefault", seccomp.Profile{Type: seccomp.RuntimeDefault}},
		{"pod", "  securityContext:\n    seccompProfile:\n      type: RuntimeDefault", "", seccomp.Profile{Type: seccomp.RuntimeDefault}},
		{"container over pod", "  securityContext:\n    seccompProfile:\n      type: RuntimeDefault",
			"    securityContext:\n      seccompProfile:\n        type: Unconfined", seccomp.Profile{Type: seccomp.Unconfined}},
		{"localhost", "", "    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: deny.json",
			seccomp.Profile{Type: seccomp.Localhost, LocalhostProfile: filepath.Join(root, "deny.json")}},
	} {
		p, err := Parse([]byte(pod(tc.spec, tc.ctr)), opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := p.Containers[0].Spec.Seccomp; got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	const f = "spec.containers[0].securityContext.seccompProfile"
	for _, tc := range []struct{ ctr, field string }{
		{"        type: Localhost\n        localhostProfile: /etc/x.json", f + ".localhostProfile"},
		{"        type: Localhost\n        localhostProfile: ../x.json", f + ".localhostProfile"},
		{"        type: Localhost", f + ".localhostProfile"},
		{"        type: Localhost\n        localhostProfile: missing.json", f},
		{"        type: Sometimes", f + ".type"},
	} {
		doc := pod("", "    securityContext:\n      seccompProfile:\n"+tc.ctr)
		_, err := Parse([]byte(doc), opts)
		e, ok := err.(*Error)
		if !ok || !slices.Contains(e.Fields(ErrInvalid), tc.field) {
			t.Errorf("%q: %v, want a problem at %s", tc.ctr, err, tc.field)
		}
	}
}
