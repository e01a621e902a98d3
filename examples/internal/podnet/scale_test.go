//go:build linux

package podnet_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// 100 pods attached at once get 100 distinct addresses and hostPorts;
// detached at once, nothing is left (the leak check).
func TestHundredPodsConcurrently(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	n := 100
	if os.Getenv("PODKIT_VM") != "" {
		// Under QEMU's emulation a process starts 35-50x slower, and an
		// attach runs three plugins and a dozen iptables processes.
		n = 20
	}
	tn := newTestNetwork(t, 24, nil)
	pods := newPods(t, "many", n)
	ips := make([]netip.Addr, n)
	errs := make([]error, n)
	attach := func(i int) {
		r, err := tn.Attach(ctx, pods[i].ref, pods[i].path, podnet.AttachOptions{PortMappings: []podnet.PortMapping{
			{HostPort: int32(30000 + i), ContainerPort: 80},
		}})
		if err == nil {
			ips[i] = r.IPv4()
		}
		errs[i] = err
	}
	// The first attach alone makes portmap's shared chains: concurrent
	// first ADDs race on creating them (iptables -N: File exists), a
	// plugin limitation; the per-pod work is what runs concurrently.
	attach(0)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { attach(i) })
	}
	wg.Wait()
	seen := map[netip.Addr]string{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("attach %s: %v", pods[i].ref.ID, err)
			continue
		}
		if other, dup := seen[ips[i]]; dup {
			t.Errorf("%s and %s both got %s", other, pods[i].ref.ID, ips[i])
		}
		seen[ips[i]] = pods[i].ref.ID
	}
	leases, _ := filepath.Glob(filepath.Join(podnet.DefaultCacheDir, "networks", tn.Name(), "10.*"))
	t.Logf("%d pods attached, %d leases", len(seen), len(leases))
	// Two of them talk, to show the addresses are live.
	serve(t, pods[n-1], 8080, "last")
	if got, err := fetch(pods[0], fmt.Sprintf("%s:8080", ips[n-1])); err != nil || got != "last" {
		t.Errorf("pod 0 -> pod %d: %q, %v", n-1, got, err)
	}
	for i, p := range pods {
		wg.Go(func() { errs[i] = tn.Detach(ctx, p.ref, p.path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("detach %s: %v", pods[i].ref.ID, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(podnet.DefaultCacheDir, "networks", tn.Name(), "10.*")); len(left) > 0 {
		t.Errorf("%d leases left: %v", len(left), left)
	}
}
