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
		rules, err := saveRules(ctx, tool)
		if err != nil {
			continue // no such tool here
		}
		for _, c := range sharedChains {
			if !rules.chains[c.Table+" "+c.Name] {
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
	errs = append(errs, removeSharedChains(ctx, made.Chains))
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
// leases first: host-local's directory, read up to its first lease, where
// the ports take a dump of every link on the host).
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

// savedRules is one iptables-save: the chains ("table chain") and the
// rules ("table" -> its -A lines).
type savedRules struct {
	chains map[string]bool
	rules  map[string][]string
}

func saveRules(ctx context.Context, tool string) (*savedRules, error) {
	out, err := exec.CommandContext(ctx, tool+"-save").Output()
	if err != nil {
		return nil, err
	}
	r := &savedRules{chains: map[string]bool{}, rules: map[string][]string{}}
	table := ""
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":"):
			r.chains[table+" "+strings.Fields(line[1:])[0]] = true
		case strings.HasPrefix(line, "-A "):
			r.rules[table] = append(r.rules[table], line)
		}
	}
	return r, nil
}

// removeSharedChains removes the recorded chains ("tool table chain", in
// sharedChains' order) that hold only their plugin's own rules and that
// only built-in chains, or chains removed with them, jump to: the jumps,
// then the chains, by one iptables-restore per tool.
func removeSharedChains(ctx context.Context, recorded []string) error {
	byTool := map[string][]string{}
	for _, c := range recorded {
		f := strings.Fields(c)
		byTool[f[0]] = append(byTool[f[0]], f[1]+" "+f[2])
	}
	var errs []error
	for tool, chains := range byTool {
		saved, err := saveRules(ctx, tool)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if script := removalScript(saved, chains); script != "" {
			cmd := exec.CommandContext(ctx, tool+"-restore", "-w", "--noflush")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("%s-restore: %w: %s", tool, err, out))
			}
		}
	}
	return errors.Join(errs...)
}

// removalScript is the iptables-restore input that removes those of
// chains ("table chain") that can go.
func removalScript(saved *savedRules, chains []string) string {
	builtin := []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
	removing := map[string]bool{}
	jumps := map[string][]string{}
	for _, tc := range chains {
		table, name, _ := strings.Cut(tc, " ")
		i := slices.IndexFunc(sharedChains, func(c sharedChain) bool { return c.Table == table && c.Name == name })
		if i < 0 || !saved.chains[tc] {
			continue
		}
		var in []string
		ok := true
		for _, line := range saved.rules[table] {
			args := splitRule(line)
			switch {
			case args[1] == name:
				ok = ok && slices.Contains(sharedChains[i].Own, line)
			case strings.HasSuffix(line, " -j "+name) && slices.Contains(builtin, args[1]):
				in = append(in, "-D"+strings.TrimPrefix(line, "-A"))
			case strings.HasSuffix(line, " -j "+name) && !removing[table+" "+args[1]]:
				ok = false // another chain uses it
			}
		}
		if ok {
			removing[tc] = true
			jumps[table] = append(jumps[table], in...)
		}
	}
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		var names []string
		for _, tc := range chains {
			if t, name, _ := strings.Cut(tc, " "); t == table && removing[tc] {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", table)
		for _, j := range jumps[table] {
			fmt.Fprintln(&b, j)
		}
		for _, name := range names {
			fmt.Fprintf(&b, "-F %s\n", name)
		}
		for _, name := range names {
			fmt.Fprintf(&b, "-X %s\n", name)
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}
