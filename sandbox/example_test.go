//go:build linux

package sandbox_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// A pod with two containers sharing a volume, created and started as the
// CRI does it; init containers, restart policies and the pod phase are a
// kubelet's (examples/kubelet). Needs root; compile-only.
func Example() {
	ctx := context.Background()
	sb, err := sandbox.Create(ctx, sandbox.Config{
		ID:       "web-1",
		Hostname: "web",
		Sysctls:  map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"},
		Volumes:  []sandbox.Volume{{Name: "cache", Medium: sandbox.MediumMemory}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(ctx)

	rootfs := "/var/lib/images/busybox/rootfs"
	vol := []sandbox.Mount{{Destination: "/cache", Volume: "cache"}}
	for _, spec := range []sandbox.ContainerSpec{
		{Name: "server", Rootfs: rootfs, Args: []string{"httpd", "-f"}, Mounts: vol,
			Resources: sandbox.Resources{MemoryLimit: 64 << 20, PidsLimit: 100}},
		{Name: "sidecar", Rootfs: rootfs, Args: []string{"sleep", "1d"}, ReadOnlyRootfs: true},
	} {
		if err := sb.CreateContainer(ctx, spec); err != nil {
			log.Fatal(err)
		}
		if err := sb.StartContainer(ctx, spec.Name); err != nil {
			log.Fatal(err)
		}
	}
	st := sb.Status()
	fmt.Println(st.State, len(st.Containers))
	if err := sb.Stop(ctx, 30*time.Second); err != nil {
		log.Print(err)
	}
}

// Create and start as two steps, as the CRI has them, and watch events.
func ExampleSandbox_CreateContainer() {
	ctx := context.Background()
	sb, err := sandbox.Create(ctx, sandbox.Config{ID: "job-7", NoPause: true})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Destroy(ctx)
	events := sb.Events(64)
	spec := sandbox.ContainerSpec{Name: "task", Rootfs: "/srv/rootfs", Args: []string{"/bin/task"}}
	if err := sb.CreateContainer(ctx, spec); err != nil {
		log.Fatal(err)
	}
	if err := sb.StartContainer(ctx, "task"); err != nil {
		log.Fatal(err)
	}
	es, err := sb.Wait(ctx, "task")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(es.ExitCode, es.Reason)
	for len(events) > 0 {
		e := <-events
		fmt.Println(e.Type, e.Container)
	}
}

// Exec a probe into a running container.
func ExampleSandbox_Exec() {
	var sb *sandbox.Sandbox // a running sandbox
	es, err := sb.Exec(context.Background(), "server", sandbox.ExecSpec{Args: []string{"/bin/check"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("probe ok:", es.ExitCode == 0)
}

// After a restart of the managing process: finish interrupted creates and
// destroys, re-attach to everything else.
func ExampleReconcile() {
	live, err := sandbox.Reconcile(context.Background(), sandbox.DefaultRunDir)
	if err != nil {
		log.Print(err)
	}
	for _, sb := range live {
		fmt.Println(sb.ID(), sb.State())
	}
}
