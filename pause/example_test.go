//go:build linux

package pause_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/pause"
)

// Start a pod's pause in new network, IPC, UTS and PID namespaces, then stop it.
func ExampleStart() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := pause.Start(ctx, pause.Options{Cloneflags: pause.PodNamespaces, DieWithParent: true})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	fmt.Println("pause ready, pid", p.Pid, "netns", p.NamespacePath("net"))
	st, err := p.Stop(ctx) // SIGTERM, SIGKILL if ctx ends first
	fmt.Println(st, err)
}

// Start the pause directly inside a cgroup v2 leaf (CLONE_INTO_CGROUP).
func ExampleStart_cgroup() {
	fd, err := unix.Open("/sys/fs/cgroup/podkit-pod1", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fd)
	p, err := pause.Start(context.Background(), pause.Options{
		Cloneflags:  pause.PodNamespaces,
		UseCgroupFD: true,
		CgroupFD:    fd,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	p.Signal(unix.SIGTERM)
	p.Wait()
}

// Init mode: run a command under the pause, like tini, and exit with its status.
func ExampleStart_initMode() {
	p, err := pause.Start(context.Background(), pause.Options{
		Cloneflags: unix.CLONE_NEWPID,
		Args:       []string{"/bin/sh", "-c", "sleep 1 & exit 3"},
		Orphans:    pause.WaitForDescendants, // also wait for the orphaned sleep
	})
	var pe *pause.Error
	if errors.As(err, &pe) && pe.Status != nil {
		log.Fatalf("command could not run: %v", pe.Status) // 126 or 127
	} else if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	st, _ := p.Wait()
	fmt.Println(st.Code) // 3
}

// Find reports where the binary is, or how to build it.
func ExampleFind() {
	path, err := pause.Find()
	if errors.Is(err, pause.ErrNotFound) {
		log.Fatal(err) // "... build it with: CGO_ENABLED=0 go build -ldflags=-E=main.bareEntry -o /usr/local/bin/podkit-pause ./pause/cmd/podkit-pause ..."
	}
	fmt.Println(path)
}

// Spawn the pause, set its network namespace up while its runtime boots,
// then wait for it to be ready.
func ExampleSpawn() {
	ctx := context.Background()
	p, err := pause.Spawn(ctx, pause.Options{Cloneflags: pause.PodNamespaces})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	netns, err := unix.Open(p.NamespacePath("net"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(netns) // pin it, bring loopback up in it, ...
	if err := p.Ready(ctx); err != nil {
		log.Fatal(err) // the pause is dead and reaped
	}
	fmt.Println("pause ready, pid", p.Pid)
}

// The linker flags podkit builds the pause with: on amd64 and arm64 they
// make the bare pause (pause mode without the Go runtime) the binary's
// entry point; elsewhere pause mode is the Go program's.
func ExampleLinkFlags() {
	for _, arch := range []string{"amd64", "arm64", "riscv64"} {
		fmt.Printf("GOARCH=%s CGO_ENABLED=0 go build -ldflags=%q %s\n", arch, pause.LinkFlags(arch), pause.ImportPath)
	}
	// Output:
	// GOARCH=amd64 CGO_ENABLED=0 go build -ldflags="-s -w -E=main.bareEntry" github.com/podkit/podkit/pause/cmd/podkit-pause
	// GOARCH=arm64 CGO_ENABLED=0 go build -ldflags="-s -w -E=main.bareEntry" github.com/podkit/podkit/pause/cmd/podkit-pause
	// GOARCH=riscv64 CGO_ENABLED=0 go build -ldflags="-s -w" github.com/podkit/podkit/pause/cmd/podkit-pause
}
