//go:build linux

package podnet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

func init() {
	// Process-wide handles libcontainer's helpers open lazily (see the
	// sandbox package's tests): open them before any leak snapshot.
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	_, _ = procfs.OpenProcRoot()
}

// The wiring the lead will do: a real pod sandbox (pinned namespaces, no
// pause) attached through its pinned net namespace, detached before it is
// destroyed.
func TestSandboxPod(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn := newTestNetwork(t, 24, nil)
	sb, err := sandbox.Create(ctx, sandbox.Config{
		ID:           "podnet-sb",
		NoPause:      true,
		RunDir:       filepath.Join(t.TempDir(), "run"),
		CgroupParent: "podkit-podnet-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Destroy(context.Background()); err != nil {
			t.Error(err)
		}
	})
	netns := sb.Namespaces()["net"]
	ref := podnet.PodRef{ID: "podnet-sb", Name: "web", Namespace: "default", UID: "4d3c2b1a"}
	res, err := tn.Attach(ctx, ref, netns, podnet.AttachOptions{PortMappings: []podnet.PortMapping{{HostPort: 20443, ContainerPort: 443}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := nsjoin.Open(netns, nsjoin.Net)
	if err != nil {
		t.Fatal(err)
	}
	set, err := nsjoin.NewSet(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	p := &pod{ref: ref, ns: set, path: netns}
	serve(t, p, 443, "sandbox pod")
	for _, addr := range []string{fmt.Sprintf("%s:443", res.IPv4()), "127.0.0.1:20443"} {
		if got, err := fetch(nil, addr); err != nil || got != "sandbox pod" {
			t.Fatalf("host -> %s: %q, %v", addr, got, err)
		}
	}
	if err := tn.Detach(ctx, ref, netns); err != nil {
		t.Fatal(err)
	}
}
