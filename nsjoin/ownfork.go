//go:build linux

package nsjoin

import (
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
// it. Either way c.ec.Process is set and c.ec.Wait waits for it.
func (c *Cmd) startProcess() error {
	r, opened, ok := c.ownForkRequest()
	if !ok {
		return c.ec.Start()
	}
	pid, _, done, err := ownfork.Start(r)
	for _, f := range opened {
		f.Close()
	}
	if !done {
		return c.ec.Start()
	}
	if err != nil {
		return err
	}
	p, err := os.FindProcess(pid) // a pidfd of our own child: it cannot be another process
	if err != nil {
		return err
	}
	c.ec.Process = p
	return nil
}

// ownForkRequest is c.ec as an ownfork.Request, with the /dev/null files
// it opened for absent standard files (the caller closes them after the
// fork); ok is false when c.ec asks for something the C stage does not do.
func (c *Cmd) ownForkRequest() (r *ownfork.Request, opened []*os.File, ok bool) {
	ec := c.ec
	if ownForkOff || ec.Err != nil || !ownForkAttrs(ec.SysProcAttr) || len(ec.ExtraFiles)+3 > ownfork.MaxFiles {
		return nil, nil, false
	}
	env := ec.Environ()
	if hasNUL(ec.Path, ec.Dir) || hasNUL(ec.Args...) || hasNUL(env...) {
		return nil, nil, false // os/exec reports it
	}
	files := make([]int, 0, 3+len(ec.ExtraFiles))
	for i, std := range []any{ec.Stdin, ec.Stdout, ec.Stderr} {
		f, isFile := std.(*os.File)
		switch {
		case std == nil:
			var err error
			if f, err = openDevNull(i == 0); err != nil {
				closeFiles(opened)
				return nil, nil, false
			}
			opened = append(opened, f)
		case !isFile || f == nil:
			closeFiles(opened)
			return nil, nil, false // os/exec copies a Reader or Writer through a pipe
		}
		files = append(files, int(f.Fd()))
	}
	for _, f := range ec.ExtraFiles {
		if f == nil {
			closeFiles(opened)
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
	return r, opened, true
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

// openDevNull opens the null device as os/exec does for an absent
// standard file: read-only for stdin, write-only for the others.
func openDevNull(read bool) (*os.File, error) {
	if read {
		return os.Open(os.DevNull)
	}
	return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
}

func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}
