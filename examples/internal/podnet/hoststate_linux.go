//go:build linux

package podnet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// HostStateDir holds, per network, the record of the host objects
// podnet's first Attach found missing and the plugins made: the bridge and
// the top-level chains firewall and portmap share among pods and networks.
// The Detach of the network's last pod removes them again, so that a pod
// run leaves the host as it found it. Objects that were there before are
// never touched, nor chains that hold anything else (another network's
// or an administrator's rules). One lock, host.lock, orders every ADD and
// DEL (shared) against those removals (exclusive): the chains are shared
// by all networks.
var HostStateDir = "/run/podkit/podnet"

// sharedChain is a top-level chain a plugin keeps for every pod, with the
// rules it puts in it itself and the built-in chains that jump to it.
type sharedChain struct {
	Table, Name string
	Own         []string // -S lines of the plugin's own rules
}

var sharedChains = []sharedChain{
	{"filter", "CNI-FORWARD", []string{`-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN`}},
	{"filter", "CNI-ADMIN", nil},
	{"nat", "CNI-HOSTPORT-DNAT", nil},
	{"nat", "CNI-HOSTPORT-MASQ", []string{`-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE`}},
	{"nat", "CNI-HOSTPORT-SETMARK", []string{`-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000`}},
}

// hostMade is a network's record: what its pods' plugins created.
type hostMade struct {
	Bridge string   `json:"bridge,omitempty"`
	Chains []string `json:"chains,omitempty"` // "tool table chain"
}

// bridgeNetwork is the bridge plugin's device and host-local's lease
// directory, or "" when the network is not a bridge network.
func bridgeNetwork(list *libcni.NetworkConfigList) (bridge, leases string) {
	for _, p := range list.Plugins {
		var conf struct {
			Bridge string `json:"bridge"`
			IPAM   struct {
				Type    string `json:"type"`
				DataDir string `json:"dataDir"`
			} `json:"ipam"`
		}
		if p.Network.Type != "bridge" || json.Unmarshal(p.Bytes, &conf) != nil {
			continue
		}
		bridge = cmp.Or(conf.Bridge, "cni0")
		if conf.IPAM.Type == "host-local" {
			leases = filepath.Join(cmp.Or(conf.IPAM.DataDir, "/var/lib/cni/networks"), list.Name)
		}
	}
	return bridge, leases
}

// hostLock takes the host lock (shared for an ADD or DEL, exclusive to
// remove what a network's last pod leaves) and returns its release.
func hostLock(how int) (func(), error) {
	if err := os.MkdirAll(HostStateDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(HostStateDir, "host.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func (n *Network) recordPath() string { return filepath.Join(HostStateDir, n.list.Name+".json") }

// noteHost runs under the shared lock before an ADD. For the network's
// first pod (no lease held) it records the bridge and the shared chains
// that are missing, for the plugins are about to make them.
func (n *Network) noteHost(ctx context.Context) error {
	bridge, leases := bridgeNetwork(n.list)
	if bridge == "" {
		return nil
	}
	if _, err := os.Stat(n.recordPath()); err == nil || holdsLease(leases) {
		return nil // noted already, or not the first pod
	}
	var made hostMade
	if _, err := netlink.LinkByName(bridge); err != nil {
		made.Bridge = bridge
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		for _, c := range sharedChains {
			if _, err := iptables(ctx, tool, "-t", c.Table, "-S", c.Name); err != nil {
				made.Chains = append(made.Chains, tool+" "+c.Table+" "+c.Name)
			}
		}
	}
	if made.Bridge == "" && len(made.Chains) == 0 {
		return nil
	}
	b, _ := json.Marshal(made)
	f, err := os.OpenFile(n.recordPath(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // a concurrent first pod noted it
	}
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Close())
}

// releaseHost runs after a DEL: if the network has no pod left, it
// removes what noteHost recorded, under the exclusive lock.
func (n *Network) releaseHost(ctx context.Context) error {
	if _, err := os.Stat(n.recordPath()); err != nil {
		return nil // nothing of the host's is ours
	}
	unlock, err := hostLock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := os.ReadFile(n.recordPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil // another pod's Detach took it all
	}
	if err != nil {
		return err
	}
	var made hostMade
	if err := json.Unmarshal(b, &made); err != nil {
		return os.Remove(n.recordPath()) // unreadable: forget it, touch nothing
	}
	bridge, leases := bridgeNetwork(n.list)
	if inUse(bridge, leases) {
		return nil
	}
	var errs []error
	if l, err := netlink.LinkByName(made.Bridge); made.Bridge != "" && err == nil {
		errs = append(errs, netlink.LinkDel(l))
	}
	for _, c := range made.Chains { // in sharedChains' order: CNI-FORWARD before the CNI-ADMIN it jumps to
		f := strings.Fields(c)
		errs = append(errs, removeSharedChain(ctx, f[0], f[1], f[2]))
	}
	if leases != "" {
		os.RemoveAll(leases) // host-local's lock and last reserved address
	}
	errs = append(errs, os.Remove(n.recordPath()))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove the host state of network %s: %w", n.list.Name, err)
	}
	return nil
}

// inUse: a lease is still held, or a port is still on the bridge (the
// leases first: a short directory, where the ports are a dump of every
// link on the host).
func inUse(bridge, leases string) bool {
	if holdsLease(leases) {
		return true
	}
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return false
	}
	links, _ := netlink.LinkList()
	return slices.ContainsFunc(links, func(l netlink.Link) bool { return l.Attrs().MasterIndex == br.Attrs().Index })
}

// holdsLease: host-local's directory holds a lease (a file named after an
// address; '_' stands for ':' on some platforms). It reads the directory
// only up to the first one: with many pods it is long.
func holdsLease(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		ents, err := f.ReadDir(16)
		if slices.ContainsFunc(ents, func(e os.DirEntry) bool {
			_, err := netip.ParseAddr(strings.ReplaceAll(e.Name(), "_", ":"))
			return err == nil
		}) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// removeSharedChain removes a shared chain that holds only its plugin's
// own rules, and the built-in chains' jumps to it; one holding anything
// else, or that another chain jumps to, is left alone.
func removeSharedChain(ctx context.Context, tool, table, name string) error {
	i := slices.IndexFunc(sharedChains, func(c sharedChain) bool { return c.Table == table && c.Name == name })
	if i < 0 {
		return nil
	}
	out, err := iptables(ctx, tool, "-t", table, "-S", name)
	if err != nil {
		return nil // gone already
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "-N "+name && !slices.Contains(sharedChains[i].Own, line) {
			return nil
		}
	}
	all, err := iptables(ctx, tool, "-t", table, "-S")
	if err != nil {
		return err
	}
	var jumps [][]string
	for _, line := range strings.Split(all, "\n") {
		args := splitRule(line)
		if len(args) < 2 || args[0] != "-A" || args[1] == name || !strings.HasSuffix(line, " -j "+name) {
			continue
		}
		if !slices.Contains([]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}, args[1]) {
			return nil // another chain uses it
		}
		jumps = append(jumps, args[1:])
	}
	for _, j := range jumps {
		if _, err := iptables(ctx, tool, append([]string{"-t", table, "-D"}, j...)...); err != nil {
			return err
		}
	}
	if _, err := iptables(ctx, tool, "-t", table, "-F", name); err != nil {
		return err
	}
	_, err = iptables(ctx, tool, "-t", table, "-X", name)
	return err
}
