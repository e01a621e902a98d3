//go:build linux

package criserver

import (
	"context"
	"errors"

	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
	remotecommand "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// startStreaming serves exec, attach and port-forward streams (SPDY and
// WebSocket, as k8s.io/cri-streaming speaks them) on addr; the gRPC calls
// only hand out URLs of it.
func (s *Server) startStreaming(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("streaming server: %w", err)
	}
	cfg := streaming.DefaultConfig
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: cfg.Addr}
	srv, err := streaming.NewServer(cfg, streamRuntime{s})
	if err != nil {
		ln.Close()
		return err
	}
	s.stream, s.streamListener = srv, ln
	go func() { _ = http.Serve(ln, srv) }()
	return nil
}

// Exec prepares a streaming exec and returns its URL.
func (s *Server) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if len(req.GetCmd()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "cmd is empty")
	}
	if !req.GetStdin() && !req.GetStdout() && !req.GetStderr() {
		return nil, status.Error(codes.InvalidArgument, "one of stdin, stdout and stderr must be set")
	}
	if _, _, err := s.sandboxOf(req.GetContainerId()); err != nil {
		return nil, err
	}
	return s.stream.GetExec(req)
}

// Attach prepares a streaming attach to a running container's stdio and
// returns its URL.
func (s *Server) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if !req.GetStdin() && !req.GetStdout() && !req.GetStderr() {
		return nil, status.Error(codes.InvalidArgument, "one of stdin, stdout and stderr must be set")
	}
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	if cs, ok := sandboxContainer(sb, rec.ID); !ok || cs.State != sandbox.ContainerRunning {
		return nil, status.Errorf(codes.FailedPrecondition, "container %s is not running", rec.ID)
	}
	return s.stream.GetAttach(req)
}

// PortForward prepares a port forward into a pod and returns its URL.
func (s *Server) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	if s.store.sandbox(req.GetPodSandboxId()) == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	return s.stream.GetPortForward(req)
}

// streamRuntime runs the streams the streaming server accepted.
type streamRuntime struct{ s *Server }

func (r streamRuntime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errw io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize) error {
	rec, sb, err := r.s.sandboxOf(id)
	if err != nil {
		return err
	}
	spec := sandbox.ExecSpec{Args: cmd, Stdin: in, TTY: tty}
	if out != nil {
		spec.Stdout = out
	}
	if errw != nil {
		spec.Stderr = errw
	}
	if tty && resize != nil {
		spec.Resize = terminalSizes(ctx, resize)
	}
	es, err := sb.Exec(ctx, rec.ID, spec)
	if err != nil {
		return err
	}
	if es.ExitCode != 0 { // the streaming server reports the code to the client
		return utilexec.CodeExitError{Err: fmt.Errorf("command %q exited with %d", cmd, es.ExitCode), Code: es.ExitCode}
	}
	return nil
}

// Attach attaches the client's streams to the container until it exits,
// the client goes, or its stdin ends (stdin_once). The container's own
// config decides: stdin only if it was created with stdin, one stream if
// it has a terminal.
func (r streamRuntime) Attach(ctx context.Context, id string, in io.Reader, out, errw io.WriteCloser,
	tty bool, resize <-chan remotecommand.TerminalSize) error {
	rec, sb, err := r.s.sandboxOf(id)
	if err != nil {
		return err
	}
	var opts sandbox.AttachOptions
	if in != nil && rec.Config.GetStdin() {
		opts.Stdin = in
	}
	if out != nil {
		opts.Stdout = out
	}
	if errw != nil {
		opts.Stderr = errw
	}
	if rec.Config.GetTty() && resize != nil {
		opts.Resize = terminalSizes(ctx, resize)
	}
	err = sb.AttachContainer(ctx, rec.ID, opts)
	if errors.Is(err, sandbox.ErrInvalidState) && opts.Stdin != nil {
		// stdin_once and an earlier attach closed the stdin: attach the
		// output alone rather than fail the whole attach.
		opts.Stdin = nil
		err = sb.AttachContainer(ctx, rec.ID, opts)
	}
	return err
}

// terminalSizes converts the streaming server's resize events.
func terminalSizes(ctx context.Context, resize <-chan remotecommand.TerminalSize) <-chan sandbox.TerminalSize {
	sizes := make(chan sandbox.TerminalSize, 1)
	go func() {
		defer close(sizes)
		for sz := range resize {
			select {
			case sizes <- sandbox.TerminalSize{Width: sz.Width, Height: sz.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return sizes
}

// PortForward dials port on the pod's localhost from inside its network
// namespace (IPv4, then IPv6, as containerd and CRI-O do) and copies both
// ways until either side closes.
func (r streamRuntime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	sr := r.s.store.sandbox(podID)
	if sr == nil {
		return fmt.Errorf("pod sandbox %s not found", podID)
	}
	netns := sr.netns()
	if netns == "" && hostNetwork(sr.Config) {
		// The pod's localhost is the host's, which is this server's own.
		conn, err := dialLocalhost(ctx, port)
		if err != nil {
			return fmt.Errorf("port %d on the host: %w", port, err)
		}
		return relay(ctx, conn, stream)
	}
	if netns == "" {
		return fmt.Errorf("pod sandbox %s has no network namespace", podID)
	}
	h, err := nsjoin.Open(netns, nsjoin.Net)
	if err != nil {
		return err
	}
	set, err := nsjoin.NewSet(h)
	if err != nil {
		h.Close()
		return err
	}
	defer set.Close()
	var conn net.Conn
	err = nsjoin.Do(set, func() (err error) {
		conn, err = dialLocalhost(ctx, port)
		return err
	})
	if err != nil {
		return fmt.Errorf("port %d in pod %s: %w", port, podID, err)
	}
	return relay(ctx, conn, stream)
}

// dialLocalhost connects to port on the calling thread's localhost, IPv4
// then IPv6, as containerd and CRI-O do.
func dialLocalhost(ctx context.Context, port int32) (net.Conn, error) {
	var d net.Dialer
	p := strconv.Itoa(int(port))
	conn, err := d.DialContext(ctx, "tcp4", "127.0.0.1:"+p)
	if err != nil {
		conn, err = d.DialContext(ctx, "tcp6", "[::1]:"+p)
	}
	return conn, err
}

// relay copies between conn and stream both ways until either side
// closes or ctx ends, then closes conn.
func relay(ctx context.Context, conn net.Conn, stream io.ReadWriteCloser) error {
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
