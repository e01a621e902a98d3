//go:build linux

package manifest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/podkit/podkit/sandbox"
)

func TestSubPathAndFSGroup(t *testing.T) {
	doc := pod(`  securityContext:
    fsGroup: 2000
    fsGroupChangePolicy: OnRootMismatch
    supplementalGroups: [3000]
  volumes:
  - {name: data, emptyDir: {}}
  - {name: host, hostPath: {path: /etc}}`, `    env:
    - {name: DIR, value: logs}
    volumeMounts:
    - {name: data, mountPath: /a, subPath: one/two}
    - {name: data, mountPath: /b, subPathExpr: "$(DIR)/x", readOnly: true}
    - {name: host, mountPath: /usr/share/podrun-new-dir, readOnly: true}`)
	p, err := Parse([]byte(doc), Options{Path: "t.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Containers[0].Spec
	var subs []string
	for _, m := range s.Mounts {
		subs = append(subs, m.Destination+"="+m.SubPath)
	}
	if !slices.Contains(subs, "/a=one/two") || !slices.Contains(subs, "/b=logs/x") || !slices.Contains(subs, "/usr/share/podrun-new-dir=") {
		t.Fatalf("mounts %q", subs)
	}
	if !slices.Equal(s.AdditionalGIDs, []uint32{3000, 2000}) {
		t.Fatalf("groups %v", s.AdditionalGIDs)
	}
	for _, v := range p.Config.Volumes {
		switch {
		case v.Name == "data" && (v.FSGroup == nil || *v.FSGroup != 2000 || v.FSGroupChangePolicy != sandbox.FSGroupOnRootMismatch):
			t.Fatalf("volume %+v", v)
		case v.Name != "data" && v.FSGroup != nil:
			t.Fatalf("fsGroup on %s", v.Name)
		}
	}
}

func TestBadSubPath(t *testing.T) {
	vol := "  volumes:\n  - {name: data, emptyDir: {}}"
	for _, tc := range []struct{ mount, field string }{
		{"subPath: ../x", "volumeMounts[0].subPath"},
		{"subPath: /etc", "volumeMounts[0].subPath"},
		{"subPath: a/../../b", "volumeMounts[0].subPath"},
		{"subPathExpr: $(UP)/x", "volumeMounts[0].subPathExpr"},
		{"subPathExpr: $(ABS)", "volumeMounts[0].subPathExpr"},
		{"{subPath: a, subPathExpr: b}", "volumeMounts[0].subPathExpr"},
	} {
		m := "{name: data, mountPath: /d, " + strings.Trim(tc.mount, "{}") + "}"
		doc := pod(vol, "    env:\n    - {name: UP, value: ..}\n    - {name: ABS, value: /abs}\n    volumeMounts:\n    - "+m)
		e := parseErr(t, doc)
		if !errors.Is(e, ErrInvalid) || !slices.Contains(e.Fields(ErrInvalid), "spec.containers[0]."+tc.field) {
			t.Errorf("%s: %v", tc.mount, e)
		}
	}
	for _, sc := range []string{"{fsGroup: -1}", "{fsGroup: 5, fsGroupChangePolicy: Sometimes}"} {
		e := parseErr(t, pod("  securityContext: "+sc, ""))
		if !errors.Is(e, ErrInvalid) || !strings.Contains(e.Error(), "spec.securityContext.fsGroup") {
			t.Errorf("%s: %v", sc, e)
		}
	}
}
