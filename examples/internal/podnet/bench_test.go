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

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
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
		dir, err := nsjoin.OpenPinDir(filepath.Join(b.TempDir(), "ns"))
		if err != nil {
			b.Fatal(err)
		}
		defer dir.Teardown()
		for i := 0; b.Loop(); i++ {
			name := fmt.Sprintf("b%d", i)
			set, err := dir.Create(name, nsjoin.Net)
			if err != nil {
				b.Fatal(err)
			}
			if err := nsjoin.LoopbackUp(set.Get(nsjoin.Net)); err != nil {
				b.Fatal(err)
			}
			set.Close()
			if err := dir.Unpin(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	tn := newTestNetwork(b, 24, nil)
	ports := podnet.AttachOptions{PortMappings: []podnet.PortMapping{{HostPort: 20888, ContainerPort: 80}}}
	b.Run("podnet", func(b *testing.B) {
		dir, err := nsjoin.OpenPinDir(filepath.Join(b.TempDir(), "ns"))
		if err != nil {
			b.Fatal(err)
		}
		defer dir.Teardown()
		for i := 0; b.Loop(); i++ {
			name := fmt.Sprintf("b%d", i)
			set, err := dir.Create(name, nsjoin.Net)
			if err != nil {
				b.Fatal(err)
			}
			if err := nsjoin.LoopbackUp(set.Get(nsjoin.Net)); err != nil {
				b.Fatal(err)
			}
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

// byHand runs the conflist's plugins the way a runtime without libcni would.
func byHand(b *testing.B, list *podnet.ConfList, ns string) {
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
	for i := len(list.Plugins) - 1; i >= 0; i-- {
		plugin("DEL", list.Plugins[i], prev)
	}
}
