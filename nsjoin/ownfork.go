//go:build linux

package nsjoin

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"syscall"

	"github.com/podkit/podkit/internal/ownfork"
)

// ownForkOff makes every Start fork through os/exec (tests compare the two).
var ownForkOff = false

// startProcess starts c.ec's process from the calling thread. Where the
// Cmd asks only for what internal/ownfork's C stage does, the child is
// forked without a copy of the manager's descriptor table (which grows
// with every pod, and which an ordinary fork copies for the exec to close
// one by one); otherwise, or where that way is unavailable, os/exec forks
// it. Either way c.ec.Process is set and Wait waits for it (and for the
// copies between a Reader or Writer and the pipe the child was given, as
// os/exec makes them).
func (c *Cmd) startProcess() error {
	r, st, ok := c.ownForkRequest()
	if !ok {
		return c.ec.Start()
	}
	pid, _, done, err := ownfork.Start(r)
	st.closeChildEnds()
	if !done || err != nil {
		st.closeParentEnds() // a fallback to os/exec makes its own
		if !done {
			return c.ec.Start()
		}
		return err
	}
	p, err := os.FindProcess(pid) // a pidfd of our own child: it cannot be another process
	if err != nil {
		st.closeParentEnds()
		return err
	}
	c.ec.Process = p
	c.copies = st.startCopies()
	return nil
}

// ownForkRequest is c.ec as an ownfork.Request with the streams it
// needs (/dev/null for an absent one, a pipe for a Reader or Writer); ok
// is false when c.ec asks for something the C stage does not do.
func (c *Cmd) ownForkRequest() (r *ownfork.Request, st *streams, ok bool) {
	ec := c.ec
	if ownForkOff || !ownfork.Available() || ec.Err != nil || !ownForkAttrs(ec.SysProcAttr) ||
		len(ec.ExtraFiles)+3 > ownfork.MaxFiles {
		return nil, nil, false
	}
	env := ec.Environ()
	if hasNUL(ec.Path, ec.Dir) || hasNUL(ec.Args...) || hasNUL(env...) {
		return nil, nil, false // os/exec reports it
	}
	st = &streams{}
	files := make([]int, 0, 3+len(ec.ExtraFiles))
	for i, std := range []any{ec.Stdin, ec.Stdout, ec.Stderr} {
		f, err := st.child(i, std, ec.Stdout)
		if err != nil {
			st.abandon()
			return nil, nil, false // os/exec reports it
		}
		files = append(files, int(f.Fd()))
	}
	for _, f := range ec.ExtraFiles {
		if f == nil {
			st.abandon()
			return nil, nil, false
		}
		files = append(files, int(f.Fd()))
	}
	a := ec.SysProcAttr
	r = &ownfork.Request{Path: ec.Path, Argv: ec.Args, Env: env, Dir: ec.Dir, Files: files,
		Setsid: a.Setsid, Setctty: a.Setctty, Ctty: a.Ctty, Pdeathsig: a.Pdeathsig, Ptrace: a.Ptrace,
		Credential: a.Credential, AmbientCaps: a.AmbientCaps, CgroupFD: -1}
	if a.UseCgroupFD {
		r.CgroupFD = a.CgroupFD
	}
	return r, st, true
}

// ownForkAttrs: a has no field set but those ownfork.Request carries.
func ownForkAttrs(a *syscall.SysProcAttr) bool {
	if a == nil {
		return true
	}
	rest := *a
	rest.Setsid, rest.Setctty, rest.Ctty, rest.Pdeathsig, rest.Ptrace = false, false, 0, 0, false
	rest.Credential, rest.AmbientCaps, rest.UseCgroupFD, rest.CgroupFD = nil, nil, false, 0
	return reflect.ValueOf(rest).IsZero()
}

func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// streams are the files an ownfork child gets for its standard streams
// and the copies that feed or drain the pipes among them, as os/exec
// makes them: /dev/null for an absent stream, the file itself for an
// *os.File, else a pipe and a goroutine that copies.
type streams struct {
	childEnds, parentEnds []*os.File
	copies                []func() error
	stdoutPipe            *os.File // the child's end of stdout's pipe, shared with an equal stderr
}

// child returns the file the child gets as stream i (0 stdin).
func (st *streams) child(i int, std, stdout any) (*os.File, error) {
	if f, ok := std.(*os.File); ok {
		if f == nil {
			return nil, os.ErrInvalid // os/exec's to report
		}
		return f, nil
	}
	if std == nil {
		mode := os.O_WRONLY
		if i == 0 {
			mode = os.O_RDONLY
		}
		f, err := os.OpenFile(os.DevNull, mode, 0)
		if err == nil {
			st.childEnds = append(st.childEnds, f)
		}
		return f, err
	}
	if i == 2 && st.stdoutPipe != nil && sameWriter(std, stdout) {
		return st.stdoutPipe, nil // one pipe, one goroutine: Writes never race
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if i == 0 {
		st.childEnds, st.parentEnds = append(st.childEnds, pr), append(st.parentEnds, pw)
		st.copies = append(st.copies, func() error {
			_, err := io.Copy(pw, std.(io.Reader))
			if errors.Is(err, syscall.EPIPE) { // the process did not read it all
				err = nil
			}
			return errors.Join(err, pw.Close())
		})
		return pr, nil
	}
	st.childEnds, st.parentEnds = append(st.childEnds, pw), append(st.parentEnds, pr)
	st.copies = append(st.copies, func() error {
		_, err := io.Copy(std.(io.Writer), pr)
		pr.Close()
		return err
	})
	if i == 1 {
		st.stdoutPipe = pw
	}
	return pw, nil
}

// sameWriter: os/exec's test for Stdout and Stderr being one writer.
func sameWriter(a, b any) (same bool) {
	defer func() { _ = recover() }() // uncomparable types
	return a == b
}

// abandon closes every end: the process is started another way.
func (st *streams) abandon() {
	st.closeChildEnds()
	st.closeParentEnds()
}

func (st *streams) closeChildEnds() {
	for _, f := range st.childEnds {
		f.Close()
	}
	st.childEnds = nil
}

func (st *streams) closeParentEnds() {
	for _, f := range st.parentEnds {
		f.Close()
	}
	st.parentEnds = nil
}

// startCopies starts the copies; the result waits for them all and
// returns the first error (nil when there are none).
func (st *streams) startCopies() func() error {
	if len(st.copies) == 0 {
		return nil
	}
	errc := make(chan error, len(st.copies))
	for _, fn := range st.copies {
		go func() { errc <- fn() }()
	}
	return func() error {
		var first error
		for range st.copies {
			if err := <-errc; first == nil {
				first = err
			}
		}
		return first
	}
}
