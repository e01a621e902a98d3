//go:build linux

package manifest

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestHostPortsAndHostNetwork(t *testing.T) {
	p, err := Parse([]byte(pod("", `    ports:
    - {containerPort: 80, hostPort: 8080}
    - {containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 127.0.0.1}
    - {containerPort: 9090}`)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Port{{Port: 80, HostPort: 8080}, {Port: 53, Protocol: "UDP", HostPort: 5353, HostIP: "127.0.0.1"}, {Port: 9090}}
	if got := p.Containers[0].Ports; !slices.Equal(got, want) || p.Config.HostNetwork {
		t.Fatalf("ports %+v (hostNetwork %v)", got, p.Config.HostNetwork)
	}
	p, err = Parse([]byte(pod("  hostNetwork: true", "    ports:\n    - {containerPort: 80, hostPort: 80}")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Config.HostNetwork || p.Containers[0].Ports[0].HostPort != 0 {
		t.Fatalf("hostNetwork: %v, ports %+v (no mapping: the port is the host's)", p.Config.HostNetwork, p.Containers[0].Ports)
	}
	for _, tc := range []struct{ spec, ctr, field string }{
		{"  hostNetwork: true", "    ports:\n    - {containerPort: 80, hostPort: 8080}", "spec.containers[0].ports[0].hostPort"},
		{"", "    ports:\n    - {containerPort: 80, hostPort: 70000}", "spec.containers[0].ports[0].hostPort"},
		{"", "    ports:\n    - {containerPort: 80, hostPort: 8080, hostIP: localhost}", "spec.containers[0].ports[0].hostIP"},
		{"", "    ports:\n    - {containerPort: 80, hostIP: 127.0.0.1}", "spec.containers[0].ports[0].hostIP"},
	} {
		e := parseErr(t, pod(tc.spec, tc.ctr))
		if got := e.Fields(ErrInvalid); !errors.Is(e, ErrInvalid) || !slices.Equal(got, []string{tc.field}) {
			t.Errorf("%s: fields %q: %v", tc.ctr, got, e)
		}
	}
}

func TestDownwardAPIPodIP(t *testing.T) {
	doc := pod("", `    args: ["$(POD_IP)", "$(NAME)"]
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: POD_IPS
      valueFrom: {fieldRef: {fieldPath: status.podIPs, apiVersion: v1}}
    - name: NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: NS
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: URL
      value: http://$(POD_IP):80/`)
	doc = strings.Replace(doc, `command: ["/bin/sh", "-c", "sleep 1"]`, `command: ["/bin/echo"]`, 1)
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.SetPodIPs([]netip.Addr{netip.MustParseAddr("fd00::5"), netip.MustParseAddr("10.87.0.5")})
	c := p.Containers[0].Spec
	wantEnv := []string{"HOSTNAME=t", "POD_IP=10.87.0.5", "POD_IPS=10.87.0.5,fd00::5", "NAME=t", "NS=default", "URL=http://10.87.0.5:80/"}
	if !slices.Equal(c.Env, wantEnv) {
		t.Fatalf("env %q, want %q", c.Env, wantEnv)
	}
	if want := []string{"/bin/echo", "10.87.0.5", "t"}; !slices.Equal(c.Args, want) {
		t.Fatalf("args %q, want %q", c.Args, want)
	}
}
