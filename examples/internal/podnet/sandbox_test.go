//go:build linux

package podnet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// A real pod sandbox (with its pause) gets its network through
// Config.Network (Network.For): Create attaches it in the pinned net
// namespace, the pod IP is in Status and /etc/hosts, a server in the pod
// answers on the pod IP and on the hostPort from 127.0.0.1; a new manager
// (Reconcile with LoadOptions) destroys it and the lease is released.
func TestSandboxPod(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn := newTestNetwork(t, 24, nil)
	runDir := filepath.Join(t.TempDir(), "run")
	ref := podnet.PodRef{Name: "web", Namespace: "default", UID: "4d3c2b1a"}
	opts := podnet.AttachOptions{PortMappings: []podnet.PortMapping{{HostPort: 20443, ContainerPort: 443}}}
	sb, err := sandbox.Create(ctx, sandbox.Config{
		ID:           "podnet-sb",
		PauseBinary:  testharness.PauseBinary(t),
		RunDir:       runDir,
		CgroupParent: "podkit-podnet-test",
		Network:      tn.For(ref, opts),
	})
	if err != nil {
		t.Fatal(err)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_ = sb.Destroy(context.Background())
		}
	})
	ips := sb.Status().IPs
	if len(ips) != 1 || !tn.Subnet.Contains(ips[0].Addr()) || ips[0].Bits() != tn.Subnet.Bits() {
		t.Fatalf("pod IPs %v, subnet %v", ips, tn.Subnet)
	}
	podIP := ips[0].Addr()
	hosts, err := os.ReadFile(filepath.Join(sb.Dir(), "etc", "hosts"))
	if err != nil || !strings.Contains(string(hosts), podIP.String()+"\tpodnet-sb\n") {
		t.Fatalf("hosts: %v\n%s", err, hosts)
	}
	netns := sb.Namespaces()["net"]
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
	for _, addr := range []string{fmt.Sprintf("%s:443", podIP), "127.0.0.1:20443"} {
		if got, err := fetch(nil, addr); err != nil || got != "sandbox pod" {
			t.Fatalf("host -> %s: %q, %v", addr, got, err)
		}
	}
	if _, err := os.Stat(leaseFile(tn.Name(), podIP)); err != nil {
		t.Fatalf("lease: %v", err)
	}
	// A new manager takes over: Load needs only a Network to detach with.
	live, err := sandbox.Reconcile(ctx, runDir, sandbox.LoadOptions{Network: tn.For(podnet.PodRef{}, podnet.AttachOptions{})})
	if err != nil || len(live) != 1 {
		t.Fatalf("Reconcile: %v %d", err, len(live))
	}
	if got := live[0].Status().IPs; len(got) != 1 || got[0] != ips[0] {
		t.Fatalf("IPs after Reconcile: %v", got)
	}
	if err := live[0].Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	destroyed = true
	_ = sb.Destroy(ctx) // the first manager's handle: releases its pidfd; the pod is gone
	if _, err := os.Stat(leaseFile(tn.Name(), podIP)); !os.IsNotExist(err) {
		t.Fatalf("lease after Destroy: %v", err)
	}
	if attached, err := tn.Attached(podnet.PodRef{ID: "podnet-sb"}); err != nil || attached {
		t.Fatalf("still attached: %v %v", attached, err)
	}
}
