//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

func main() { exkit.Main("initvolume", run) }

const prepare = `echo "init: writing /data/config"; printf 'greeting=hello\nprepared_by=init\n' > /data/config; sleep 1; echo "init: done"`

const app = `echo "app: started, reading /data/config"; cat /data/config; grep -q prepared_by=init /data/config`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := exkit.ParseFlags("initvolume", args, stderr)
	if err != nil {
		return err
	}
	cfg := sandbox.Config{ID: "initvolume-demo", Volumes: []sandbox.Volume{{Name: "data"}}}
	pod, err := exkit.NewPod(ctx, f, cfg, stderr)
	if err != nil {
		return err
	}
	defer pod.Close()
	ic, err := pod.Host("prepare", "sh", "-c", prepare)
	if err != nil {
		return err
	}
	ac, err := pod.Host("app", "sh", "-c", app)
	if err != nil {
		return err
	}
	ic.Mounts = append(ic.Mounts, sandbox.Mount{Destination: "/data", Volume: "data"})
	ac.Mounts = append(ac.Mounts, sandbox.Mount{Destination: "/data", Volume: "data", ReadOnly: true})
	fmt.Fprintln(stdout, "An init container fills the emptyDir volume \"data\"; the app container starts only after it exited 0.")
	if err := pod.Run(ctx, kubelet.PodSpec{InitContainers: exkit.Containers(ic),
		Containers: exkit.Containers(ac), RestartPolicy: kubelet.RestartNever}); err != nil {
		return err
	}
	es, err := pod.WaitExit(ctx, "app")
	if err != nil {
		return err
	}
	st := pod.Status()
	initDone := st.InitContainers[0].Exit.Finished
	appStart := st.Containers[0].StartedAt
	fmt.Fprintf(stdout, "init container:\n    %s\n", strings.ReplaceAll(strings.TrimSpace(pod.Log("prepare")), "\n", "\n    "))
	fmt.Fprintf(stdout, "app container:\n    %s\n", strings.ReplaceAll(strings.TrimSpace(pod.Log("app")), "\n", "\n    "))
	fmt.Fprintf(stdout, "init finished %s before the app started\n", appStart.Sub(initDone).Round(1e6))
	if es.ExitCode != 0 || appStart.Before(initDone) {
		return fmt.Errorf("app exit %d, started %s after init finished", es.ExitCode, appStart.Sub(initDone))
	}
	fmt.Fprintln(stdout, "=> the app found the file the init container prepared in the shared volume.")
	return nil
}
