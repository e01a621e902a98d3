//go:build linux

package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/podkit/podkit/examples/internal/exkit"
)

// imagesMain runs `podrun images ...`: podkit-image with the same
// arguments (pull, load, list, rm, gc; see podkit-image -h), and returns
// its exit status. podrun does not link the registry client and layer
// unpacker itself: they would cost every podrun start about 0.6 ms.
func imagesMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, err := imageHelper(ctx, stderr, args...)
	if err != nil {
		fmt.Fprintf(stderr, "podrun images: %v\n", err)
		return ExitFailed
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	return exitStatus(cmd.Run())
}

// imageHelper is the podkit-image command for args, stopped with SIGTERM
// (then killed, 5 s later) when ctx ends.
func imageHelper(ctx context.Context, stderr io.Writer, args ...string) (*exec.Cmd, error) {
	bin, err := exkit.FindImageHelper(stderr)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd, nil
}

// exitStatus is the exit status of a helper's Run error.
func exitStatus(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return ExitSucceeded
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	return ExitFailed
}
