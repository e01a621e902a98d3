//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// State is the sandbox lifecycle state. Transitions:
//
//	Creating -> Ready -> Stopping -> Stopped -> Destroying -> Destroyed
//
// with Destroying reachable from every state, and Ready -> Unknown when the
// pause process dies.
type State string

// Sandbox lifecycle states.
const (
	StateCreating   State = "Creating"
	StateReady      State = "Ready"
	StateStopping   State = "Stopping"
	StateStopped    State = "Stopped"
	StateDestroying State = "Destroying"
	StateDestroyed  State = "Destroyed"
	StateUnknown    State = "Unknown" // pause died or state could not be verified
)

// testHook, when set by tests, is called at named points of Create and
// Stop so a test can crash the process at a deterministic place.
var testHook func(point string)

func hook(point string) {
	if testHook != nil {
		testHook(point)
	}
}

// Sandbox is a running pod: pinned shared namespaces (held by a pause
// process or by bind mounts only), a pod cgroup, and its containers.
type Sandbox struct {
	cfg    Config
	dir    string
	events eventHub

	mu         sync.Mutex
	state      State
	pins       map[string]string
	pinIDs     map[string]uint64 // namespace identity by pin path, read once (Status)
	cg         *podCgroup
	pause      *procRef
	containers map[string]*container
	order      []string
	created    time.Time
	// pauseEvents is closed when the reader of the pause's event pipe is
	// done (the pause is gone).
	pauseEvents chan struct{}
	// creating counts CreateContainer calls past their state check;
	// Destroy waits for them before it reads the container table.
	creating   sync.WaitGroup
	dirRemoved bool // teardown is removing the run directory: save is a no-op
	// loaded: rebuilt by Load from a run directory another manager (maybe
	// a dead one) made; only such a pod can have zombies this process
	// inherited without knowing them (reapPodZombies looks for none in
	// the others: its walk of /proc costs milliseconds at 1,000 pods).
	loaded bool
	// manager and guard name the owning manager and its guard process
	// (pid:start time; lifetime_linux.go).
	manager, guard string
	// netAttached: Config.Network's Attach ran (or may have) and no Detach
	// succeeded since; ips are the addresses it reported.
	netAttached bool
	ips         []netip.Prefix
	netDetach   []string // DetachCommander's command, saved at Attach
}

// ID returns the sandbox ID.
func (s *Sandbox) ID() string { return s.cfg.ID }

// Dir returns the sandbox's run directory.
func (s *Sandbox) Dir() string { return s.dir }

// Config returns the (defaulted) configuration.
func (s *Sandbox) Config() Config { return s.cfg }

// State returns the lifecycle state.
func (s *Sandbox) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Namespaces returns the pin paths of the shared namespaces by kind.
func (s *Sandbox) Namespaces() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]string, len(s.pins))
	for k, v := range s.pins {
		m[k] = v
	}
	return m
}

// PausePid returns the pause PID (0 in pinned-only mode).
func (s *Sandbox) PausePid() int {
	if s.pause == nil {
		return 0
	}
	return s.pause.Pid
}

// Events returns a new subscription to the sandbox's event stream. The
// channel is closed when the sandbox is destroyed. A subscriber that falls
// more than buf events behind loses events.
func (s *Sandbox) Events(buf int) <-chan Event { return s.events.subscribe(buf) }

// Create validates cfg and builds the sandbox: pod cgroup, pause in new
// namespaces in its own leaf (or pinned-only namespaces), pins, loopback
// up, sysctls, hostname, /etc files, volumes, then writes the state file.
// On any failure everything done so far is undone in reverse order.
func Create(ctx context.Context, cfg Config) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg, dir: filepath.Join(cfg.RunDir, cfg.ID), state: StateCreating, containers: map[string]*container{}}
	if err := s.guardCreate(); err != nil {
		return nil, err
	}
	if err := s.build(ctx); err != nil {
		guardRemove(s.dir)
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) build(ctx context.Context) (retErr error) {
	fail := func(step, path string, err error) error { return newErr("create: "+step, s.cfg.ID, "", path, err) }
	if err := os.MkdirAll(s.cfg.RunDir, 0o711); err != nil {
		return fail("mkdir", s.cfg.RunDir, err)
	}
	if err := os.Mkdir(s.dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			err = ErrExist
		}
		return fail("mkdir", s.dir, err)
	}
	defer func() {
		if retErr != nil {
			// The rollback must run even when ctx (cancelled, expired) is
			// why Create failed; it is bounded all the same.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			if err := s.teardown(rctx); err != nil {
				retErr = errors.Join(retErr, newErr("create: rollback", s.cfg.ID, "", s.dir, err))
			}
		}
	}()
	for _, d := range []string{"ns", "logs", "etc", "volumes", "libct"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o711); err != nil {
			return fail("mkdir", d, err)
		}
	}
	s.created = time.Now()
	// Intent record first: a crash from here on is finished by Reconcile.
	if err := s.save(); err != nil {
		return fail("state", s.dir, err)
	}
	if err := ctx.Err(); err != nil {
		return fail("cancelled", "", err)
	}
	set, err := s.cgroupAndNamespaces(ctx, fail)
	if err != nil {
		return err
	}
	defer set.Close()
	hook("create:namespaces")
	if err := s.attachNetwork(ctx); err != nil {
		return fail("network", "", err)
	}
	hook("create:network")
	if err := s.writeEtc(); err != nil {
		return fail("etc", "", err)
	}
	if err := s.makeVolumes(); err != nil {
		return fail("volumes", "", err)
	}
	if err := s.awaitPause(ctx); err != nil {
		return fail("pause", "", err)
	}
	if err := s.setState("create", StateReady); err != nil {
		return fail("state", s.dir, err)
	}
	if err := s.save(); err != nil {
		return fail("state", s.dir, err)
	}
	if s.pause != nil {
		go s.watchPause(s.pause)
	}
	s.events.emit(Event{Type: EventSandboxReady, Sandbox: s.cfg.ID, Namespaces: nsIdentities(set), Pid: s.PausePid(), IPs: s.IPs()})
	return nil
}

