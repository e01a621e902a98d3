//go:build linux

package sandbox

import "fmt"

// sandboxMoves is the sandbox state machine: every state change goes
// through it (setState). Destroying is reachable from every live state and
// from itself (a Destroy that failed half-way is retried; Reconcile
// finishes an interrupted one); Stopping from itself finishes a Stop that
// was interrupted. Staying in Stopped or Destroyed is not a move: Stop and
// Destroy return at once there (the CRI's idempotence).
var sandboxMoves = map[State][]State{
	StateCreating:   {StateReady, StateDestroying},
	StateReady:      {StateStopping, StateUnknown, StateDestroying},
	StateUnknown:    {StateStopping, StateDestroying},
	StateStopping:   {StateStopping, StateStopped, StateDestroying},
	StateStopped:    {StateDestroying},
	StateDestroying: {StateDestroying, StateDestroyed},
	StateDestroyed:  nil,
}

// containerMoves is the state machine of one run of a container: created
// (Waiting), started (Running), exited (Terminated). An init killed before
// its start goes from Waiting to Terminated.
var containerMoves = map[ContainerPhase][]ContainerPhase{
	ContainerWaiting:    {ContainerRunning, ContainerTerminated},
	ContainerRunning:    {ContainerTerminated},
	ContainerTerminated: nil,
}

func canMove[S comparable](moves map[S][]S, from, to S) bool {
	for _, s := range moves[from] {
		if s == to {
			return true
		}
	}
	return false
}

func sandboxCanMove(from, to State) bool            { return canMove(sandboxMoves, from, to) }
func containerCanMove(from, to ContainerPhase) bool { return canMove(containerMoves, from, to) }

// setState moves the sandbox to next (s.mu held), refusing a move the
// table does not allow with ErrInvalidState.
func (s *Sandbox) setState(op string, next State) error {
	if !sandboxCanMove(s.state, next) {
		return newErr(op, s.cfg.ID, "", "", fmt.Errorf("%w: %s -> %s", ErrInvalidState, s.state, next))
	}
	s.state = next
	return nil
}

// setPhase moves the container's current run to next (c.mu held).
func (c *container) setPhase(next ContainerPhase) error {
	if !containerCanMove(c.phase, next) {
		return fmt.Errorf("%w: container %s -> %s", ErrInvalidState, c.phase, next)
	}
	c.phase = next
	return nil
}
