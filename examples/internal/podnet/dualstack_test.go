//go:build linux

package podnet_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// With an IPv4 and an IPv6 subnet a pod gets one address of each, and
// pods reach each other over both.
func TestDualStack(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	var v6 netip.Prefix
	tn := newTestNetwork(t, 24, func(o *podnet.BridgeOptions) {
		v6 = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0x99, 0, byte(netSeq.Load())}), 64)
		o.Subnets = append(o.Subnets, v6)
	})
	pods := newPods(t, "dual", 2)
	var res [2]*podnet.Result
	for i, p := range pods {
		r, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !tn.Subnet.Contains(r.IPv4()) || !v6.Contains(r.IPv6()) {
			t.Fatalf("addresses %v; want one in %s and one in %s", r.IPs, tn.Subnet, v6)
		}
		t.Logf("%s: %v", p.ref.ID, r.IPs)
		res[i] = r
		t.Cleanup(func() {
			if err := tn.Detach(ctx, p.ref, p.path); err != nil {
				t.Error(err)
			}
		})
	}
	serve(t, pods[1], 8080, "v6 ok")
	for _, to := range []netip.Addr{res[1].IPv4(), res[1].IPv6()} {
		addr := net.JoinHostPort(to.String(), "8080")
		if got, err := fetch(pods[0], addr); err != nil || got != "v6 ok" {
			t.Fatalf("pod 0 -> %s: %q, %v", addr, got, err)
		}
	}
}
