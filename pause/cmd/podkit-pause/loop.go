//go:build linux

package main

import (
	"os"
	"syscall"

	"github.com/podkit/podkit/pause/internal/cli"
)

// pauser is the state of the main loop. Only the main goroutine touches it.
type pauser struct {
	cfg      cli.Config
	events   int // events fd, -1 when off
	buf      []byte
	cmdPid   int // -1 in pause mode
	cmdDone  bool
	cmdState syscall.WaitStatus
	// selfPipe counts SIGPIPEs caused by our own writes to a closed events
	// fd, so they are not forwarded to CMD.
	selfPipe int
}

func (p *pauser) startCommand() (int, bool) {
	path, err := cli.LookPath(p.cfg.Command[0], os.Getenv("PATH"))
	if err == nil {
		attr := &syscall.ProcAttr{
			Env:   os.Environ(),
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		}
		if isForegroundTTY() {
			attr.Sys.Foreground, attr.Sys.Ctty = true, 0
		}
		p.cmdPid, err = syscall.ForkExec(path, p.cfg.Command, attr)
	}
	if err != nil {
		say(2, "podkit-pause: exec "+p.cfg.Command[0]+": "+err.Error()+"\n")
		return cli.ExecErrorCode(err), false
	}
	return 0, true
}

// isForegroundTTY reports whether stdin is a terminal whose foreground
// process group is ours; CMD then takes the terminal over, as under a shell.
func isForegroundTTY() bool {
	var pgrp int32
	_, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, 0, syscall.TIOCGPGRP, uintptrOf(&pgrp))
	return e == 0 && int(pgrp) == syscall.Getpgrp()
}

func (p *pauser) loop(chld, sigs <-chan os.Signal) int {
	initMode := p.cmdPid > 0
	for {
		var s os.Signal
		select {
		case s = <-chld:
		case s = <-sigs:
		}
		sig := s.(syscall.Signal)
		act := cli.Decide(sig, initMode)
		if sig == syscall.SIGPIPE && p.selfPipe > 0 {
			p.selfPipe--
			act = cli.Ignore
		}
		switch act {
		case cli.Reap:
			if code, exit := p.reap(); exit {
				return code
			}
			continue
		case cli.Exit:
			p.emit(cli.Event{Kind: cli.EventSignal, Signal: sig, Action: act})
			return 0
		case cli.Forward:
			if syscall.Kill(-p.cmdPid, sig) != nil {
				act = cli.Ignore // the group is gone
			}
		}
		p.emit(cli.Event{Kind: cli.EventSignal, Signal: sig, Action: act})
	}
}

// reap collects every zombie child. In init mode it reports whether the
// pause should now exit, and with which code.
func (p *pauser) reap() (int, bool) {
	noChildren := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|syscall.WALL, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			noChildren = err == syscall.ECHILD
			break
		}
		if pid <= 0 {
			break
		}
		if pid == p.cmdPid {
			p.cmdDone, p.cmdState = true, ws
			p.emit(cli.Event{Kind: cli.EventExit, Pid: pid, Status: ws})
		} else {
			p.emit(cli.Event{Kind: cli.EventOrphan, Pid: pid, Status: ws})
		}
	}
	if !p.cmdDone {
		return 0, false
	}
	if p.cfg.Orphans == cli.OrphansWait && !noChildren {
		return 0, false
	}
	return cli.StatusCode(p.cmdState), true
}

func (p *pauser) emit(e cli.Event) {
	if p.events < 0 {
		return
	}
	p.buf = cli.AppendJSON(p.buf[:0], e)
	for b := p.buf; len(b) > 0; {
		n, err := syscall.Write(p.events, b)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			if p.cfg.EventsDrop {
				return // full and nobody reading: drop, never stall reaping
			}
			waitWritable(p.events) // a non-blocking fd from our starter
			continue
		}
		if err != nil {
			if err == syscall.EPIPE {
				p.selfPipe++
			}
			p.events = -1 // reader gone: stop reporting, keep working
			return
		}
		b = b[n:]
	}
}
