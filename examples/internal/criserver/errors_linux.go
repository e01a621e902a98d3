//go:build linux

package criserver

import (
	"errors"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcError maps an error of the sandbox package (or this one) to a gRPC
// status, keeping the message.
func grpcError(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, sandbox.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, sandbox.ErrExist):
		code = codes.AlreadyExists
	case errors.Is(err, sandbox.ErrInvalidConfig), errors.Is(err, sandbox.ErrInvalidID),
		errors.Is(err, sandbox.ErrRootfs), errors.Is(err, sandbox.ErrCommandNotFound):
		code = codes.InvalidArgument
	case errors.Is(err, sandbox.ErrInvalidState):
		code = codes.FailedPrecondition
	case errors.Is(err, sandbox.ErrTimeout):
		code = codes.DeadlineExceeded
	}
	return status.Errorf(code, "%s: %v", op, err)
}

// unsupported is the answer to a request field the server cannot honour.
func unsupported(field string, what any) error {
	return status.Errorf(codes.InvalidArgument, "%s %v is not supported by podkit-cri", field, what)
}

func notFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", kind, id)
}
