//go:build linux

package nsjoin

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// execCmd copies the exec.Cmd fields into the exec.Cmd Start runs, with a
// SysProcAttr of its own that Start may change.
func (c *Cmd) execCmd() *exec.Cmd {
	attr := &syscall.SysProcAttr{}
	if c.SysProcAttr != nil {
		*attr = *c.SysProcAttr
	}
	args := c.Args
	if len(args) == 0 {
		args = []string{c.Path}
	}
	return &exec.Cmd{
		Path: c.Path, Args: args, Env: c.Env, Dir: c.Dir,
		Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr,
		ExtraFiles: c.ExtraFiles, SysProcAttr: attr, Err: c.lookErr,
	}
}

// String describes the command, as exec.Cmd.String does.
func (c *Cmd) String() string {
	b := strings.Builder{}
	b.WriteString(c.Path)
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(" " + a)
		}
	}
	return b.String()
}

// Run starts the command and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Wait waits for the process (exec.Cmd.Wait, which closes Process's
// pidfd), sets ProcessState and closes the Cmd's pipe ends.
func (c *Cmd) Wait() error {
	if c.ec == nil || c.ec.Process == nil {
		return &Error{Op: "wait", Path: c.Path, Err: errors.New("not started")}
	}
	err := c.waitExec()
	c.ProcessState = c.ec.ProcessState
	c.release()
	c.closeAll()
	return err
}

// waitExec waits for the process and then, as os/exec does for its own,
// for the copies of an ownfork start's streams: a copy ends when every
// holder of its pipe's other end has closed it.
func (c *Cmd) waitExec() error {
	err := c.ec.Wait()
	if c.copies != nil {
		if cerr := c.copies(); err == nil {
			err = cerr
		}
		c.copies = nil
	}
	return err
}

func (c *Cmd) release() {
	if c.dups != nil {
		c.dups.Close()
		c.dups = nil
	}
	if c.park != nil {
		close(c.park)
		c.park = nil
	}
}

// Output runs the command inside the namespaces and returns its standard
// output. If Stderr is nil, an *exec.ExitError carries the first 64 KiB of
// it, as with exec.Cmd.Output.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, &Error{Op: "output", Path: c.Path, Err: errors.New("standard output already set")}
	}
	var out bytes.Buffer
	c.Stdout = &out
	var stderr *headWriter
	if c.Stderr == nil {
		stderr = &headWriter{max: 64 << 10}
		c.Stderr = stderr
	}
	err := c.Run()
	var ee *exec.ExitError
	if stderr != nil && errors.As(err, &ee) {
		ee.Stderr = stderr.b
	}
	return out.Bytes(), err
}

// CombinedOutput runs the command inside the namespaces and returns its
// standard output and standard error, interleaved.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, &Error{Op: "output", Path: c.Path, Err: errors.New("standard output or error already set")}
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if n := min(len(p), w.max-len(w.b)); n > 0 {
		w.b = append(w.b, p[:n]...)
	}
	return len(p), nil
}

// StdinPipe returns a pipe connected to the process's standard input,
// closed by Wait (or by the caller, to send EOF).
func (c *Cmd) StdinPipe() (io.WriteCloser, error) {
	if c.Stdin != nil || c.started {
		return nil, &Error{Op: "stdin pipe", Path: c.Path, Err: errors.New("standard input already set, or started")}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.Stdin = r
	wc := &closeOnce{File: w}
	c.closers = append(c.closers, pipeEnd{r, true}, pipeEnd{wc, false})
	return wc, nil
}

// StdoutPipe returns a pipe connected to the process's standard output,
// closed by Wait: read everything before calling Wait.
func (c *Cmd) StdoutPipe() (io.ReadCloser, error) {
	if c.Stdout != nil || c.started {
		return nil, &Error{Op: "stdout pipe", Path: c.Path, Err: errors.New("standard output already set, or started")}
	}
	r, w, err := c.outPipe()
	c.Stdout = w
	return r, err
}

// StderrPipe is StdoutPipe for standard error.
func (c *Cmd) StderrPipe() (io.ReadCloser, error) {
	if c.Stderr != nil || c.started {
		return nil, &Error{Op: "stderr pipe", Path: c.Path, Err: errors.New("standard error already set, or started")}
	}
	r, w, err := c.outPipe()
	c.Stderr = w
	return r, err
}

func (c *Cmd) outPipe() (io.ReadCloser, io.Writer, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	c.closers = append(c.closers, pipeEnd{w, true}, pipeEnd{r, false})
	return r, w, nil
}

// pipeEnd is a pipe end the Cmd closes: the child's end once Start
// returns (afterStart), the caller's end in Wait.
type pipeEnd struct {
	io.Closer
	afterStart bool
}

// closeAfterStart closes the child's pipe ends once it has them.
func (c *Cmd) closeAfterStart() {
	keep := c.closers[:0]
	for _, p := range c.closers {
		if p.afterStart {
			p.Close()
		} else {
			keep = append(keep, p)
		}
	}
	c.closers = keep
}

// closeAll closes every pipe end left.
func (c *Cmd) closeAll() {
	for _, p := range c.closers {
		p.Close()
	}
	c.closers = nil
}

// closeOnce lets both the caller and Wait close a stdin pipe.
type closeOnce struct {
	*os.File
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.File.Close() })
	return c.err
}
