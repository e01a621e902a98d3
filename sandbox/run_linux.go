//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"time"
)

// PodSpec is what Run starts in a sandbox.
type PodSpec struct {
	// InitContainers run one at a time, in order, each to successful
	// completion, before any app container is created.
	InitContainers []ContainerSpec
	Containers     []ContainerSpec
	// RestartPolicy is the pod's policy (default Always), used for every
	// container whose own RestartPolicy is empty. Init containers with
	// Always are restarted like OnFailure, as in Kubernetes.
	RestartPolicy RestartPolicy
}

// Run runs the init containers in order (retrying failures per restart
// policy with back-off; a failure that may not be retried fails the pod
// with ErrInitFailed), then creates and starts the app containers and
// supervises them: exited containers are restarted per policy with
// Kubernetes' back-off until Stop or Destroy. Run returns once the app
// containers are started.
func (s *Sandbox) Run(ctx context.Context, pod PodSpec) error {
	if pod.RestartPolicy == "" {
		pod.RestartPolicy = RestartAlways
	}
	seen := map[string]bool{}
	for _, list := range [][]ContainerSpec{pod.InitContainers, pod.Containers} {
		for i := range list {
			if err := list[i].validate(&s.cfg); err != nil {
				return err
			}
			if seen[list[i].Name] {
				return newErr("run", s.cfg.ID, list[i].Name, "", fmt.Errorf("%w: duplicate container name", ErrInvalidConfig))
			}
			seen[list[i].Name] = true
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	if s.runCancel != nil {
		s.mu.Unlock()
		cancel()
		return newErr("run", s.cfg.ID, "", "", fmt.Errorf("%w: Run already called", ErrInvalidState))
	}
	s.runCancel = cancel
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	for _, spec := range pod.InitContainers {
		policy := policyOf(spec, pod.RestartPolicy)
		if policy == RestartAlways {
			policy = RestartOnFailure
		}
		if err := s.runInit(sctx, spec, policy); err != nil {
			return err
		}
	}
	var names []string
	for _, spec := range pod.Containers {
		if err := s.CreateContainer(sctx, spec); err != nil {
			return err
		}
		names = append(names, spec.Name)
	}
	for i, n := range names {
		if err := s.StartContainer(sctx, n); err != nil {
			return err
		}
		c, _ := s.container("run", n)
		s.superviseFrom(sctx, c, policyOf(pod.Containers[i], pod.RestartPolicy))
	}
	s.mu.Lock()
	_ = s.save() // records the policies, so that Load resumes supervision
	s.mu.Unlock()
	return nil
}

// superviseFrom records c's policy and starts its supervisor.
func (s *Sandbox) superviseFrom(ctx context.Context, c *container, policy RestartPolicy) {
	c.mu.Lock()
	c.policy = policy
	c.mu.Unlock()
	s.supervising.Store(true)
	s.runWG.Add(1)
	go s.supervise(ctx, c, policy)
}

// resumeSupervision restarts the supervisors of a loaded sandbox: every
// app container Run supervised before is restarted per its policy again,
// including one that exited while no manager was attached.
func (s *Sandbox) resumeSupervision() {
	var supervised []*container
	for _, c := range s.snapshotContainers() {
		c.mu.Lock()
		if c.policy != "" && !c.init {
			supervised = append(supervised, c)
		}
		c.mu.Unlock()
	}
	if len(supervised) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.runCancel = cancel
	s.mu.Unlock()
	for _, c := range supervised {
		s.superviseFrom(ctx, c, c.policy)
	}
}

func policyOf(spec ContainerSpec, pod RestartPolicy) RestartPolicy {
	if spec.RestartPolicy != "" {
		return spec.RestartPolicy
	}
	return pod
}

func shouldRestart(p RestartPolicy, es *ExitStatus) bool {
	switch p {
	case RestartAlways:
		return true
	case RestartOnFailure:
		return es.ExitCode != 0
	}
	return false
}

// runInit runs one init container to completion, retrying per policy.
func (s *Sandbox) runInit(ctx context.Context, spec ContainerSpec, policy RestartPolicy) error {
	if err := s.addContainer(ctx, spec, true); err != nil {
		return err
	}
	c, _ := s.container("run", spec.Name)
	if err := c.start(); err != nil {
		return newErr("run init", s.cfg.ID, spec.Name, "", err)
	}
	var delay time.Duration
	for {
		es, err := c.wait(ctx)
		if err != nil {
			return newErr("run init", s.cfg.ID, spec.Name, "", err)
		}
		if es.ExitCode == 0 {
			return nil
		}
		if !shouldRestart(policy, es) {
			s.mu.Lock()
			s.podFailed = true
			_ = s.save()
			s.mu.Unlock()
			return newErr("run init", s.cfg.ID, spec.Name, "", fmt.Errorf("%w: exit code %d (%s)", ErrInitFailed, es.ExitCode, es.Reason))
		}
		delay = s.nextDelay(delay, c)
		if err := c.restart(ctx, delay); err != nil {
			return newErr("run init", s.cfg.ID, spec.Name, "", err)
		}
	}
}

// supervise restarts an app container per policy until ctx is done.
func (s *Sandbox) supervise(ctx context.Context, c *container, policy RestartPolicy) {
	defer s.runWG.Done()
	var delay time.Duration
	for {
		es, err := c.wait(ctx)
		if err != nil || !shouldRestart(policy, es) {
			return
		}
		delay = s.nextDelay(delay, c)
		for {
			err := c.restart(ctx, delay)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			// Like the kubelet: report it and try again after the next
			// back-off instead of giving the container up.
			s.events.emit(Event{Type: EventRestartFailed, Sandbox: s.cfg.ID, Container: c.spec.Name, Err: err.Error()})
			delay = min(delay*2, s.cfg.Backoff.Max)
		}
	}
}

// nextDelay implements Kubernetes' back-off: Initial, doubling up to Max,
// back to Initial after the container ran for Reset.
func (s *Sandbox) nextDelay(prev time.Duration, c *container) time.Duration {
	b := s.cfg.Backoff
	c.mu.Lock()
	ran := c.exit.Finished.Sub(c.started)
	c.mu.Unlock()
	if prev == 0 || ran >= b.Reset {
		return b.Initial
	}
	return min(prev*2, b.Max)
}

// wait blocks until the current run exits.
func (c *container) wait(ctx context.Context) (*ExitStatus, error) {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := *c.exit
	return &e, nil
}

// restart waits out the back-off delay, then replaces the exited
// libcontainer container with a fresh one and starts it.
func (c *container) restart(ctx context.Context, delay time.Duration) error {
	c.mu.Lock()
	c.phase, c.waitReason = ContainerWaiting, "CrashLoopBackOff"
	c.mu.Unlock()
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		c.mu.Lock()
		c.phase, c.waitReason = ContainerTerminated, ""
		c.mu.Unlock()
		return ctx.Err()
	}
	if err := c.destroy(); err != nil {
		return err
	}
	c.mu.Lock()
	c.restarts++
	n := c.restarts
	c.mu.Unlock()
	if err := c.create(); err != nil {
		return err
	}
	c.sb.events.emit(Event{Type: EventContainerRestart, Sandbox: c.sb.cfg.ID, Container: c.spec.Name, Attempt: n})
	return c.start()
}