// awaitPause waits for the pause (if any) to report readiness.
func (s *Sandbox) awaitPause(ctx context.Context) error {
	if s.pause == nil {
		return nil
	}
	// Never wait on the pause's ready pipe without a deadline: with a
	// context that cannot be cancelled Ready does a plain blocking read,
	// which hangs Create for good if the pause never writes and the pipe
	// never reaches EOF. On expiry Ready kills and reaps it. A caller's
	// deadline is used as it is; only a ctx without one gets the default.
	readyCtx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		readyCtx, cancel = context.WithTimeout(ctx, pauseReadyTimeout)
	}
	defer cancel()
	if err := s.pause.pp.Ready(readyCtx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("%w: pause not ready within %v: %w", ErrTimeout, pauseReadyTimeout, err)
		}
		return err
	}
	if !s.pause.alive() {
		return ErrPauseDied
	}
	return nil
}

// pauseReadyTimeout bounds how long Create waits for the pause to signal
// readiness (it normally takes about a millisecond) when its ctx has no
// deadline.
const pauseReadyTimeout = 30 * time.Second

// rollbackTimeout bounds the teardown of a failed Create.
const rollbackTimeout = 30 * time.Second

// teardown removes everything the sandbox owns, in reverse creation
// order, tolerating parts that were never built or are already gone.
func (s *Sandbox) teardown(ctx context.Context) error {
	var errs []error
	cs := s.snapshotContainers()
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i].destroy(ctx))
	}
	// The pause goes first, by its pidfd: it never forks, so once it is
	// reaped a pod cgroup with nothing else left is empty, and killAll
	// returns at once instead of freezing it (a shared PID namespace dies
	// with its PID 1 anyway).
	if s.pause != nil {
		_ = s.pause.signal(unix.SIGKILL)
		s.pause.awaitExit(s.reapPodZombies)
		s.pause.release()
		if s.pauseEvents != nil {
			<-s.pauseEvents
		}
	}
	var cgRemoved chan error
	if s.cg != nil {
		errs = append(errs, s.cg.killAll(ctx))
		s.reapPodZombies() // a private-PID container no manager recorded
		// The pod's cgroups, empty now, are removed beside the network's
		// detach, the unmounts and the directory's removal.
		cgRemoved = make(chan error, 1)
		go func(cg *podCgroup) { cgRemoved <- cg.destroy(ctx) }(s.cg)
	}
	netErr := s.detachNetwork(ctx)
	errs = append(errs, unmountVolumes(s.dir))
	if netErr != nil {
		// Keep the pins and the state file: the next Destroy (or
		// Reconcile) detaches again.
		errs = append(errs, netErr)
	} else {
		errs = append(errs, unpinAll(s.dir))
	}
	if cgRemoved != nil {
		errs = append(errs, <-cgRemoved)
	}
	if netErr != nil {
		return errors.Join(errs...)
	}
	// From here on nothing may write into the directory: a watcher that
	// saw the pause or a container die saves state concurrently (s.mu), and
	// a file created during RemoveAll fails it with ENOTEMPTY.
	s.mu.Lock()
	s.dirRemoved = true
	s.mu.Unlock()
	errs = append(errs, removeDir(s.dir))
	return errors.Join(errs...)
}

// removeDir removes the sandbox directory. Another Sandbox of the same
// directory in this process (a live manager's pod that Remove destroys
// under it) may still save its state into it as it sees the pause die: a
// file it creates while RemoveAll runs fails the last unlink with
// ENOTEMPTY, so that is retried; once the directory is gone such a save
// fails (ENOENT) and creates nothing.
func removeDir(dir string) error {
	err := os.RemoveAll(dir)
	for i := 0; i < 10 && errors.Is(err, unix.ENOTEMPTY); i++ {
		time.Sleep(10 * time.Millisecond)
		err = os.RemoveAll(dir)
	}
	return err
}
