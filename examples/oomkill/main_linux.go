//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

func main() { exkit.Main("oomkill", run) }

const limit = 32 << 20

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := exkit.ParseFlags("oomkill", args, stderr)
	if err != nil {
		return err
	}
	pod, err := exkit.NewPod(ctx, f, sandbox.Config{ID: "oomkill-demo"}, stderr)
	if err != nil {
		return err
	}
	defer pod.Close()
	// perl builds a 256 MiB string: far above the 32 MiB limit.
	hog, err := pod.Host("hog", "perl", "-e", `$| = 1; print "hog: allocating 256 MiB\n"; my $x = "x" x (256 << 20); print "hog: survived?!\n"; sleep 60`)
	if err != nil {
		return err
	}
	hog.Resources.MemoryLimit = limit
	steady, err := pod.Host("steady", "bash", "-c", `while true; do echo "steady: still here"; sleep 1; done`)
	if err != nil {
		return err
	}
	steady.Resources.MemoryLimit = limit
	fmt.Fprintln(stdout, "Two containers with a 32 MiB memory limit each; \"hog\" tries to allocate 256 MiB.")
	if err := pod.Run(ctx, kubelet.PodSpec{Containers: exkit.Containers(hog, steady), RestartPolicy: kubelet.RestartNever}); err != nil {
		return err
	}
	es, err := pod.WaitExit(ctx, "hog")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hog exited: code %d, reason %s\n", es.ExitCode, es.Reason)
	time.Sleep(1500 * time.Millisecond) // let the sibling show it is alive
	var sibling kubelet.ContainerStatus
	for _, c := range pod.Status().Containers {
		if c.Name == "steady" {
			sibling = c
		}
	}
	fmt.Fprintf(stdout, "steady: state %s, restarts %d\n", sibling.State, sibling.RestartCount)
	if es.Reason != sandbox.ReasonOOMKilled {
		return fmt.Errorf("hog ended with reason %s, want %s", es.Reason, sandbox.ReasonOOMKilled)
	}
	if sibling.State != sandbox.ContainerRunning {
		return fmt.Errorf("sibling is %s, want Running", sibling.State)
	}
	fmt.Fprintln(stdout, "=> the kernel OOM-killed only the container over its limit; its sibling kept running.")
	return nil
}
