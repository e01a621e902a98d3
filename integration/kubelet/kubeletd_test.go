//go:build linux

package kubelet

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// kubeletConfig is the standalone kubelet's configuration: no API server
// (no kubeconfig), static pods only, no QoS cgroups and no node allocatable
// enforcement (podkit-cri places pods in its own cgroup parent), its ports
// on loopback with anonymous access (the test reads /pods, /stats/summary
// and container logs), no eviction thresholds and no local storage
// accounting (cadvisor finds no file system info for the guest's /tmp, an
// ext4 on the RAM disk /dev/ram0). %s: the manifest directory, then the
// CRI endpoint twice.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: %s
fileCheckFrequency: 2s
syncFrequency: 5s
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
cgroupDriver: cgroupfs
cgroupsPerQOS: false
failSwapOn: false
failCgroupV1: false
address: 127.0.0.1
port: 10250
readOnlyPort: 10255
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
localStorageCapacityIsolation: false
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerNode: false
`

// startKubelet starts the kubelet standalone on the CRI socket sock, its
// state under dir, and waits for its healthz.
func startKubelet(t *testing.T, bin, dir, sock, manifests string) *daemon {
	t.Helper()
	cfg := filepath.Join(dir, "kubelet.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, kubeletConfig, manifests, sock, sock), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := kubeChains(t)
	t.Cleanup(func() { removeKubeChains(t, before) })
	// The kubelet makes its root directory a shared bind mount of itself.
	root := filepath.Join(dir, "kubelet")
	t.Cleanup(func() {
		if err := unix.Unmount(root, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			t.Errorf("unmount the kubelet's root dir: %v", err)
		}
	})
	kl := startDaemon(t, "kubelet", bin, "--config", cfg, "--root-dir", root,
		"--enforce-node-allocatable=", "--v=2")
	waitFor(t, 3*time.Minute, "the kubelet's healthz", func() (bool, string) {
		if kl.cmd.ProcessState != nil {
			t.Fatalf("the kubelet exited: %v", kl.cmd.ProcessState)
		}
		b, err := httpGet("http://127.0.0.1:10248/healthz")
		return err == nil && string(b) == "ok", string(b) + errString(err)
	})
	return kl
}

type chain struct{ tool, table, name string }

// kubeChains lists the KUBE-* iptables chains (the kubelet makes canary,
// hint and firewall chains at start and leaves them when it stops) and
// the rules of other chains that jump to one.
func kubeChains(t *testing.T) (chains map[chain]bool, jumps map[chain][]string) {
	t.Helper()
	chains, jumps = map[chain]bool{}, map[chain][]string{}
	for _, tool := range []string{"iptables", "ip6tables"} {
		b, err := exec.Command(tool + "-save").Output()
		if err != nil {
			t.Fatalf("%s-save: %v", tool, err)
		}
		table := ""
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "*"):
				table = l[1:]
			case strings.HasPrefix(l, ":KUBE-"):
				chains[chain{tool, table, strings.Fields(l[1:])[0]}] = true
			case strings.HasPrefix(l, "-A ") && !strings.HasPrefix(l, "-A KUBE-"):
				if _, target, ok := strings.Cut(l, " -j KUBE-"); ok {
					c := chain{tool, table, "KUBE-" + strings.Fields(target)[0]}
					jumps[c] = append(jumps[c], l)
				}
			}
		}
	}
	return chains, jumps
}

// removeKubeChains removes the KUBE-* chains that were not in before, and
// the rules jumping to them.
func removeKubeChains(t *testing.T, before map[chain]bool) {
	chains, jumps := kubeChains(t)
	for c := range chains {
		if before[c] {
			continue
		}
		var ops [][]string
		for _, rule := range jumps[c] {
			ops = append(ops, append([]string{"-D"}, splitRule(strings.TrimPrefix(rule, "-A "))...))
		}
		ops = append(ops, []string{"-F", c.name}, []string{"-X", c.name})
		for _, op := range ops {
			args := append([]string{"-w", "-t", c.table}, op...)
			if out, err := exec.Command(c.tool, args...).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v: %s", c.tool, strings.Join(args, " "), err, out)
			}
		}
	}
}

// splitRule splits an iptables-save rule into arguments: words, and
// double-quoted strings (comments) with \" and \\ escapes.
func splitRule(rule string) []string {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(rule); i++ {
		ch := rule[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(rule):
			i++
			cur.WriteByte(rule[i])
		case ch == '"':
			quoted, inWord = !quoted, true
		case ch == ' ' && !quoted:
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}
