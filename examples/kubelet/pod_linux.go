//go:build linux

package kubelet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// Pod is a PodSpec run in a sandbox under the kubelet's policy.
type Pod struct {
	sb     *sandbox.Sandbox
	spec   PodSpec
	inits  map[string]bool // init container names
	events hub

	mu      sync.Mutex
	started bool // Run or Resume took over
	active  bool // supervisors may restart containers
	failed  bool // an init container failed for good
	// completing: the app containers are done for good; the sidecars are
	// being stopped and are not restarted any more.
	completing bool
	// stopping: Stop began; no container is ready any more.
	stopping bool
	runs     map[string]*run // the current run of each container
	cancel   context.CancelFunc
	// known lists the containers created at least once, in order.
	known []string
	// held is the last status of a container a restart removed and has
	// not created again yet: Status keeps showing it.
	held map[string]sandbox.ContainerStatus
	wg   sync.WaitGroup // supervisors
	// sidecarRestarts counts the sidecar restarts in flight (added under
	// mu while not completing): completing waits them out, so that the
	// sidecars it then stops include one coming back.
	sidecarRestarts sync.WaitGroup
}

// New returns the Pod of spec in sb, not running yet (Run). Its event
// stream (Events) starts now.
func New(sb *sandbox.Sandbox, spec PodSpec) *Pod {
	return newPod(sb, spec.withDefaults())
}

func newPod(sb *sandbox.Sandbox, spec PodSpec) *Pod {
	p := &Pod{sb: sb, spec: spec, inits: map[string]bool{}, held: map[string]sandbox.ContainerStatus{}, runs: map[string]*run{}}
	for _, c := range spec.InitContainers {
		p.inits[c.Name] = true
	}
	go p.events.forward(sb.Events(4096))
	return p
}

// Sandbox returns the pod's sandbox.
func (p *Pod) Sandbox() *sandbox.Sandbox { return p.sb }

// Run validates the spec against the sandbox (bad input is refused
// before anything is created, wrapping sandbox.ErrInvalidConfig or the
// sandbox's other validation sentinels), runs the init containers in order
// (retrying failures per restart policy with back-off; a failure that may
// not be retried fails the pod, and Run returns ErrInitFailed; an init
// container or sidecar that cannot be created or started fails it too,
// with that error: either way the sidecars already started are stopped),
// then creates and starts the app containers and supervises them: exited
// containers are restarted per policy with back-off until ctx ends, Stop
// or Close. Run returns once the app containers are started.
func (p *Pod) Run(ctx context.Context) error {
	if err := p.spec.validate(p.sb.Config()); err != nil {
		return err
	}
	sctx, err := p.takeOver("run")
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, p.Close)
	defer stop()
	for _, c := range p.spec.InitContainers {
		run := p.runInit
		if c.Sidecar() {
			run = p.runSidecar
		}
		if err := run(sctx, c); err != nil {
			if !errors.Is(err, ErrInitFailed) && sctx.Err() == nil {
				// Run gives the pod up (a run could not be created or
				// started): nothing would ever start its app containers.
				p.initFailed(sctx)
			}
			return err
		}
	}
	for _, c := range p.spec.Containers {
		if err := p.create(sctx, c, 0); err != nil {
			return err
		}
	}
	for _, c := range p.spec.Containers {
		if err := p.start(sctx, c); err != nil {
			return newErr("run", p.sb.ID(), c.Name, err)
		}
		p.supervise(sctx, c, false)
	}
	return newErr("run: save", p.sb.ID(), "", p.save(true))
}

// owners maps each sandbox to the Pod that supervises it: two
// supervisors would restart the same container twice.
var owners sync.Map

// takeOver marks the pod as run by this Pod value and returns the context
// of its supervision, which Close ends. One Pod at a time supervises a
// sandbox.
func (p *Pod) takeOver(op string) (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return nil, newErr(op, p.sb.ID(), "", fmt.Errorf("%w: the pod is already running", sandbox.ErrInvalidState))
	}
	if _, taken := owners.LoadOrStore(p.sb, p); taken {
		return nil, newErr(op, p.sb.ID(), "", fmt.Errorf("%w: another Pod supervises the sandbox", sandbox.ErrInvalidState))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.started, p.active, p.cancel = true, true, cancel
	return ctx, nil
}

// create creates a container's run (attempt) and records it as known.
func (p *Pod) create(ctx context.Context, c Container, attempt int) error {
	spec := c.ContainerSpec
	spec.Attempt = attempt
	if err := p.addTerminationMount(c, &spec); err != nil {
		return newErr("create", p.sb.ID(), spec.Name, err)
	}
	if p.spec.BeforeCreate != nil {
		if err := p.spec.BeforeCreate(ctx, &spec); err != nil {
			return newErr("create", p.sb.ID(), spec.Name, err)
		}
	}
	if err := p.sb.CreateContainer(ctx, spec); err != nil {
		return newErr("create", p.sb.ID(), spec.Name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, spec.Name)
	for _, n := range p.known {
		if n == spec.Name {
			return nil
		}
	}
	p.known = append(p.known, spec.Name)
	return nil
}

// Close ends the supervision (no container is restarted any more) and
// leaves the containers as they are.
func (p *Pod) Close() {
	p.mu.Lock()
	p.active = false
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	p.wg.Wait()
	owners.CompareAndDelete(p.sb, p)
}

// Stop ends the supervision, then stops the containers within grace as
// the kubelet does: the app containers concurrently (each its preStop
// hook, then SIGTERM), then the sidecars one at a time in reverse order;
// then it stops the sandbox (its Stop kills what is left at the end of
// grace). If ctx ends first, everything is killed at once.
func (p *Pod) Stop(ctx context.Context, grace time.Duration) error {
	deadline := time.Now().Add(grace)
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	p.Close()
	running := map[string]bool{}
	for _, c := range p.sb.Status().Containers {
		running[c.Name] = c.State == sandbox.ContainerRunning
	}
	var wg sync.WaitGroup
	for _, c := range p.spec.Containers {
		if !running[c.Name] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stopContainer(ctx, c, deadline)
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		p.stopSidecars(ctx, deadline)
	}
	return p.sb.Stop(ctx, max(time.Until(deadline), 0))
}

// Events returns a new subscription to the pod's event stream: the
// sandbox's events and the kubelet's (ContainerRestarted,
// ContainerRestartFailed). It is closed when the sandbox's stream is
// (Destroy). A subscriber more than buf events behind loses events.
func (p *Pod) Events(buf int) <-chan sandbox.Event { return p.events.subscribe(buf) }
