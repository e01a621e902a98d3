//go:build linux

package criserver_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestPodNetwork gives a pod an IP on a bridge network of the test's own,
// reaches a listener in the pod on its IP and on a hostPort (also through
// 127.0.0.1), survives a crash of the runtime, and releases the address
// at stop.
func TestPodNetwork(t *testing.T) {
	const name, bridge = "podkit-cri-test", "pkcri0"
	h := startWith(t, "", name+"/"+bridge+"/10.198.7.0/24")
	testharness.KeepCNIHostState(t, bridge, name)
	c := ctx(t)
	st, err := h.rt.Status(c, &runtimeapi.StatusRequest{})
	if err != nil || !st.Status.Conditions[1].Status {
		t.Fatalf("Status = %v, %v; want NetworkReady", st, err)
	}
	cfg := podConfig("net")
	cfg.PortMappings = []*runtimeapi.PortMapping{{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 8080, HostPort: 18787}}
	run, err := h.rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	id := run.PodSandboxId
	h.crash() // the address and the pod survive the runtime
	sst, err := h.rt.PodSandboxStatus(c, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(sst.Status.Network.Ip)
	if ip == nil || !(&net.IPNet{IP: net.IPv4(10, 198, 7, 0), Mask: net.CIDRMask(24, 32)}).Contains(ip) {
		t.Fatalf("pod IP %q, want one in 10.198.7.0/24", sst.Status.Network.Ip)
	}
	ln := listenInPod(t, filepath.Join(h.runDir, id, "ns", "pod", "net"), 8080)
	defer ln.Close()
	for _, addr := range []string{net.JoinHostPort(ip.String(), "8080"), "127.0.0.1:18787"} {
		if got := hello(t, addr); got != "hello from the pod" {
			t.Errorf("%s answered %q", addr, got)
		}
	}
	lease := filepath.Join("/var/lib/cni/networks", name, ip.String())
	if _, err := os.Stat(lease); err != nil {
		t.Errorf("no lease for the pod's IP: %v", err)
	}
	ln.Close()
	if _, err := h.rt.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lease); !os.IsNotExist(err) {
		t.Errorf("the pod's lease is still there after StopPodSandbox: %v", err)
	}
	if _, err := h.rt.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatal(err)
	}
}

// listenInPod listens on port in the network namespace at pin and answers
// every connection with one line.
func listenInPod(t *testing.T, pin string, port int) net.Listener {
	t.Helper()
	h, err := nsjoin.Open(pin, nsjoin.Net)
	if err != nil {
		t.Fatal(err)
	}
	set, err := nsjoin.NewSet(h)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var ln net.Listener
	err = nsjoin.Do(set, func() error {
		var err error
		ln, err = net.Listen("tcp", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("hello from the pod\n"))
			conn.Close()
		}
	}()
	return ln
}

func hello(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return ""
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return line[:max(0, len(line)-1)]
}
