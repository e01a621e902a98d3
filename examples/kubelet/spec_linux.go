//go:build linux

package kubelet

import (
	"context"
	"fmt"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// RestartPolicy is the Kubernetes restart policy.
type RestartPolicy string

// Restart policies.
const (
	RestartAlways    RestartPolicy = "Always"
	RestartOnFailure RestartPolicy = "OnFailure"
	RestartNever     RestartPolicy = "Never"
)

// Container is a sandbox container plus what the kubelet decides for it.
type Container struct {
	sandbox.ContainerSpec
	// RestartPolicy for this container; empty means the pod's. On an
	// init container only Always is allowed: it makes the container a
	// native sidecar (see the package documentation).
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// PreStop runs inside the container (as Exec) before it is stopped
	// by Stop, within the grace period. PreStopHandler is the general
	// form (exec, httpGet, tcpSocket, sleep); set one of the two.
	PreStop        []string `json:"preStop,omitempty"`
	PreStopHandler *Handler `json:"preStopHandler,omitempty"`
	// PostStart runs right after each start; the container counts as
	// started (Status: Running, ContainerStatus.Started) only once it
	// returned, and a failure kills the container (restarted per policy).
	PostStart *Handler `json:"postStart,omitempty"`
	// StartupProbe runs after PostStart on each run until it succeeds;
	// FailureThreshold failures in a row kill the container.
	StartupProbe *Probe `json:"startupProbe,omitempty"`
	// LivenessProbe runs once the run started (after PostStart and the
	// StartupProbe) until it ends; FailureThreshold failures in a row kill
	// the container, restarted per policy.
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe runs like LivenessProbe and sets the container's
	// Ready (ContainerStatus.Ready): SuccessThreshold successes in a row
	// make it ready, FailureThreshold failures unready. A container
	// without one is ready once started.
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// TerminationMessagePath, when set, is a file the container may write
	// its termination message to (a host file bind-mounted there, as the
	// kubelet does); ContainerStatus.Message shows it after the exit, up to
	// MaxTerminationMessage bytes.
	TerminationMessagePath string `json:"terminationMessagePath,omitempty"`
	// TerminationMessagePolicy is File (default) or FallbackToLogsOnError.
	TerminationMessagePolicy TerminationMessagePolicy `json:"terminationMessagePolicy,omitempty"`
}

// Sidecar reports whether an init container is a native sidecar.
func (c Container) Sidecar() bool { return c.RestartPolicy == RestartAlways }

// PodSpec is what Run starts in a sandbox.
type PodSpec struct {
	// InitContainers run one at a time, in order, each to successful
	// completion, before any app container is created.
	InitContainers []Container
	Containers     []Container
	// RestartPolicy is the pod's policy (default Always), used for every
	// container whose own RestartPolicy is empty. Init containers with
	// Always are restarted like OnFailure, as in Kubernetes.
	RestartPolicy RestartPolicy
	// Grace is the grace period of the kills the kubelet decides itself
	// (a failed postStart or startup probe; sidecars after the app
	// containers completed), preStop included; default 30s.
	Grace time.Duration `json:",omitempty"`
	// LogFile, when set, names the CRI-format log file of a container's
	// run (attempt), read for FallbackToLogsOnError; without it the
	// sandbox's log file is read (containers with Stdout/Stderr set then
	// have no log to fall back to).
	LogFile func(name string, attempt int) string `json:"-"`
	// Backoff configures the restart back-off; zero fields take
	// Kubernetes' values.
	Backoff Backoff
	// BeforeCreate, when set, is called before every creation of a
	// container (its first run and each restart) with the spec about to be
	// created, and may change it (a runtime gives each run its own root
	// filesystem); an error fails that creation. AfterRemove is called
	// when a restart has removed the previous run (attempt) of a container.
	// Neither is saved for Resume.
	BeforeCreate func(ctx context.Context, spec *sandbox.ContainerSpec) error `json:"-"`
	AfterRemove  func(name string, attempt int)                               `json:"-"`
}

// Backoff configures the crash-loop back-off.
type Backoff struct {
	Initial time.Duration // first delay, default 10s
	Max     time.Duration // cap, default 5m
	Reset   time.Duration // running this long resets the delay, default 10m
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 10 * time.Second
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Minute
	}
	if b.Reset <= 0 {
		b.Reset = 10 * time.Minute
	}
	return b
}

// nextDelay is Kubernetes' back-off: Initial, doubling up to Max, back to
// Initial after a run that lasted Reset. prev is the last delay (0 for
// the first restart), ran how long the run that just ended lasted.
func (b Backoff) nextDelay(prev, ran time.Duration) time.Duration {
	if prev == 0 || ran >= b.Reset {
		return b.Initial
	}
	return min(prev*2, b.Max)
}

func (s PodSpec) withDefaults() PodSpec {
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartAlways
	}
	s.Backoff = s.Backoff.withDefaults()
	if s.Grace <= 0 {
		s.Grace = 30 * time.Second
	}
	s.InitContainers = append([]Container(nil), s.InitContainers...)
	s.Containers = append([]Container(nil), s.Containers...)
	return s
}

// validate checks the spec against the sandbox's configuration before
// anything is created: restart policies, unique names, and every
// container as CreateContainer would check it.
func (s PodSpec) validate(cfg sandbox.Config) error {
	bad := func(ctr, format string, a ...any) error {
		return newErr("validate", cfg.ID, ctr, fmt.Errorf("%w: "+format, append([]any{sandbox.ErrInvalidConfig}, a...)...))
	}
	if !validPolicy(s.RestartPolicy) {
		return bad("", "restart policy %q", s.RestartPolicy)
	}
	seen := map[string]bool{}
	for _, list := range [][]Container{s.InitContainers, s.Containers} {
		for _, c := range list {
			if err := c.ContainerSpec.Validate(cfg); err != nil {
				return newErr("validate", cfg.ID, c.Name, err)
			}
			if seen[c.Name] {
				return bad(c.Name, "duplicate container name")
			}
			seen[c.Name] = true
			if c.RestartPolicy != "" && !validPolicy(c.RestartPolicy) {
				return bad(c.Name, "restart policy %q", c.RestartPolicy)
			}
		}
	}
	return s.validateLifecycle(cfg.ID)
}

func validPolicy(p RestartPolicy) bool {
	return p == RestartAlways || p == RestartOnFailure || p == RestartNever
}

// policyOf returns the policy a container runs under: its own or the
// pod's, Always meaning OnFailure for an init container that is not a
// sidecar.
func (s PodSpec) policyOf(c Container, init bool) RestartPolicy {
	if init && c.Sidecar() {
		return RestartAlways
	}
	p := c.RestartPolicy
	if p == "" {
		p = s.RestartPolicy
	}
	if init && p == RestartAlways {
		p = RestartOnFailure
	}
	return p
}

// shouldRestart applies a policy to an exit.
func shouldRestart(p RestartPolicy, es *sandbox.ExitStatus) bool {
	switch p {
	case RestartAlways:
		return true
	case RestartOnFailure:
		return es != nil && es.ExitCode != 0
	}
	return false
}
