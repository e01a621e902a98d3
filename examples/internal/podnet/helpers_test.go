//go:build linux

package podnet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

var netSeq atomic.Int32

// testNetwork is a bridge network of the test's own: name podkit-t<pid>-<n>,
// bridge pkt<n>, subnet 10.199.<n>.0/<bits>. The cleanup it registers
// (which runs before the leak check) removes what such a network keeps on
// the host by design once its pods are gone: the bridge, host-local's
// directory, portmap's and firewall's top-level chains (only if they are
// new and hold nothing else), and the forwarding sysctls the bridge
// plugin turned on.
type testNetwork struct {
	*podnet.Network
	List   *podnet.ConfList
	Subnet netip.Prefix
}

func newTestNetwork(t testing.TB, bits int, mutate func(*podnet.BridgeOptions)) *testNetwork {
	t.Helper()
	n := int(netSeq.Add(1))
	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 199, byte(n), 0}), bits)
	o := podnet.BridgeOptions{
		Name:    fmt.Sprintf("podkit-t%d-%d", os.Getpid(), n),
		Bridge:  fmt.Sprintf("pkt%d", n),
		Subnets: []netip.Prefix{subnet},
	}
	if mutate != nil {
		mutate(&o)
	}
	list, err := podnet.BridgeConfList(o)
	if err != nil {
		t.Fatal(err)
	}
	testharness.KeepCNIHostState(t, o.Bridge, o.Name)
	nw, err := podnet.New(podnet.Config{List: list})
	if err != nil {
		t.Fatal(err)
	}
	return &testNetwork{Network: nw, List: list, Subnet: subnet}
}

// pod is a network namespace pinned for a test.
type pod struct {
	ref  podnet.PodRef
	ns   *nsjoin.Set
	path string
}

// newPods pins n fresh network namespaces in a pin directory of the test's
// own, unpinned at the end.
func newPods(t testing.TB, prefix string, n int) []*pod {
	t.Helper()
	dir, err := nsjoin.OpenPinDir(filepath.Join(t.TempDir(), "ns"))
	if err != nil {
		t.Fatal(err)
	}
	pods := make([]*pod, n)
	t.Cleanup(func() {
		for _, p := range pods {
			if p != nil {
				p.ns.Close()
				dir.Unpin(p.ref.ID)
			}
		}
		if err := dir.Teardown(); err != nil {
			t.Errorf("pin dir teardown: %v", err)
		}
	})
	for i := range pods {
		id := fmt.Sprintf("%s-%d", prefix, i)
		set, err := dir.Create(id, nsjoin.Net)
		if err != nil {
			t.Fatal(err)
		}
		if err := nsjoin.LoopbackUp(set.Get(nsjoin.Net)); err != nil {
			t.Fatal(err)
		}
		pods[i] = &pod{
			ref:  podnet.PodRef{ID: id, Name: id, Namespace: "podnet-test", UID: fmt.Sprintf("uid-%s", id)},
			ns:   set,
			path: dir.PinPath(id, nsjoin.Net),
		}
	}
	return pods
}

// serve listens on TCP port inside p's namespace and answers every
// connection with msg. The listener is closed at the end of the test.
func serve(t *testing.T, p *pod, port int, msg string) {
	t.Helper()
	var ln net.Listener
	err := nsjoin.Do(p.ns, func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, msg)
			c.Close()
		}
	}()
}

// fetch dials addr from the namespace of from (the host's if nil) and
// returns what the server said.
func fetch(from *pod, addr string) (string, error) {
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 3*time.Second)
		return err
	}
	var err error
	if from == nil {
		err = dial()
	} else {
		err = nsjoin.Do(from.ns, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

func leaseFile(network string, ip netip.Addr) string {
	return filepath.Join(podnet.DefaultCacheDir, "networks", network, ip.String())
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// hostIPv4 is an IPv4 address of a host interface other than loopback.
func hostIPv4(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() &&
			!netip.MustParsePrefix("10.199.0.0/16").Contains(p.Addr()) {
			return p.Addr()
		}
	}
	t.Fatal("no non-loopback IPv4 address on the host")
	return netip.Addr{}
}
