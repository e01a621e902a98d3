//go:build linux

package testharness

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vishvananda/netlink"
)

// CNIStateDir is the CNI state directory the leak checker watches:
// host-local's leases (networks/<network>/<IP>) and libcni's result cache
// (results/<network>-<ID>-<ifname>).
var CNIStateDir = "/var/lib/cni"

// firewallWord selects the iptables and nftables lines the checker compares:
// those of CNI plugins (chains CNI-*, comments naming a network) and
// podkit's own.
var firewallWord = regexp.MustCompile(`(?i)cni|podkit`)

// snapshotLinks lists the host network namespace's links by name, with
// their kind ("bridge", "veth", ...). The netlink socket is made by the
// calling thread, which the harness keeps in the host namespace.
func snapshotLinks() (map[string]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(links))
	for _, l := range links {
		out[l.Attrs().Name] = l.Type()
	}
	return out, nil
}

// snapshotCNILeases lists host-local's leases: files named after an
// address in <CNIStateDir>/networks/<network>/. The directory's lock and
// last_reserved_ip.* files are bookkeeping, not leases.
func snapshotCNILeases() (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(CNIStateDir, "networks", "*", "*"))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, f := range files {
		// host-local names IPv6 leases with '_' for ':' on some platforms.
		if _, err := netip.ParseAddr(strings.ReplaceAll(filepath.Base(f), "_", ":")); err == nil {
			out[f] = true
		}
	}
	return out, nil
}

// PodnetStateDir is where podkit's CNI glue (examples/internal/podnet)
// records the host objects a network's first pod made, until its last
// pod's Detach removes them.
var PodnetStateDir = "/run/podkit/podnet"

// snapshotCNICache lists libcni's cached results and podnet's records.
func snapshotCNICache() (map[string]bool, error) {
	ents, err := os.ReadDir(filepath.Join(CNIStateDir, "results"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	out := make(map[string]bool, len(ents))
	for _, e := range ents {
		out[filepath.Join(CNIStateDir, "results", e.Name())] = true
	}
	records, err := filepath.Glob(filepath.Join(PodnetStateDir, "*.json"))
	for _, r := range records {
		out[r] = true
	}
	return out, err
}

// snapshotFirewall records, per tool, every iptables and ip6tables rule and
// chain, and every nftables table, that mentions CNI or podkit, without
// packet counters. A missing tool contributes nothing, a failing one a
// fixed marker.
func snapshotFirewall() (map[string]int, error) {
	out := map[string]int{}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		b, err := exec.Command(tool).Output()
		if err != nil {
			// A kernel without the tables (a minimal VM): the same
			// marker in every snapshot, so the tests still run.
			out[tool+" unavailable: "+err.Error()]++
			continue
		}
		table := ""
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "*"):
				table = line[1:]
			case strings.HasPrefix(line, ":") && firewallWord.MatchString(line):
				name, _, _ := strings.Cut(line, " ")
				out[tool+" "+table+" chain "+name[1:]]++
			case strings.HasPrefix(line, "-A") && firewallWord.MatchString(line):
				out[tool+" "+table+" "+line]++
			}
		}
	}
	if _, err := exec.LookPath("nft"); err == nil {
		b, err := exec.Command("nft", "list", "tables").Output()
		if err != nil {
			out["nft unavailable: "+err.Error()]++
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if firewallWord.Match(line) {
				out["nft "+string(line)]++
			}
		}
	}
	return out, nil
}
