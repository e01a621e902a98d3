//go:build linux

package podnet_test

import (
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// TestLastPodLeavesNothing: the bridge and the shared chains (firewall's,
// portmap's) the network's first pod made stay while a pod is attached
// and go with the last one's Detach. No KeepCNIHostState here: the leak
// check at the end sees the host as it was.
func TestLastPodLeavesNothing(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	n := 200 + os.Getpid()%50
	bridge := fmt.Sprintf("pklast%d", n)
	list, err := podnet.BridgeConfList(podnet.BridgeOptions{Name: "podkit-last-" + bridge, Bridge: bridge,
		Subnets: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.199.%d.0/24", n))}})
	if err != nil {
		t.Fatal(err)
	}
	nw, err := podnet.New(podnet.Config{List: list})
	if err != nil {
		t.Fatal(err)
	}
	pods := newPods(t, "last", 2)
	for i, p := range pods {
		if _, err := nw.Attach(ctx, p.ref, p.path, podnet.AttachOptions{PortMappings: []podnet.PortMapping{
			{HostPort: int32(20100 + i), ContainerPort: 80, Protocol: "tcp"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Detach(ctx, pods[0].ref, pods[0].path); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(bridge); err != nil {
		t.Fatalf("the bridge went with a pod still attached: %v", err)
	}
	if err := nw.Detach(ctx, pods[1].ref, pods[1].path); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(bridge); err == nil {
		t.Errorf("bridge %s left after the last pod's Detach", bridge)
	}
}
