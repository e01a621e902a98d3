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

func main() { exkit.Main("localhost", run) }

const server = `use IO::Socket::INET; $| = 1;
my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:9000", Listen => 5, ReuseAddr => 1) or die "listen: $!";
print "server: listening on 127.0.0.1:9000\n";
while (my $c = $s->accept) { my $l = <$c>; print $c "pong to: $l"; close $c; print "server: answered $l"; }`

const client = `for i in 1 2 3 4 5 6 7 8 9 10; do
  if { exec 3<>/dev/tcp/127.0.0.1/9000; } 2>/dev/null; then
    echo "ping from $(hostname)" >&3; read -r reply <&3; echo "client: $reply"; exit 0
  fi
  sleep 0.5
done
echo "client: no server on localhost"; exit 1`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := exkit.ParseFlags("localhost", args, stderr)
	if err != nil {
		return err
	}
	pod, err := exkit.NewPod(ctx, f, sandbox.Config{ID: "localhost-demo"}, stderr)
	if err != nil {
		return err
	}
	defer pod.Close()
	srv, err := pod.Host("server", "perl", "-e", server)
	if err != nil {
		return err
	}
	cli, err := pod.Host("client", "bash", "-c", client)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Two containers, one pod: each has its own root filesystem and mount namespace,")
	fmt.Fprintln(stdout, "but they share the pod's network namespace, held by the pause process.")
	if err := pod.Run(ctx, kubelet.PodSpec{Containers: exkit.Containers(srv, cli), RestartPolicy: kubelet.RestartNever}); err != nil {
		return err
	}
	es, err := pod.WaitExit(ctx, "client")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "server container says:\n%s", indent(pod.Log("server")))
	fmt.Fprintf(stdout, "client container says:\n%s", indent(pod.Log("client")))
	if es.ExitCode != 0 {
		return fmt.Errorf("client exited %d", es.ExitCode)
	}
	fmt.Fprintln(stdout, "=> the client reached the server at 127.0.0.1:9000: containers of a pod talk over localhost.")
	return nil
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}
