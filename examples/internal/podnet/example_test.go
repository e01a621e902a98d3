//go:build linux

package podnet_test

import (
	"context"
	"fmt"
	"log"

	"github.com/podkit/podkit/examples/internal/podnet"
)

// Attach a pod's pinned network namespace to podkit's default network with
// a hostPort, and detach it again. After a crash, a new Network with the
// same Config detaches it from libcni's cache, even with the netns gone.
func Example() {
	ctx := context.Background()
	nw, err := podnet.New(podnet.Config{List: podnet.Default()})
	if err != nil {
		log.Fatal(err)
	}
	pod := podnet.PodRef{ID: "web-1", Name: "web", Namespace: "default", UID: "6f0e..."}
	res, err := nw.Attach(ctx, pod, "/run/podkit/web-1/ns/net", podnet.AttachOptions{
		PortMappings: []podnet.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IPv4(), res.Interface, res.IPs[0].Gateway)
	if err := nw.Detach(ctx, pod, "/run/podkit/web-1/ns/net"); err != nil {
		log.Fatal(err)
	}
}
