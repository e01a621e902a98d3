//go:build linux

package podnet_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
)

func TestConfigErrors(t *testing.T) {
	good, _ := podnet.BridgeConfList(podnet.BridgeOptions{Name: "n", Bridge: "br", Subnets: []netip.Prefix{netip.MustParsePrefix("10.199.250.0/24")}})
	confDir := t.TempDir()
	os.WriteFile(filepath.Join(confDir, "10-broken.conflist"), []byte(`{"name": "broken", "plugins": [`), 0o644)
	badDir := t.TempDir()
	os.WriteFile(filepath.Join(badDir, "10-ok.conflist"), []byte(`{"cniVersion":"1.0.0","name":"ok","plugins":[{"type":"loopback"}]}`), 0o644)
	missing := *good
	missing.Plugins = append(append([]map[string]any(nil), good.Plugins...), map[string]any{"type": "no-such-plugin"})
	for _, tc := range []struct {
		name  string
		cfg   podnet.Config
		field string
		want  error
	}{
		{"no source", podnet.Config{}, "Config", podnet.ErrInvalidConfig},
		{"two sources", podnet.Config{List: good, Bytes: []byte("{}")}, "Config", podnet.ErrInvalidConfig},
		{"relative plugin dir", podnet.Config{List: good, PluginDirs: []string{"lib/cni"}}, "Config.PluginDirs[0]", podnet.ErrInvalidConfig},
		{"relative cache dir", podnet.Config{List: good, CacheDir: "cache"}, "Config.CacheDir", podnet.ErrInvalidConfig},
		{"bad ifname", podnet.Config{List: good, IfName: "eth0/1"}, "Config.IfName", podnet.ErrInvalidConfig},
		{"del attempts", podnet.Config{List: good, DelAttempts: -1}, "Config.DelAttempts", podnet.ErrInvalidConfig},
		{"broken JSON", podnet.Config{Bytes: []byte(`{"name": "x", "plugins": [`)}, "Config.Bytes", podnet.ErrInvalidConfig},
		{"no plugins", podnet.Config{Bytes: []byte(`{"cniVersion":"1.0.0","name":"x","plugins":[]}`)}, "Config.Bytes", podnet.ErrInvalidConfig},
		{"no version", podnet.Config{Bytes: []byte(`{"name":"x","plugins":[{"type":"loopback"}]}`)}, "Config.Bytes: cniVersion", podnet.ErrInvalidConfig},
		{"plugin without type", podnet.Config{Bytes: []byte(`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"loopback"},{}]}`)}, "Config.Bytes", podnet.ErrInvalidConfig},
		{"broken file in conf dir", podnet.Config{Name: "broken", ConfDir: confDir}, "Config.Name", podnet.ErrInvalidConfig},
		{"name not in conf dir", podnet.Config{Name: "other", ConfDir: badDir}, "Config.Name", podnet.ErrInvalidConfig},
		{"missing conf dir", podnet.Config{Name: "x", ConfDir: "/nonexistent/podkit"}, "Config.ConfDir", podnet.ErrInvalidConfig},
		{"missing plugin", podnet.Config{List: &missing}, "plugins[3].type", podnet.ErrPluginNotFound},
		{"no plugin dir has it", podnet.Config{List: good, PluginDirs: []string{t.TempDir()}}, "plugins[0].type", podnet.ErrPluginNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := podnet.New(tc.cfg)
			var ce *podnet.ConfigError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, tc.field) {
				t.Fatalf("New: %v; want %v naming %s", err, tc.want, tc.field)
			}
			t.Log(err)
		})
	}
	if nw, err := podnet.New(podnet.Config{Name: "ok", ConfDir: badDir}); err != nil || nw.Name() != "ok" {
		t.Fatalf("conflist by name: %v", err)
	}
	if _, err := podnet.New(podnet.Config{List: podnet.Default()}); err != nil {
		t.Fatalf("Default: %v", err)
	}
}

