//go:build linux

package podnet_test

import (
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// The default network as podrun uses it, on this machine as installed:
// podkit0, 10.87.0.0/16, a hostPort on the host's address and 127.0.0.1.
// Its host state is removed afterwards only if the test created it.
func TestDefaultNetwork(t *testing.T) {
	t.Run("as found", func(t *testing.T) {
		testharness.Privileged(t)
		hostPortOnDefault(t)
	})
	// The host after podrun's example (README): the bridge and the firewall
	// plugin's chains are there, portmap's chains are not until a hostPort.
	t.Run("bridge already there", func(t *testing.T) {
		testharness.Privileged(t)
		if _, err := netlink.LinkByName(podnet.DefaultBridge); err != nil {
			br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: podnet.DefaultBridge}}
			if err := netlink.LinkAdd(br); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := netlink.LinkDel(br); err != nil {
					t.Error(err)
				}
			})
		}
		hostPortOnDefault(t)
	})
}

func hostPortOnDefault(t *testing.T) {
	ctx := ctxT(t)
	testharness.KeepCNIHostState(t, podnet.DefaultBridge, podnet.DefaultNetworkName)
	nw, err := podnet.New(podnet.Config{List: podnet.Default()})
	if err != nil {
		t.Fatal(err)
	}
	p := newPods(t, "default", 1)[0]
	res, err := nw.Attach(ctx, p.ref, p.path, podnet.AttachOptions{PortMappings: []podnet.PortMapping{
		{HostPort: 20080, ContainerPort: 80, Protocol: "tcp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Detach(ctx, p.ref, p.path); err != nil {
			t.Error(err)
		}
	})
	if !netip.MustParsePrefix(podnet.DefaultSubnet).Contains(res.IPv4()) || res.IPs[0].Gateway.String() != "10.87.0.1" {
		t.Fatalf("default network gave %v", res.IPs)
	}
	serve(t, p, 80, "default network")
	for _, addr := range []string{res.IPv4().String() + ":80", hostIPv4(t).String() + ":20080", "127.0.0.1:20080"} {
		if got, err := fetch(nil, addr); err != nil || got != "default network" {
			t.Fatalf("host -> %s: %q, %v", addr, got, err)
		}
	}
}
