//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// transition moves the sandbox to next if the current state allows it.
func (s *Sandbox) transition(op string, next State, from ...State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range from {
		if s.state == f {
			s.state = next
			return nil
		}
	}
	return newErr(op, s.cfg.ID, "", "", fmt.Errorf("%w: %s", ErrInvalidState, s.state))
}

// watchPause notices a pause that dies while the sandbox is live: the
// sandbox goes to Unknown and its containers are killed (their shared
// namespaces may be gone with it).
func (s *Sandbox) watchPause(p *procRef) {
	<-p.done
	s.mu.Lock()
	live := s.state == StateReady
	if live {
		s.state = StateUnknown
	}
	s.mu.Unlock()
	if !live {
		return
	}
	s.events.emit(Event{Type: EventPauseDied, Sandbox: s.cfg.ID, Pid: p.Pid})
	s.stopSupervisors()
	for _, c := range s.snapshotContainers() {
		_ = c.signal(unix.SIGKILL)
	}
	s.mu.Lock()
	_ = s.save()
	s.mu.Unlock()
}

func (s *Sandbox) snapshotContainers() []*container {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*container, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.containers[n])
	}
	return out
}

// Stop stops every container: optional preStop command, SIGTERM, wait up
// to grace, then SIGKILL of the container's whole cgroup; then the pause.
// Containers are stopped concurrently. The sandbox stays (Stopped) until
// Destroy; its namespaces stay pinned.
func (s *Sandbox) Stop(ctx context.Context, grace time.Duration) error {
	if err := s.transition("stop", StateStopping, StateReady, StateUnknown, StateStopping); err != nil {
		return err
	}
	s.mu.Lock()
	_ = s.save()
	s.mu.Unlock()
	hook("stop:stopping")
	s.stopSupervisors()
	deadline := time.Now().Add(grace)
	cs := s.snapshotContainers()
	errc := make(chan error, len(cs))
	for _, c := range cs {
		go func() { errc <- c.stop(ctx, deadline) }()
	}
	var errs []error
	for range cs {
		errs = append(errs, <-errc)
	}
	if s.pause != nil {
		_ = s.pause.signal(unix.SIGTERM)
		select {
		case <-s.pause.done:
		case <-time.After(time.Until(deadline) + time.Second):
			_ = s.pause.signal(unix.SIGKILL)
			s.pause.awaitExit()
		}
	}
	s.mu.Lock()
	s.state = StateStopped
	_ = s.save()
	s.mu.Unlock()
	s.events.emit(Event{Type: EventSandboxStopped, Sandbox: s.cfg.ID})
	if err := errors.Join(errs...); err != nil {
		return newErr("stop", s.cfg.ID, "", "", err)
	}
	return nil
}

// stop is the per-container part of Stop.
func (c *container) stop(ctx context.Context, deadline time.Time) error {
	c.mu.Lock()
	phase, done := c.phase, c.done
	c.mu.Unlock()
	if done == nil || phase == ContainerTerminated {
		return nil
	}
	if phase == ContainerRunning && len(c.spec.PreStop) > 0 {
		pctx, cancel := context.WithDeadline(ctx, deadline)
		_, _ = c.exec(pctx, ExecSpec{Args: c.spec.PreStop})
		cancel()
	}
	if phase == ContainerRunning {
		if err := c.signal(unix.SIGTERM); err != nil {
			return err
		}
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	if err := c.signal(unix.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

// Destroy removes everything: containers (killed), pause, pins, volumes,
// cgroups, files. It is idempotent and also finishes a partial failure.
func (s *Sandbox) Destroy(ctx context.Context) error {
	s.mu.Lock()
	if s.state == StateDestroyed {
		s.mu.Unlock()
		return nil
	}
	s.state = StateDestroying
	_ = s.save()
	s.mu.Unlock()
	s.stopSupervisors()
	s.creating.Wait() // no create may add a container behind teardown's back
	err := s.teardown()
	s.mu.Lock()
	s.state = StateDestroyed
	s.mu.Unlock()
	s.events.close()
	if err != nil {
		return newErr("destroy", s.cfg.ID, "", s.dir, err)
	}
	return nil
}

func (s *Sandbox) stopSupervisors() {
	s.supervising.Store(false)
	s.mu.Lock()
	cancel := s.runCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.runWG.Wait()
	// An exit recorded as "about to restart" (setExited) that no
	// supervisor will act on any more is a plain termination.
	for _, c := range s.snapshotContainers() {
		c.mu.Lock()
		if c.phase == ContainerWaiting && c.waitReason == "CrashLoopBackOff" && c.exit != nil {
			c.phase, c.waitReason = ContainerTerminated, ""
		}
		c.mu.Unlock()
	}
}
