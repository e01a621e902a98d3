//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"
)

// CreateContainer validates spec and creates the container (the CRI's
// CreateContainer): everything is prepared and the init process waits in
// the container; the user process is not running until StartContainer.
// On failure nothing of the container is left behind.
func (s *Sandbox) CreateContainer(ctx context.Context, spec ContainerSpec) error {
	spec = cloneSpec(spec)
	if err := spec.validate(&s.cfg); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return newErr("create container", s.cfg.ID, spec.Name, "", err)
	}
	s.mu.Lock()
	if s.state != StateReady {
		st := s.state
		s.mu.Unlock()
		return newErr("create container", s.cfg.ID, spec.Name, "", fmt.Errorf("%w: sandbox %s", ErrInvalidState, st))
	}
	if _, dup := s.containers[spec.Name]; dup {
		s.mu.Unlock()
		return newErr("create container", s.cfg.ID, spec.Name, "", ErrExist)
	}
	c := &container{sb: s, spec: spec, phase: ContainerWaiting}
	s.containers[spec.Name] = c // reserve the name
	// Destroy waits for creates in flight before it tears down (only a
	// Ready sandbox adds here, and Destroy leaves Ready under s.mu).
	s.creating.Add(1)
	defer s.creating.Done()
	s.mu.Unlock()
	if err := c.create(ctx); err != nil {
		s.mu.Lock()
		delete(s.containers, spec.Name)
		s.mu.Unlock()
		return newErr("create container", s.cfg.ID, spec.Name, "", err)
	}
	s.mu.Lock()
	s.order = append(s.order, spec.Name)
	c.added = true
	err := s.save()
	s.mu.Unlock()
	return newErr("create container: state", s.cfg.ID, spec.Name, "", err)
}

func cloneSpec(s ContainerSpec) ContainerSpec {
	s.Args = append([]string(nil), s.Args...)
	s.Env = append([]string(nil), s.Env...)
	s.Mounts = append([]Mount(nil), s.Mounts...)
	s.Labels, s.Annotations = maps.Clone(s.Labels), maps.Clone(s.Annotations)
	return s
}

func (s *Sandbox) container(op, name string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[name]
	if !ok || !c.added {
		return nil, newErr(op, s.cfg.ID, name, "", ErrNotFound)
	}
	return c, nil
}

// StartContainer starts a created container (the CRI's StartContainer).
func (s *Sandbox) StartContainer(ctx context.Context, name string) error {
	c, err := s.container("start", name)
	if err != nil {
		return err
	}
	if err := c.start(); err != nil {
		return newErr("start", s.cfg.ID, name, "", err)
	}
	hook("start:unsaved")
	s.mu.Lock() // record the start time for List and Load
	defer s.mu.Unlock()
	return newErr("start: state", s.cfg.ID, name, "", s.save())
}

// StopContainer sends SIGTERM, waits up to grace (or until ctx ends), then
// kills the container's cgroup. Stopping a container that is not running
// succeeds and does nothing.
func (s *Sandbox) StopContainer(ctx context.Context, name string, grace time.Duration) error {
	c, err := s.container("stop container", name)
	if err != nil {
		return err
	}
	return newErr("stop container", s.cfg.ID, name, "", c.stop(ctx, time.Now().Add(grace)))
}

// Wait blocks until the current run of the container has exited (or ctx
// is done) and returns its exit status.
func (s *Sandbox) Wait(ctx context.Context, name string) (*ExitStatus, error) {
	c, err := s.container("wait", name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done == nil {
		return nil, newErr("wait", s.cfg.ID, name, "", ErrInvalidState)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, newErr("wait", s.cfg.ID, name, "", ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := *c.exit
	return &e, nil
}

// ExecSpec is a process to run inside a running container.
type ExecSpec struct {
	Args   []string
	Env    []string // default: the container's environment
	Cwd    string   // default: the container's working directory
	Stdout io.Writer
	Stderr io.Writer
	// Stdin, when set, is copied to the process's standard input until it
	// ends (EOF closes the process's stdin) or the process exits.
	Stdin io.Reader
	// TTY runs the process on a new terminal of the container's devpts,
	// as its controlling terminal: Stdin goes to the terminal, everything
	// the process writes comes out on Stdout (Stderr is not used).
	TTY bool
	// Resize, with TTY, sets the terminal's size each time a value arrives
	// (a size queued before Exec is the initial one).
	Resize <-chan TerminalSize
}

// Exec runs an extra process inside a running container (probes,
// debugging) and returns its exit status. The process is killed if ctx is
// done first.
func (s *Sandbox) Exec(ctx context.Context, name string, spec ExecSpec) (*ExitStatus, error) {
	c, err := s.container("exec", name)
	if err != nil {
		return nil, err
	}
	es, err := c.exec(ctx, spec)
	return es, newErr("exec", s.cfg.ID, name, "", err)
}

// containerExited is called by the reaper after every exit.
func (s *Sandbox) containerExited(c *container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateDestroying && s.state != StateDestroyed {
		_ = s.save()
	}
}

// RemoveContainer kills the container if it still runs and removes it
// (libcontainer state, cgroup); its log file stays until Destroy. Removing
// a container that does not exist (any more) succeeds, as the CRI
// requires.
func (s *Sandbox) RemoveContainer(ctx context.Context, name string) error {
	c, err := s.container("remove", name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.destroy(ctx); err != nil {
		return newErr("remove", s.cfg.ID, name, "", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.containers[name] != c {
		return nil // a concurrent RemoveContainer got there first
	}
	delete(s.containers, name)
	for i, n := range s.order {
		if n == name {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return newErr("remove: state", s.cfg.ID, name, "", s.save())
}
