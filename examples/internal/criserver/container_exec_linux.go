//go:build linux

package criserver

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ExecSync runs a command in a running container and returns its output
// and exit code. With a timeout, the command is killed when it expires and
// the call fails with DeadlineExceeded.
func (s *Server) ExecSync(ctx context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	if len(req.GetCmd()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "cmd is empty")
	}
	rec, sb, err := s.sandboxOf(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	if t := req.GetTimeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	es, err := sb.Exec(ctx, rec.ID, sandbox.ExecSpec{Args: req.GetCmd(), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, status.Errorf(codes.DeadlineExceeded, "ExecSync: command %q timed out after %ds and was killed", req.GetCmd(), req.GetTimeout())
		}
		return nil, grpcError("ExecSync", err)
	}
	return &runtimeapi.ExecSyncResponse{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: int32(es.ExitCode)}, nil
}
