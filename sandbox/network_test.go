//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

// fakeNetwork is a Network for tests: Attach adds a veth pair eth0/peer0
// with addr inside the pinned namespace (it goes with the namespace, so
// nothing reaches the host), Detach removes it when the namespace is
// still there. failAttach and failDetach make the next calls fail.
type fakeNetwork struct {
	addr netip.Prefix

	mu         sync.Mutex
	calls      []string // "attach <id> <path>", "detach <id> <path>"
	failAttach bool
	failDetach int
}

var errFake = errors.New("fake network failure")

func (f *fakeNetwork) record(op, id, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+id+" "+path)
}

func (f *fakeNetwork) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeNetwork) Attach(_ context.Context, id, path string) ([]netip.Prefix, error) {
	f.record("attach", id, path)
	if f.failAttach {
		return nil, errFake
	}
	err := withNetlink(path, func(nh *netlink.Handle) error {
		link := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}
		if err := nh.LinkAdd(link); err != nil {
			return err
		}
		addr, err := netlink.ParseAddr(f.addr.String())
		if err != nil {
			return err
		}
		if err := nh.AddrAdd(link, addr); err != nil {
			return err
		}
		return nh.LinkSetUp(link)
	})
	if err != nil {
		return nil, err
	}
	return []netip.Prefix{f.addr}, nil
}

func (f *fakeNetwork) Detach(_ context.Context, id, path string) error {
	f.record("detach", id, path)
	f.mu.Lock()
	fail := f.failDetach > 0
	if fail {
		f.failDetach--
	}
	f.mu.Unlock()
	if fail {
		return errFake
	}
	if path == "" {
		return nil
	}
	return withNetlink(path, func(nh *netlink.Handle) error {
		link, err := nh.LinkByName("eth0")
		if err != nil {
			return nil // not attached: Detach is idempotent
		}
		return nh.LinkDel(link)
	})
}

func withNetlink(path string, fn func(*netlink.Handle) error) error {
	h, err := nsjoin.Open(path, nsjoin.Net)
	if err != nil {
		return err
	}
	defer h.Close()
	nh, err := nsjoin.NetlinkHandle(h)
	if err != nil {
		return err
	}
	defer nh.Close()
	return fn(nh)
}

func newFakeNetwork() *fakeNetwork {
	return &fakeNetwork{addr: netip.MustParsePrefix("192.0.2.10/24")}
}

// TestNetworkAttachDetach: the Network's address is in the pod's network
// namespace, in Status, List, the SandboxReady event and /etc/hosts, and
// Destroy detaches the pod while its namespace is still pinned.
func TestNetworkAttachDetach(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	fake := newFakeNetwork()
	cfg := testConfig(t, "net")
	cfg.Network = fake
	sb := mustCreate(t, cfg)
	netPin := sb.Namespaces()["net"]
	want := []netip.Prefix{fake.addr}
	if got := sb.Status().IPs; !equalPrefixes(got, want) {
		t.Fatalf("Status.IPs = %v, want %v", got, want)
	}
	if e := <-sb.Events(1); e.Type != EventSandboxReady || !equalPrefixes(e.IPs, want) { // replayed
		t.Fatalf("event: %+v", e)
	}
	infos, err := List(cfg.RunDir)
	if err != nil || len(infos) != 1 || !equalPrefixes(infos[0].IPs, want) {
		t.Fatalf("List: %v %+v", err, infos)
	}
	hosts, err := os.ReadFile(sb.Dir() + "/etc/hosts")
	if err != nil || !strings.Contains(string(hosts), "192.0.2.10\tnet\n") || strings.Contains(string(hosts), "127.0.1.1") {
		t.Fatalf("hosts: %v\n%s", err, hosts)
	}
	st, err := sb.Stats()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, in := range st.Network {
		names[in.Name] = true
	}
	if !names["eth0"] || !names["lo"] {
		t.Fatalf("pod interfaces: %+v", st.Network)
	}
	run(t, sb, ctr(rootfs, "main", "sleep"))
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 2 || calls[0] != "attach net "+netPin || calls[1] != "detach net "+netPin {
		t.Fatalf("calls: %q", calls)
	}
}

// TestNetworkAttachFails: Create reports ErrNetwork, detaches (Attach may
// have done part of its work) and leaves nothing.
func TestNetworkAttachFails(t *testing.T) {
	testharness.Privileged(t)
	fake := newFakeNetwork()
	fake.failAttach = true
	cfg := testConfig(t, "netfail")
	cfg.Network = fake
	_, err := Create(context.Background(), cfg)
	var se *Error
	if !errors.Is(err, ErrNetwork) || !errors.Is(err, errFake) || !errors.As(err, &se) || se.ID != "netfail" {
		t.Fatalf("Create: %v", err)
	}
	if calls := fake.Calls(); len(calls) != 2 || !strings.HasPrefix(calls[1], "detach netfail ") {
		t.Fatalf("calls: %q", calls)
	}
	if ents, _ := os.ReadDir(cfg.RunDir); len(ents) != 0 {
		t.Fatalf("left in run dir: %v", ents)
	}
}

