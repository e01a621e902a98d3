//go:build linux

package podnet_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

// BenchmarkPodNetwork compares, per pod, side by side:
//   - netns: a pinned network namespace with lo up, and its removal (no CNI);
//   - podnet: the same plus Attach and Detach on a bridge network (bridge +
//     host-local, portmap with one hostPort, firewall);
//   - by-hand: the floor: `ip netns add`, the same plugin binaries run
//     directly (ADD chained by hand, DEL in reverse), `ip netns del`.
func BenchmarkPodNetwork(b *testing.B) {
	testharness.Privileged(b)
	ctx := ctxT(b)
	b.Run("netns", func(b *testing.B) {
		dir := benchPinDir(b)
		for i := 0; b.Loop(); i++ {
			name := fmt.Sprintf("b%d", i)
			set := benchNetns(b, dir, name)
			set.Close()
			if err := dir.Unpin(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	tn := newTestNetwork(b, 24, nil)
	ports := podnet.AttachOptions{PortMappings: []podnet.PortMapping{{HostPort: 20888, ContainerPort: 80}}}
	b.Run("podnet", func(b *testing.B) {
		dir := benchPinDir(b)
		for i := 0; b.Loop(); i++ {
			name := fmt.Sprintf("b%d", i)
			set := benchNetns(b, dir, name)
			ref := podnet.PodRef{ID: name, Name: name, Namespace: "bench"}
			if _, err := tn.Attach(ctx, ref, dir.PinPath(name, nsjoin.Net), ports); err != nil {
				b.Fatal(err)
			}
			if err := tn.Detach(ctx, ref, dir.PinPath(name, nsjoin.Net)); err != nil {
				b.Fatal(err)
			}
			set.Close()
			if err := dir.Unpin(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			byHand(b, tn.List, fmt.Sprintf("podnet-bench-%d-%d", os.Getpid(), i))
		}
	})
}

// benchPinDir is a pin directory in the benchmark's temporary directory,
// torn down when it ends.
func benchPinDir(b *testing.B) *nsjoin.PinDir {
	dir, err := nsjoin.OpenPinDir(filepath.Join(b.TempDir(), "ns"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dir.Teardown() })
	return dir
}

// benchNetns creates and pins network namespace name in dir, with lo up.
func benchNetns(b *testing.B, dir *nsjoin.PinDir, name string) *nsjoin.Set {
	set, err := dir.Create(name, nsjoin.Net)
	if err != nil {
		b.Fatal(err)
	}
	if err := nsjoin.LoopbackUp(set.Get(nsjoin.Net)); err != nil {
		b.Fatal(err)
	}
	return set
}

// byHand runs the conflist's plugins the way a runtime without libcni would.
// It returns how long the setup took (netns, lo up, every ADD).
func byHand(b *testing.B, list *podnet.ConfList, ns string) (setup time.Duration) {
	t0 := time.Now()
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	run("ip", "netns", "add", ns)
	defer run("ip", "netns", "del", ns)
	run("ip", "-n", ns, "link", "set", "lo", "up")
	env := append(os.Environ(), "CNI_CONTAINERID="+ns, "CNI_NETNS=/run/netns/"+ns, "CNI_IFNAME=eth0",
		"CNI_PATH=/usr/lib/cni", "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME="+ns)
	plugin := func(cmd string, conf map[string]any, prev json.RawMessage) json.RawMessage {
		c := map[string]any{"cniVersion": list.CNIVersion, "name": list.Name}
		for k, v := range conf {
			c[k] = v
		}
		if conf["type"] == "portmap" {
			c["runtimeConfig"] = map[string]any{"portMappings": []map[string]any{{"hostPort": 20889, "containerPort": 80, "protocol": "tcp"}}}
		}
		if prev != nil {
			c["prevResult"] = prev
		}
		stdin, _ := json.Marshal(c)
		p := exec.Command(filepath.Join("/usr/lib/cni", conf["type"].(string)))
		p.Env, p.Stdin = append(env, "CNI_COMMAND="+cmd), bytes.NewReader(stdin)
		out, err := p.Output()
		if err != nil {
			b.Fatalf("%s %s: %v: %s", cmd, conf["type"], err, out)
		}
		return out
	}
	var prev json.RawMessage
	for _, conf := range list.Plugins {
		prev = plugin("ADD", conf, prev)
	}
	setup = time.Since(t0)
	for i := len(list.Plugins) - 1; i >= 0; i-- {
		plugin("DEL", list.Plugins[i], prev)
	}
	return setup
}

// BenchmarkSandboxNetwork compares a whole pod sandbox (pause, pinned
// namespaces, cgroup, /etc files) created to Ready and destroyed, side by
// side:
//   - loopback: no Network (loopback only);
//   - bridge: Config.Network = Network.For on a bridge network (bridge +
//     host-local, portmap with one hostPort, firewall);
//   - by-hand: the floor of the network part alone: `ip netns add`, the
//     same plugins run directly, `ip netns del`.
//
// create-ms/op is the Create (to Ready) part of each cycle (by hand: the
// netns and every ADD); ns/op the whole cycle, teardown included.
func BenchmarkSandboxNetwork(b *testing.B) {
	testharness.Privileged(b)
	ctx := ctxT(b)
	tn := newTestNetwork(b, 24, nil)
	ports := podnet.AttachOptions{PortMappings: []podnet.PortMapping{{HostPort: 20890, ContainerPort: 80}}}
	pauseBin := testharness.PauseBinary(b)
	b.Cleanup(func() {
		for _, h := range []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified", ""} {
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", h, "podkit-podnet-bench"))
		}
	})
	for _, withNet := range []bool{false, true} {
		name := map[bool]string{false: "loopback", true: "bridge"}[withNet]
		b.Run(name, func(b *testing.B) {
			runDir := filepath.Join(b.TempDir(), "run")
			var create time.Duration
			for i := 0; b.Loop(); i++ {
				cfg := sandbox.Config{ID: fmt.Sprintf("bench-%d", i), PauseBinary: pauseBin, RunDir: runDir,
					CgroupParent: "podkit-podnet-bench"}
				if withNet {
					cfg.Network = tn.For(podnet.PodRef{Name: cfg.ID, Namespace: "bench"}, ports)
				}
				t0 := time.Now()
				sb, err := sandbox.Create(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				create += time.Since(t0)
				if err := sb.Destroy(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(create)/1e6/float64(b.N), "create-ms/op")
		})
	}
	b.Run("by-hand", func(b *testing.B) {
		var create time.Duration
		for i := 0; b.Loop(); i++ {
			create += byHand(b, tn.List, fmt.Sprintf("podnet-sbbench-%d-%d", os.Getpid(), i))
		}
		b.ReportMetric(float64(create)/1e6/float64(b.N), "create-ms/op")
	})
}
