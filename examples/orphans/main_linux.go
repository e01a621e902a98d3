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

func main() { exkit.Main("orphans", run) }

// A short-lived shell starts "sleep 2" in the background and exits at once:
// the sleep is an orphan. Its new parent is PID 1 of the pod's PID
// namespace. After it exits, /proc shows whether anybody reaped it.
const script = `sh -c 'sleep 2 & echo $! > /tmp/orphan'
pid=$(cat /tmp/orphan)
ppid=$(awk '/^PPid:/ {print $2}' /proc/$pid/status)
echo "orphan: pid $pid, parent is now pid $ppid ($(cat /proc/$ppid/comm))"
echo "pid 1 of the pod: $(tr '\0' ' ' < /proc/1/cmdline)"
sleep 3
if [ -e /proc/$pid ]; then echo "orphan $pid: $(grep State /proc/$pid/status)"; exit 1; fi
echo "orphan $pid is gone: it was reaped, no zombie left"`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := exkit.ParseFlags("orphans", args, stderr)
	if err != nil {
		return err
	}
	pod, err := exkit.NewPod(ctx, f, sandbox.Config{ID: "orphans-demo", SharePID: true}, stderr)
	if err != nil {
		return err
	}
	defer pod.Close()
	c, err := pod.Host("leaver", "bash", "-c", script)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "shareProcessNamespace: every container of the pod is in one PID namespace whose PID 1")
	fmt.Fprintf(stdout, "is the pause process (host pid %d). A container now leaves an orphan behind.\n", pod.SB.PausePid())
	if err := pod.Run(ctx, kubelet.PodSpec{Containers: exkit.Containers(c), RestartPolicy: kubelet.RestartNever}); err != nil {
		return err
	}
	es, err := pod.WaitExit(ctx, "leaver")
	if err != nil {
		return err
	}
	out := pod.Log("leaver")
	fmt.Fprintf(stdout, "container says:\n    %s\n", strings.ReplaceAll(strings.TrimSpace(out), "\n", "\n    "))
	if es.ExitCode != 0 || !strings.Contains(out, "parent is now pid 1 ") {
		return fmt.Errorf("orphan was not reaped by the pause (exit %d)", es.ExitCode)
	}
	fmt.Fprintln(stdout, "=> the orphan was re-parented to the pause (PID 1) and reaped when it exited.")
	return nil
}
