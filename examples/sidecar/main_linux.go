//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

func main() { exkit.Main("sidecar", run) }

// The app writes numbered log lines into the shared volume; it knows
// nothing about shipping.
const app = `i=0; while true; do i=$((i+1)); echo "$(date +%T) order $i accepted" >> /logs/app.log; sleep 0.3; done`

// The sidecar follows the file and "ships" each line (prints it).
const shipper = `while [ ! -e /logs/app.log ]; do sleep 0.1; done
tail -n +1 -f /logs/app.log | while IFS= read -r line; do echo "shipped: $line"; done`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := exkit.ParseFlags("sidecar", args, stderr)
	if err != nil {
		return err
	}
	cfg := sandbox.Config{ID: "sidecar-demo", Volumes: []sandbox.Volume{{Name: "logs"}}}
	pod, err := exkit.NewPod(ctx, f, cfg, stderr)
	if err != nil {
		return err
	}
	defer pod.Close()
	a, err := pod.Host("app", "bash", "-c", app)
	if err != nil {
		return err
	}
	s, err := pod.Host("shipper", "bash", "-c", shipper)
	if err != nil {
		return err
	}
	a.Mounts = append(a.Mounts, sandbox.Mount{Destination: "/logs", Volume: "logs"})
	s.Mounts = append(s.Mounts, sandbox.Mount{Destination: "/logs", Volume: "logs", ReadOnly: true})
	fmt.Fprintln(stdout, "The app container writes its log to an emptyDir volume mounted at /logs;")
	fmt.Fprintln(stdout, "the sidecar container mounts the same volume read-only and ships every line.")
	if err := pod.Run(ctx, kubelet.PodSpec{Containers: exkit.Containers(a, s)}); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for strings.Count(pod.Log("shipper"), "shipped:") < 5 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the sidecar shipped nothing; its output: %q", pod.Log("shipper"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(pod.Log("shipper")), "\n")
	fmt.Fprintln(stdout, "sidecar output:")
	for _, l := range lines[:5] {
		fmt.Fprintf(stdout, "    %s\n", l)
	}
	if pod.Log("app") != "" {
		return fmt.Errorf("the app wrote to stdout: %q", pod.Log("app"))
	}
	fmt.Fprintln(stdout, "=> the app printed nothing itself; its lines reached the sidecar through the shared volume.")
	return nil
}
