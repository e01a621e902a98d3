//go:build linux

package nsjoin

import (
	"errors"
	"net"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestLoopbackUp(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	nh, err := NetlinkHandle(s.Get(Net))
	must(t, err)
	defer nh.Close()
	lo, err := nh.LinkByName("lo")
	must(t, err)
	if lo.Attrs().Flags&net.FlagUp != 0 {
		t.Fatal("lo of a fresh netns is already up")
	}
	must(t, LoopbackUp(s.Get(Net)))
	lo, err = nh.LinkByName("lo")
	must(t, err)
	if lo.Attrs().Flags&net.FlagUp == 0 {
		t.Fatal("lo is not up")
	}
	// The loopback really works inside: listen and dial 127.0.0.1 there.
	must(t, Do(s, func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return err
		}
		return c.Close()
	}))
}

func TestSysctl(t *testing.T) {
	testharness.Privileged(t)
	s := netSet(t)
	host, err := Current(Net)
	must(t, err)
	defer host.Close()
	const key = "net.ipv4.ip_unprivileged_port_start"
	before, err := Sysctl(host, key)
	must(t, err)
	must(t, SetSysctl(s.Get(Net), key, "77"))
	got, err := Sysctl(s.Get(Net), key)
	must(t, err)
	if got != "77" {
		t.Errorf("inside: %q", got)
	}
	if after, _ := Sysctl(host, key); after != before {
		t.Errorf("host value changed %q -> %q", before, after)
	}
	must(t, SetSysctl(s.Get(Net), "net/ipv4/conf/lo/forwarding", "1"))
	for _, bad := range []string{"kernel.hostname", "net", "net..ipv4", "net/../kernel/x", "net.ipv4.ip forward",
		"net/ipv4/./x", "net.ipv4.ip_forward\x00", "/net/ipv4/ip_forward"} {
		if err := SetSysctl(s.Get(Net), bad, "1"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	ipc, err := Current(IPC)
	must(t, err)
	defer ipc.Close()
	if err := SetSysctl(ipc, key, "1"); !errors.Is(err, ErrWrongKind) {
		t.Errorf("non-net handle: %v", err)
	}
}
