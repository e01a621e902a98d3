//go:build linux

package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/podrun/runner"
	"github.com/podkit/podkit/internal/testharness"
)

// netConfDir writes a bridge conflist of the test's own (as podkit's
// default network, on bridge and subnet, without masquerade: nothing
// leaves the machine) and registers the removal of its host state.
func netConfDir(t *testing.T, bridge, subnet string) (dir, name string) {
	t.Helper()
	name = fmt.Sprintf("podkit-it%d-%s", os.Getpid(), bridge)
	conf := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": %q, "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}},
  {"type": "firewall", "backend": "iptables"}]}`, name, bridge, subnet)
	testharness.KeepCNIHostState(t, bridge, name)
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "50-it.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, name
}

// fetchHTTP gets http://addr/ from the host.
func fetchHTTP(addr string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPodrunHostPort runs the README's hostport example on a CNI network
// of the test's own: the pod's server answers the host on the pod IP and
// through its hostPort on 127.0.0.1, and reports the pod IP it got from
// the downward API; the address is released when podrun ends.
func TestPodrunHostPort(t *testing.T) {
	e := setup(t)
	const subnet = "10.196.1.0/24"
	confDir, name := netConfDir(t, "pki1", subnet)
	var podIP string
	var answers []string
	var errs []error
	args := []string{"--run-dir", e.runDir, "--log-dir", e.logDir, "--cgroup-parent", cgroupParent, // no --no-network
		"--cni-conf-dir", confDir, "--cni-network", name, "../examples/podrun/pods/hostport.yaml"}
	code, recs, stderr := podrun(t, args, func(r record) bool {
		if r.Type != "status" || r.Ready != "2/2" {
			return false
		}
		podIP = r.PodIP
		for _, addr := range []string{net.JoinHostPort(podIP, "8080"), "127.0.0.1:18080"} {
			a, err := fetchHTTP(addr)
			answers, errs = append(answers, a), append(errs, err)
		}
		return true
	})
	if code != runner.ExitInterrupted || len(answers) != 2 {
		t.Fatalf("exit %d, answers %q; stderr:\n%s\nlast records:\n%s", code, answers, stderr, lastRecords(recs, 10))
	}
	ip, err := netip.ParseAddr(podIP)
	if err != nil || !netip.MustParsePrefix(subnet).Contains(ip) {
		t.Fatalf("podIP %q not in %s", podIP, subnet)
	}
	want := "hello from hostport at " + podIP + "\n"
	for i, a := range answers {
		if errs[i] != nil || a != want {
			t.Errorf("answer %d: %q (%v), want %q", i, a, errs[i], want)
		}
	}
	if _, err := os.Stat(filepath.Join("/var/lib/cni/networks", name, podIP)); !os.IsNotExist(err) {
		t.Fatalf("lease of %s left: %v", podIP, err)
	}
}

// TestPodrunHostNetwork: a hostNetwork pod's server listens on the host's
// own loopback; its pod IP is the host's.
func TestPodrunHostNetwork(t *testing.T) {
	e := setup(t)
	var answer, podIP string
	var ferr error
	code, recs, stderr := podrun(t, e.args("testdata/hostnet.yaml"), func(r record) bool {
		if r.Type != "status" || r.Ready != "1/1" {
			return false
		}
		podIP = r.PodIP
		answer, ferr = fetchHTTP("127.0.0.1:18181")
		return true
	})
	if code != runner.ExitInterrupted {
		t.Fatalf("exit %d; stderr:\n%s\nlast records:\n%s", code, stderr, lastRecords(recs, 10))
	}
	if want := "hello from the host network, pod IP " + podIP + "\n"; ferr != nil || answer != want {
		t.Fatalf("answer %q (%v), want %q", answer, ferr, want)
	}
	if podIP != "" { // "" on a host without a global address
		found := false
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.String() == podIP {
				found = true
			}
		}
		if !found {
			t.Fatalf("podIP %s is not a host address", podIP)
		}
	}
}
