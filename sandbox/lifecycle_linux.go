//go:build linux

package sandbox

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// watchPause notices a pause that dies while the sandbox is live: the
// sandbox goes to Unknown and its containers are killed (their shared
// namespaces may be gone with it).
func (s *Sandbox) watchPause(p *procRef) {
	<-p.done
	s.mu.Lock()
	live := s.state == StateReady && s.setState("watch pause", StateUnknown) == nil
	s.mu.Unlock()
	if !live {
		return
	}
	s.events.emit(Event{Type: EventPauseDied, Sandbox: s.cfg.ID, Pid: p.Pid})
	s.killContainers()
	s.mu.Lock()
	_ = s.save()
	s.mu.Unlock()
}

// killContainers SIGKILLs every container of a sandbox whose pause died
// (no caller to take a deadline from: bounded by reaperKillTimeout).
func (s *Sandbox) killContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), reaperKillTimeout)
	defer cancel()
	for _, c := range s.snapshotContainers() {
		_ = c.signal(ctx, unix.SIGKILL)
	}
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

// Stop stops every container: SIGTERM, wait up to grace, then SIGKILL of
// the container's whole cgroup; then the pause. Containers are stopped
// concurrently. The sandbox stays (Stopped) until Destroy; its namespaces
// stay pinned. Stopping a Stopped or Destroyed sandbox does nothing and
// succeeds (the CRI's StopPodSandbox is idempotent). If ctx ends first,
// what still runs is killed at once. preStop hooks are not the runtime's
// business: the caller runs them (Exec) before Stop.
func (s *Sandbox) Stop(ctx context.Context, grace time.Duration) error {
	s.mu.Lock()
	if s.state == StateStopped || s.state == StateDestroyed {
		s.mu.Unlock()
		return nil
	}
	err := s.setState("stop", StateStopping)
	if err == nil {
		_ = s.save()
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	hook("stop:stopping")
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
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-s.pause.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		_ = s.pause.signal(unix.SIGKILL) // a no-op on one that exited
		s.pause.awaitExit(s.reapPodZombies)
	}
	s.mu.Lock()
	if err := s.setState("stop", StateStopped); err != nil {
		errs = append(errs, err) // a concurrent Destroy got there first
	} else {
		_ = s.save()
	}
	s.mu.Unlock()
	s.events.emit(Event{Type: EventSandboxStopped, Sandbox: s.cfg.ID})
	if err := errors.Join(errs...); err != nil {
		return newErr("stop", s.cfg.ID, "", "", err)
	}
	return nil
}

// stop is the per-container part of Stop and StopContainer: SIGTERM,
// then SIGKILL at deadline or when ctx ends. A container that is not
// running is left as it is.
func (c *container) stop(ctx context.Context, deadline time.Time) error {
	c.mu.Lock()
	phase, done := c.phase, c.done
	c.mu.Unlock()
	if done == nil || phase == ContainerTerminated {
		return nil
	}
	if phase == ContainerRunning {
		if err := c.signal(ctx, unix.SIGTERM); err != nil {
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
	// The kill runs within ctx; if ctx is what ended the wait, it still
	// runs (nothing may be left running), bounded.
	kctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		kctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), reaperKillTimeout)
		defer cancel()
	}
	if err := c.signal(kctx, unix.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

// Destroy removes everything: containers (killed), pause, pins, volumes,
// cgroups, files. It is idempotent (a Destroyed sandbox returns nil at
// once) and also finishes a partial failure: if ctx ends before the
// teardown completes the sandbox stays Destroying and Destroy may be
// called again.
func (s *Sandbox) Destroy(ctx context.Context) error {
	s.mu.Lock()
	if s.state == StateDestroyed {
		s.mu.Unlock()
		return nil
	}
	if err := s.setState("destroy", StateDestroying); err != nil {
		s.mu.Unlock()
		return err
	}
	_ = s.save()
	s.mu.Unlock()
	s.creating.Wait() // no create may add a container behind teardown's back
	if err := s.teardown(ctx); err != nil {
		return newErr("destroy", s.cfg.ID, "", s.dir, err)
	}
	s.mu.Lock()
	err := s.setState("destroy", StateDestroyed)
	s.mu.Unlock()
	guardRemove(s.dir)
	s.events.close()
	return err
}
