//go:build linux

package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

func init() {
	if sandbox.IsInit() {
		return // a container bootstrap of this test binary
	}
	// Process-wide handles opened lazily by libcontainer's dependencies and
	// nsjoin (probes join the pod's namespace): open them before any leak
	// snapshot, as the sandbox and integration tests do.
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	_, _ = procfs.OpenProcRoot()
	_ = nsjoin.Prepare()
}

func TestNetworkFlags(t *testing.T) {
	if _, err := parseFlags([]string{"--no-network", "--cni-network", "x", "p.yaml"}, io.Discard); err == nil {
		t.Fatal("--no-network with --cni-network accepted")
	}
	o, err := parseFlags([]string{"--cni-network", "mynet", "--cni-conf-dir", "/tmp/cni", "p.yaml"}, io.Discard)
	if err != nil || o.CNINetwork != "mynet" || o.CNIConfDir != "/tmp/cni" || o.NoNetwork {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parseFlags([]string{"p.yaml"}, io.Discard)
	if err != nil || o.CNINetwork != "" || o.CNIConfDir != podnet.DefaultConfDir {
		t.Fatalf("defaults %+v %v", o, err)
	}
}

// testConfDir writes a bridge conflist of the test's own (name, bridge
// and subnet), registers the removal of its host state, and returns the
// conf dir and the network name.
func testConfDir(t *testing.T, bridge, subnet string) (dir, name string) {
	t.Helper()
	name = fmt.Sprintf("podrun-t%d-%s", os.Getpid(), bridge)
	list, err := podnet.BridgeConfList(podnet.BridgeOptions{Name: name, Bridge: bridge,
		Subnets: []netip.Prefix{netip.MustParsePrefix(subnet)}, NoMasquerade: true})
	if err != nil {
		t.Fatal(err)
	}
	testharness.KeepCNIHostState(t, bridge, name)
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-test.conflist"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, name
}

// TestHostPortPod runs pods/hostport.yaml on a network of the test's own:
// the pod IP is in the status records and in the container's downward API
// env, the TCP server answers the host on the pod IP and on its hostPort
// from 127.0.0.1, the UDP echo on its hostPort bound to hostIP 127.0.0.1.
// After the run its address lease is gone.
func TestHostPortPod(t *testing.T) {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	confDir, name := testConfDir(t, "pkr1", "10.197.1.0/24")
	const cgParent = "podkit-runner-test"
	t.Cleanup(func() { removeTestParent(cgParent) })
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Main(ctx, []string{"--json", "--run-dir", tmp + "/run", "--log-dir", tmp + "/logs", "--cgroup-parent", cgParent,
			"--cni-conf-dir", confDir, "--cni-network", name, "../pods/hostport.yaml"}, pw, &stderr, nil)
		pw.Close()
	}()
	var podIP string
	var answers []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var rec statusRecord
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Type != "status" {
			continue
		}
		if podIP == "" {
			podIP = rec.PodIP
		}
		if rec.Ready == "2/2" && answers == nil {
			for _, addr := range []string{net.JoinHostPort(podIP, "8080"), "127.0.0.1:18080"} {
				answers = append(answers, httpGet(t, addr))
			}
			answers = append(answers, udpEcho(t, "127.0.0.1:15353", "ping"))
			cancel()
		}
	}
	if c := <-code; c != ExitInterrupted {
		t.Fatalf("exit %d; stderr:\n%s", c, stderr.String())
	}
	ip, err := netip.ParseAddr(podIP)
	if err != nil || !netip.MustParsePrefix("10.197.1.0/24").Contains(ip) {
		t.Fatalf("podIP %q (%v)", podIP, err)
	}
	want := "hello from hostport at " + podIP + "\n"
	if len(answers) != 3 || answers[0] != want || answers[1] != want || answers[2] != "echo: ping" {
		t.Fatalf("answers %q, want %q twice and the UDP echo", answers, want)
	}
	if _, err := os.Stat(filepath.Join(podnet.DefaultCacheDir, "networks", name, podIP)); !os.IsNotExist(err) {
		t.Fatalf("lease of %s after the run: %v", podIP, err)
	}
}

func httpGet(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Errorf("GET %s: %v", addr, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// udpEcho sends msg to addr until a reply comes (the server may still be
// binding its socket) and returns it.
func udpEcho(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer c.Close()
	buf := make([]byte, 512)
	for range 20 {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Error(err)
			return ""
		}
		c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			return string(buf[:n])
		}
	}
	t.Errorf("no UDP answer from %s", addr)
	return ""
}