func TestBridgeOptionErrors(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		o     podnet.BridgeOptions
		field string
	}{
		{podnet.BridgeOptions{Bridge: "br", Subnets: []netip.Prefix{p("10.0.0.0/24")}}, "BridgeOptions.Name"},
		{podnet.BridgeOptions{Name: "n", Bridge: "a-very-long-bridge-name", Subnets: []netip.Prefix{p("10.0.0.0/24")}}, "BridgeOptions.Bridge"},
		{podnet.BridgeOptions{Name: "n", Bridge: "br"}, "BridgeOptions.Subnets"},
		{podnet.BridgeOptions{Name: "n", Bridge: "br", Subnets: []netip.Prefix{p("10.0.0.1/24")}}, "BridgeOptions.Subnets[0]"},
		{podnet.BridgeOptions{Name: "n", Bridge: "br", Subnets: []netip.Prefix{p("10.0.0.0/24"), p("10.1.0.0/24")}}, "BridgeOptions.Subnets[1]"},
		{podnet.BridgeOptions{Name: "n", Bridge: "br", Subnets: []netip.Prefix{p("10.0.0.0/31")}}, "BridgeOptions.Subnets[0]"},
	} {
		_, err := podnet.BridgeConfList(tc.o)
		var ce *podnet.ConfigError
		if !errors.Is(err, podnet.ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("BridgeConfList(%+v) = %v; want ErrInvalidConfig naming %s", tc.o, err, tc.field)
		}
	}
}

// Bad arguments are refused before any plugin runs.
func TestAttachArgumentErrors(t *testing.T) {
	nw, err := podnet.New(podnet.Config{List: podnet.Default()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ok := podnet.PodRef{ID: "pod1", Name: "web", Namespace: "default", UID: "u1"}
	port := func(m podnet.PortMapping) podnet.AttachOptions {
		return podnet.AttachOptions{PortMappings: []podnet.PortMapping{m}}
	}
	for _, tc := range []struct {
		pod   podnet.PodRef
		netns string
		opts  podnet.AttachOptions
		field string
	}{
		{podnet.PodRef{}, "/proc/self/ns/net", podnet.AttachOptions{}, "PodRef.ID"},
		{podnet.PodRef{ID: "-x"}, "/proc/self/ns/net", podnet.AttachOptions{}, "PodRef.ID"},
		{podnet.PodRef{ID: "a/b"}, "/proc/self/ns/net", podnet.AttachOptions{}, "PodRef.ID"},
		{podnet.PodRef{ID: "p", Name: "a;K8S_POD_NAME=evil"}, "/proc/self/ns/net", podnet.AttachOptions{}, "PodRef.Name"},
		{podnet.PodRef{ID: "p", Namespace: "a b"}, "/proc/self/ns/net", podnet.AttachOptions{}, "PodRef.Namespace"},
		{ok, "", podnet.AttachOptions{}, "netnsPath"},
		{ok, "relative/net", podnet.AttachOptions{}, "netnsPath"},
		{ok, "/nonexistent/podkit/net", podnet.AttachOptions{}, "netnsPath"},
		{ok, "/proc/self/ns/net", port(podnet.PortMapping{HostPort: 0, ContainerPort: 80}), "AttachOptions.PortMappings[0].HostPort"},
		{ok, "/proc/self/ns/net", port(podnet.PortMapping{HostPort: 80, ContainerPort: 70000}), "AttachOptions.PortMappings[0].ContainerPort"},
		{ok, "/proc/self/ns/net", port(podnet.PortMapping{HostPort: 80, ContainerPort: 80, Protocol: "icmp"}), "AttachOptions.PortMappings[0].Protocol"},
		{ok, "/proc/self/ns/net", port(podnet.PortMapping{HostPort: 80, ContainerPort: 80, HostIP: "localhost"}), "AttachOptions.PortMappings[0].HostIP"},
	} {
		_, err := nw.Attach(ctx, tc.pod, tc.netns, tc.opts)
		var ce *podnet.ConfigError
		if !errors.Is(err, podnet.ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("Attach(%+v, %q, %+v) = %v; want ErrInvalidConfig naming %s", tc.pod, tc.netns, tc.opts, err, tc.field)
		}
	}
	if err := nw.Detach(ctx, podnet.PodRef{ID: "a/b"}, ""); !errors.Is(err, podnet.ErrInvalidConfig) {
		t.Errorf("Detach with a bad ID: %v", err)
	}
	if err := nw.Detach(ctx, ok, "relative"); !errors.Is(err, podnet.ErrInvalidConfig) {
		t.Errorf("Detach with a relative netns path: %v", err)
	}
}
