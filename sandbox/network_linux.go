//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"

	"golang.org/x/sys/unix"
)

// Network gives a pod its network: the embedder's CNI glue (or anything
// else that sets up a network namespace). The sandbox package runs no
// plugins itself; examples/internal/podnet has an implementation on
// libcni.
type Network interface {
	// Attach connects the pod whose pinned network namespace is at
	// netnsPath and returns its addresses (with their prefix lengths).
	// On failure it leaves nothing behind.
	Attach(ctx context.Context, id, netnsPath string) ([]netip.Prefix, error)
	// Detach releases what Attach set up. It is idempotent (a pod that is
	// not attached is fine) and works with netnsPath "" when the namespace
	// is gone, from a process other than the one that attached.
	Detach(ctx context.Context, id, netnsPath string) error
}

// DetachCommander is a Network that can also detach a pod by a command
// line any process may run (typically the embedding program with a
// subcommand of its own). The command is saved with the sandbox at
// Attach, so that a process without the embedder's Network (the guard
// that destroys the pods of a dead manager, a Reconcile given no
// LoadOptions) still detaches the pod; "/proc/self/exe" as the command
// runs the program that runs it, and the guard is the embedder's binary.
// It must be idempotent like Detach and exit 0 on success; nil means no
// command.
type DetachCommander interface {
	Network
	DetachCommand(id string) []string
}

// ErrNetwork: the pod's Network failed to attach or detach it, or a
// sandbox whose network is attached is destroyed without a Network to
// detach it (LoadOptions.Network). A sandbox whose Detach failed stays
// Destroying; the next Destroy (or Reconcile) retries it.
var ErrNetwork = errors.New("pod network")

// LoadOptions are the parts of a sandbox that cannot be saved in its state
// file, for Load and Reconcile to give back.
type LoadOptions struct {
	// Network detaches the pod from its network when the sandbox is
	// destroyed (a Destroy interrupted before it finished, or a later
	// one). Pass the same kind of Network the sandbox was created with.
	Network Network
}

func mergeLoadOptions(opts []LoadOptions) LoadOptions {
	var o LoadOptions
	for _, x := range opts {
		if x.Network != nil {
			o.Network = x.Network
		}
	}
	return o
}

// IPs returns the pod's addresses as Config.Network reported them (nil
// without a Network).
func (s *Sandbox) IPs() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ips)
}

// netnsPin is the pinned network namespace's path ("" if not pinned).
func (s *Sandbox) netnsPin() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pins["net"]
}

// attachNetwork runs Config.Network's Attach in the pinned namespace.
// The intent (netAttached) is saved first: a crash inside Attach leaves a
// sandbox that Reconcile detaches.
func (s *Sandbox) attachNetwork(ctx context.Context) error {
	if s.cfg.Network == nil {
		return nil
	}
	path := s.netnsPin()
	if path == "" {
		return fmt.Errorf("%w: no pinned network namespace", ErrNetwork)
	}
	s.mu.Lock()
	s.netAttached = true
	err := s.save()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if dc, ok := s.cfg.Network.(DetachCommander); ok {
		s.mu.Lock()
		s.netDetach = dc.DetachCommand(s.cfg.ID)
		s.mu.Unlock()
	}
	ips, err := s.cfg.Network.Attach(ctx, s.cfg.ID, path)
	if err != nil {
		return fmt.Errorf("%w: attach: %w", ErrNetwork, err)
	}
	s.mu.Lock()
	s.ips = slices.Clone(ips)
	err = s.save()
	s.mu.Unlock()
	return err
}

// detachNetwork runs Detach if the pod was (or may have been) attached,
// while its namespace is still pinned. Only a successful Detach clears
// the record, so a failed one is retried by the next teardown.
func (s *Sandbox) detachNetwork(ctx context.Context) error {
	s.mu.Lock()
	attached := s.netAttached
	s.mu.Unlock()
	if !attached {
		return nil
	}
	path := s.netnsPin()
	if !pinExists(path) {
		path = ""
	}
	s.mu.Lock()
	argv := slices.Clone(s.netDetach)
	s.mu.Unlock()
	switch {
	case s.cfg.Network != nil:
		if err := s.cfg.Network.Detach(ctx, s.cfg.ID, path); err != nil {
			return fmt.Errorf("%w: detach: %w", ErrNetwork, err)
		}
	case len(argv) > 0:
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%w: detach command %q: %w: %s", ErrNetwork, argv, err, out)
		}
	default:
		return fmt.Errorf("%w: the pod is attached to a network but no Network was given to detach it (LoadOptions.Network)", ErrNetwork)
	}
	s.mu.Lock()
	s.netAttached, s.ips, s.netDetach = false, nil, nil
	err := s.save()
	s.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) {
		return nil // another manager's Reconcile removed the run directory
	}
	return err
}

// pinExists reports whether path is a pinned namespace (an nsfs bind
// mount), not a leftover mountpoint file.
func pinExists(path string) bool {
	var st unix.Statfs_t
	return path != "" && unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}
