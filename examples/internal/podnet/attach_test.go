//go:build linux

package podnet_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// Two pods reach each other by pod IP, the host reaches a pod on its IP,
// and Detach releases the addresses.
func TestPodToPodAndHostToPod(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	nw := newTestNetwork(t, 24, nil)
	pods := newPods(t, "p2p", 2)
	var res [2]*podnet.Result
	for i, p := range pods {
		r, err := nw.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res[i] = r
		t.Logf("%s: %s on %s gw %s", p.ref.ID, r.IPs[0].Address, r.Interface, r.IPs[0].Gateway)
		if !nw.Subnet.Contains(r.IPv4()) || r.Interface != "eth0" || r.IPs[0].Gateway != nw.Subnet.Addr().Next() {
			t.Fatalf("result %+v not in %s with gateway .1", r.IPs, nw.Subnet)
		}
		if _, err := os.Stat(leaseFile(nw.Name(), r.IPv4())); err != nil {
			t.Fatalf("no host-local lease for %s: %v", r.IPv4(), err)
		}
		serve(t, p, 8080, "hello from "+p.ref.ID)
	}
	if res[0].IPv4() == res[1].IPv4() {
		t.Fatalf("both pods got %s", res[0].IPv4())
	}
	for i, from := range pods {
		to := res[1-i].IPv4()
		got, err := fetch(from, fmt.Sprintf("%s:8080", to))
		if want := "hello from " + pods[1-i].ref.ID; err != nil || got != want {
			t.Fatalf("%s -> %s: %q, %v; want %q", from.ref.ID, to, got, err, want)
		}
	}
	got, err := fetch(nil, fmt.Sprintf("%s:8080", res[0].IPv4()))
	if err != nil || got != "hello from "+pods[0].ref.ID {
		t.Fatalf("host -> pod: %q, %v", got, err)
	}
	for i, p := range pods {
		if err := nw.Detach(ctx, p.ref, p.path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(leaseFile(nw.Name(), res[i].IPv4())); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("lease of %s still there after Detach: %v", res[i].IPv4(), err)
		}
		if ok, err := nw.Attached(p.ref); ok || err != nil {
			t.Fatalf("Attached after Detach = %v, %v", ok, err)
		}
	}
}
