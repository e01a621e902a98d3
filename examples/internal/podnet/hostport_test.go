//go:build linux

package podnet_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// A hostPort answers from the host on the host's address and on 127.0.0.1,
// and stops answering after Detach.
func TestHostPort(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	nw := newTestNetwork(t, 24, nil)
	p := newPods(t, "hostport", 1)[0]
	hostPort := 20000 + os.Getpid()%10000
	res, err := nw.Attach(ctx, p.ref, p.path, podnet.AttachOptions{PortMappings: []podnet.PortMapping{
		{HostPort: int32(hostPort), ContainerPort: 8080, Protocol: "TCP"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, p, 8080, "hello via hostPort")
	for _, host := range []string{hostIPv4(t).String(), "127.0.0.1"} {
		addr := fmt.Sprintf("%s:%d", host, hostPort)
		if got, err := fetch(nil, addr); err != nil || got != "hello via hostPort" {
			t.Fatalf("host -> %s (pod %s:8080): %q, %v", addr, res.IPv4(), got, err)
		}
	}
	if err := nw.Detach(ctx, p.ref, p.path); err != nil {
		t.Fatal(err)
	}
	if got, err := fetch(nil, fmt.Sprintf("127.0.0.1:%d", hostPort)); err == nil {
		t.Fatalf("hostPort still answers after Detach: %q", got)
	}
}
