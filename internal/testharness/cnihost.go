//go:build linux

package testharness

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// cniCacheDir is libcni's default cache, which holds host-local's leases.
const cniCacheDir = "/var/lib/cni"

// KeepCNIHostState registers a cleanup (to run before the leak check, so
// call it after Privileged) that removes what a CNI bridge network keeps
// on the host by design once its pods are gone, if the test brought it:
// the bridge and host-local's directory for network name (if they are
// new), portmap's and firewall's top-level chains (if they are new and
// hold nothing else: a per-pod rule left behind is still reported), and
// the forwarding sysctls the bridge plugin turned on. Each is judged on
// its own: a host where a network's bridge already exists may still lack
// portmap's chains, which a test with a hostPort then brings. podkit's
// own networks (examples/internal/podnet) take back what they made at
// their last pod's Detach; this is the net under tests that end
// otherwise. Give each test its own network name, bridge and subnet.
func KeepCNIHostState(t testing.TB, bridge, name string) {
	t.Helper()
	fwBefore := firewallRules(t)
	sysctls := map[string]string{}
	for _, k := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
		if b, err := os.ReadFile(k); err == nil {
			sysctls[k] = string(b)
		}
	}
	_, bridgeErr := netlink.LinkByName(bridge)
	netDir := filepath.Join(cniCacheDir, "networks", name)
	_, dirErr := os.Stat(netDir)
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(bridge); err == nil && bridgeErr != nil {
			if err := netlink.LinkDel(l); err != nil {
				t.Errorf("remove bridge %s: %v", bridge, err)
			}
		}
		removeSkeleton(t, fwBefore)
		if dirErr != nil {
			os.RemoveAll(netDir) // its leases are checked by the leak checker
		}
		for k, v := range sysctls {
			os.WriteFile(k, []byte(v), 0o644)
		}
	})
}

// skeleton are the shared lines portmap and firewall keep for a network.
var skeleton = regexp.MustCompile(`^(` +
	`:CNI-(HOSTPORT-(DNAT|SETMARK|MASQ)|FORWARD|ADMIN) .*` +
	`|-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD) .*-j CNI-(HOSTPORT-(DNAT|MASQ)|FORWARD)` +
	`|-A CNI-HOSTPORT-SETMARK .*-j MARK .*` +
	`|-A CNI-HOSTPORT-MASQ .*-j MASQUERADE` +
	`|-A CNI-FORWARD .*-j CNI-ADMIN)$`)

type fwLine struct{ tool, table, line string }

func firewallRules(t testing.TB) map[fwLine]int {
	t.Helper()
	out := map[fwLine]int{}
	for _, tool := range []string{"iptables", "ip6tables"} {
		b, err := exec.Command(tool + "-save").Output()
		if err != nil {
			t.Fatalf("%s-save: %v", tool, err)
		}
		table := ""
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "*") {
				table = l[1:]
			} else if strings.Contains(l, "CNI-") && (l[0] == ':' || l[0] == '-') {
				out[fwLine{tool, table, l}]++
			}
		}
	}
	return out
}

// removeSkeleton removes the skeleton lines that are new since before, if
// every new line is skeleton: anything else is a leak the checker reports.
// Concurrent portmap ADDs may append a skeleton rule twice (check, then
// append), so lines are counted.
func removeSkeleton(t testing.TB, before map[fwLine]int) {
	var rules, chains []fwLine
	for l, n := range firewallRules(t) {
		switch {
		case n <= before[l]:
		case !skeleton.MatchString(l.line):
			return
		case l.line[0] == ':':
			chains = append(chains, l)
		default:
			for range n - before[l] {
				rules = append(rules, l)
			}
		}
	}
	run := func(l fwLine, args ...string) {
		if out, err := exec.Command(l.tool, append([]string{"-w", "-t", l.table}, args...)...).CombinedOutput(); err != nil {
			t.Errorf("%s %v: %v: %s", l.tool, args, err, out)
		}
	}
	newChain := map[string]bool{}
	for _, c := range chains {
		newChain[c.tool+" "+c.table+" "+strings.Fields(c.line)[0][1:]] = true
	}
	for _, r := range rules { // rules in new chains go with the flush below
		if args := splitArgs(r.line); !newChain[r.tool+" "+r.table+" "+args[1]] {
			run(r, append([]string{"-D"}, args[1:]...)...)
		}
	}
	for _, c := range chains {
		run(c, "-F", strings.Fields(c.line)[0][1:])
	}
	for _, c := range chains {
		run(c, "-X", strings.Fields(c.line)[0][1:])
	}
}

var quotedWord = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\S+`)

// splitArgs splits an iptables-save rule line, keeping "quoted words".
func splitArgs(line string) []string {
	var out []string
	for _, m := range quotedWord.FindAllString(line, -1) {
		if strings.HasPrefix(m, `"`) {
			m = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[1 : len(m)-1])
		}
		out = append(out, m)
	}
	return out
}
