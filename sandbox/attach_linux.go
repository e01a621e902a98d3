//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"io"
	"time"
)

// AttachOptions are the streams of an attach (the CRI's Attach). A nil
// stream is not attached.
type AttachOptions struct {
	// Stdin is copied into the container's standard input (a container
	// created with ContainerSpec.Stdin) until it ends; with StdinOnce its
	// end closes the container's stdin (a terminal gets ^D) and ends the
	// attach.
	Stdin io.Reader
	// Stdout and Stderr receive the container's output from the attach
	// on, each stream apart (LogCRI); a LogRaw container's single pipe
	// and a terminal go to Stdout only.
	Stdout io.Writer
	Stderr io.Writer
	// Resize sets the size of a TTY container's terminal each time a
	// value arrives.
	Resize <-chan TerminalSize
}

// attachLinger is how long an attach whose stdin ended with StdinOnce
// still passes on output, for the container's answer to its last input,
// unless the container exits first.
const attachLinger = time.Second

// AttachContainer attaches to a created or running container's standard
// streams and returns when the container's run exits (after passing on
// the output it wrote before), when Stdin ends with StdinOnce, or when
// ctx is done (ctx's error), or with the error of a writer that failed.
//
// Output reaches an attach through the copiers of the container's log
// file, so it needs output that goes to the log (not to the caller's
// Stdout and Stderr files). Several attaches may run at once; each gets
// everything written while it is attached. A slow attacher never holds
// up the container or its log: each of its streams may fall up to
// attachBuffer (1 MiB) behind, and output beyond that is dropped for it.
//
// After a manager restart (Load), a container without a terminal can be
// attached again (its output and stdin FIFOs outlive the manager); a TTY
// container cannot (ErrInvalidState): its terminal died with the manager.
// Attaching to an exited container is an ErrInvalidState.
func (s *Sandbox) AttachContainer(ctx context.Context, name string, opts AttachOptions) error {
	const op = "attach"
	c, err := s.container(op, name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	phase, done := c.phase, c.done
	c.mu.Unlock()
	if phase == ContainerTerminated || done == nil || isClosed(done) {
		return newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: container %s", ErrInvalidState, ContainerTerminated))
	}
	if c.spec.TTY {
		if _, err := c.ttyMaster(); err != nil {
			return newErr(op, s.cfg.ID, name, "", err)
		}
	} else if c.spec.Stdout != nil && c.spec.Stderr != nil && (opts.Stdout != nil || opts.Stderr != nil) {
		return newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: the container writes to the caller's Stdout and Stderr", ErrInvalidState))
	}
	var stdin io.WriteCloser
	if opts.Stdin != nil {
		if stdin, err = s.AttachStdin(name); err != nil {
			return err
		}
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if c.spec.TTY || c.spec.LogFormat != LogCRI {
		stderr = nil // one stream, to Stdout
	}
	t := newTap(stdout, stderr)
	l := c.sink()
	l.addTap(t)
	defer l.removeTap(t)

	stdinOnceEnded := make(chan struct{})
	if stdin != nil {
		defer stdin.Close()
		go func() {
			_, _ = io.Copy(stdin, opts.Stdin) // ends at EOF, or when stdin is closed below and written again
			stdin.Close()
			if c.spec.StdinOnce {
				close(stdinOnceEnded)
			}
		}()
	}
	if c.spec.TTY && opts.Resize != nil {
		tc, _ := c.ttyMaster()
		go resizeUntil(ctx, done, tc, opts.Resize)
	}
	select {
	case <-done: // the copiers have passed on the run's output
		t.close(ctx)
		return ctxErr(ctx, op, s.cfg.ID, name)
	case <-stdinOnceEnded:
		select {
		case <-done:
		case <-ctx.Done():
		case <-time.After(attachLinger):
		}
		l.removeTap(t)
		t.close(ctx)
		return ctxErr(ctx, op, s.cfg.ID, name)
	case err := <-t.failed:
		l.removeTap(t)
		t.close(ctx)
		return newErr(op, s.cfg.ID, name, "", err)
	case <-ctx.Done():
		t.close(ctx) // stops its queues at once
		return newErr(op, s.cfg.ID, name, "", ctx.Err())
	}
}

func ctxErr(ctx context.Context, op, id, name string) error {
	return newErr(op, id, name, "", ctx.Err())
}

// resizeUntil applies terminal sizes until the run exits or ctx is done.
func resizeUntil(ctx context.Context, done <-chan struct{}, t *ttyConsole, sizes <-chan TerminalSize) {
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			_ = setWinsize(t.master, sz)
		}
	}
}