// TestNetworkDetachRetried: a failing Detach keeps the sandbox Destroying
// with its pins and state; Reconcile without a Network refuses to drop the
// attachment, with one it finishes the teardown.
func TestNetworkDetachRetried(t *testing.T) {
	testharness.Privileged(t)
	fake := newFakeNetwork()
	fake.failDetach = 2
	cfg := testConfig(t, "netdel")
	cfg.Network = fake
	sb := mustCreate(t, cfg)
	netPin := sb.Namespaces()["net"]
	ctx := context.Background()
	if err := sb.Destroy(ctx); !errors.Is(err, ErrNetwork) || !errors.Is(err, errFake) {
		t.Fatalf("Destroy: %v", err)
	}
	if sb.State() != StateDestroying || !pinExists(netPin) {
		t.Fatalf("after failed detach: %s, pin %v", sb.State(), pinExists(netPin))
	}
	if err := sb.Destroy(ctx); !errors.Is(err, ErrNetwork) {
		t.Fatalf("second Destroy: %v", err)
	}
	// A new manager: without the Network the attachment is not dropped.
	if _, err := Reconcile(ctx, cfg.RunDir); !errors.Is(err, ErrNetwork) {
		t.Fatalf("Reconcile without Network: %v", err)
	}
	if !pinExists(netPin) {
		t.Fatal("pin removed although the pod is still attached")
	}
	if _, err := Reconcile(ctx, cfg.RunDir, LoadOptions{Network: fake}); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if ents, _ := os.ReadDir(cfg.RunDir); len(ents) != 0 {
		t.Fatalf("left in run dir: %v", ents)
	}
	calls := fake.Calls()
	if len(calls) != 4 || calls[3] != "detach netdel "+netPin {
		t.Fatalf("calls: %q", calls)
	}
}

func equalPrefixes(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHostNetwork: the pod's containers (with a pause, pinned-only and
// die-with-parent) share the host's network namespace, a server in one
// answers the host on 127.0.0.1, and the hostname is still the pod's.
func TestHostNetwork(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	hostNet, err := os.Readlink("/proc/self/ns/net") // the test process: the host side
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name string
		set  func(*Config)
	}{
		{"hostnet", func(*Config) {}},
		{"hostnet-nopause", func(c *Config) { c.NoPause = true }},
		{"hostnet-dwp", func(c *Config) { c.DieWithParent, c.SharePID = true, true }},
	} {
		t.Run(v.name, func(t *testing.T) {
			cfg := testConfig(t, v.name)
			cfg.HostNetwork = true
			cfg.Sysctls = map[string]string{"kernel.shmmni": "1024"}
			v.set(&cfg)
			sb := mustCreate(t, cfg)
			if _, ok := sb.Namespaces()["net"]; ok {
				t.Fatalf("net pinned: %v", sb.Namespaces())
			}
			port := freePort(t)
			spec := ctr(rootfs, "srv", "serve", port)
			run(t, sb, spec)
			ns, err := os.Readlink("/proc/" + itoa(statusOf(sb, "srv").Pid) + "/ns/net")
			if err != nil || ns != hostNet {
				t.Fatalf("container net %q (%v), host %q", ns, err, hostNet)
			}
			c, err := dialRetry("127.0.0.1:" + port)
			if err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line != "hello from "+v.name+"\n" {
				t.Fatalf("answer %q", line)
			}
			if err := sb.Destroy(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHostNetworkRefuses: net.* sysctls and a Network with HostNetwork
// are invalid configurations naming the field; nothing is created.
func TestHostNetworkRefuses(t *testing.T) {
	testharness.Privileged(t)
	for field, cfg := range map[string]Config{
		"Config.Sysctls": {ID: "hn", HostNetwork: true, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}},
		"Config.Network": {ID: "hn", HostNetwork: true, Network: newFakeNetwork()},
	} {
		requireConfigRefused(t, field, cfg)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return itoa(l.Addr().(*net.TCPAddr).Port)
}

func dialRetry(addr string) (net.Conn, error) {
	var err error
	for range 200 {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err == nil {
			return c, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return nil, err
}

// TestNetworkRecoverAfterCrash: a manager killed right after Attach leaves
// an attached pod; Reconcile with the Network detaches it in its pinned
// namespace and removes everything.
func TestNetworkRecoverAfterCrash(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "create:network")
	p, err := readState(runDir + "/rec")
	if err != nil || !p.Network || len(p.IPs) != 1 {
		t.Fatalf("state after the crash: %v %+v", err, p)
	}
	netPin := p.Pins["net"]
	fake := newFakeNetwork()
	live, err := Reconcile(context.Background(), runDir, LoadOptions{Network: fake})
	if err != nil || len(live) != 0 {
		t.Fatalf("reconcile: %v %d", err, len(live))
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0] != "detach rec "+netPin {
		t.Fatalf("calls %q", calls)
	}
	if ents, _ := os.ReadDir(runDir); len(ents) != 0 {
		t.Fatalf("left in run dir: %v", ents)
	}
	reapOrphans(t)
}
