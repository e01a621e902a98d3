//go:build linux

package manifest

import (
	"slices"
	"strings"
	"testing"
)

// Image references: canonical names, Kubernetes' pull policy defaults,
// command and args kept apart (and not required), the securityContext
// user handed to the runner.
func TestImageRefs(t *testing.T) {
	doc := `apiVersion: v1
kind: Pod
metadata: {name: refs}
spec:
  securityContext: {runAsGroup: 7}
  initContainers:
  - name: init
    image: registry.k8s.io/pause:3.9
  containers:
  - name: latest
    image: busybox
    args: ["$(X)", "b"]
    env: [{name: X, value: "x"}]
  - name: tagged
    image: example.com:5000/app/web:1.2
    command: [/bin/sh]
    securityContext: {runAsUser: 1000, runAsNonRoot: true}
  - name: never
    image: busybox:latest
    imagePullPolicy: Never
  - name: digest
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
  - name: host
    image: host
    command: ["true"]
    imagePullPolicy: Always
`
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := p.ImageRefs()
	type want struct {
		field, name string
		policy      PullPolicy
		command     []string
		args        []string
		user        string
		nonRoot     bool
	}
	for i, w := range []want{
		{"spec.initContainers[0].image", "registry.k8s.io/pause:3.9", PullIfNotPresent, nil, nil, ":7", false},
		{"spec.containers[0].image", "docker.io/library/busybox:latest", PullAlways, nil, []string{"x", "b"}, ":7", false},
		{"spec.containers[1].image", "example.com:5000/app/web:1.2", PullIfNotPresent, []string{"/bin/sh"}, nil, "1000:7", true},
		{"spec.containers[2].image", "docker.io/library/busybox:latest", PullNever, nil, nil, ":7", false},
		{"spec.containers[3].image", "docker.io/library/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000", PullIfNotPresent, nil, nil, ":7", false},
	} {
		if i >= len(refs) {
			t.Fatalf("%d refs, want 5", len(refs))
		}
		r := refs[i]
		if r.Field != w.field || r.Name != w.name || r.PullPolicy != w.policy || !slices.Equal(r.Command, w.command) ||
			!slices.Equal(r.Args, w.args) || r.User != w.user || r.RunAsNonRoot != w.nonRoot {
			t.Errorf("ref %d: %+v, want %+v", i, *r, w)
		}
	}
	if len(refs) != 5 {
		t.Fatalf("%d refs, want 5", len(refs))
	}
	if c := p.Containers[0]; c.Spec.Rootfs != "" || c.Spec.Args != nil || c.HostImage {
		t.Errorf("a store image's spec is completed by the runner: %+v", c.Spec)
	}
	found := false
	for _, w := range p.Warnings {
		found = found || strings.HasPrefix(w, "spec.containers[4].imagePullPolicy:")
	}
	if !found {
		t.Errorf("no warning for the pull policy of image: host: %q", p.Warnings)
	}
}
