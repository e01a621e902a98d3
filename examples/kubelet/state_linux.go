//go:build linux

package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podkit/podkit/sandbox"
)

// StateFile is the kubelet's record in the sandbox's run directory.
const StateFile = "kubelet.json"

// saved is what Resume needs: the spec (without the Stdout/Stderr files,
// which cannot outlive the process) and what Run decided.
type saved struct {
	Spec PodSpec `json:"spec"`
	// Supervised: Run started the app containers and supervises them.
	Supervised bool `json:"supervised,omitempty"`
	// Failed: an init container failed for good.
	Failed bool `json:"failed,omitempty"`
}

// save writes StateFile atomically (temporary file, rename).
func (p *Pod) save(supervised bool) error {
	p.mu.Lock()
	rec := saved{Spec: p.spec, Supervised: supervised, Failed: p.failed}
	p.mu.Unlock()
	b, err := json.Marshal(rec) // compact: read back only by Resume
	if err != nil {
		return err
	}
	name := filepath.Join(p.sb.Dir(), StateFile)
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// Resume re-attaches the kubelet to a sandbox re-attached by
// sandbox.Load (or Reconcile) after a restart of the managing process:
// it reads the record Run saved and, if the sandbox is Ready and Run had
// started the app containers, supervises them again with their policies
// (a container that exited meanwhile is restarted after the first
// back-off). Output files given in the spec are not kept: restarted
// containers write to their log files. A sandbox no Pod ran is refused
// with sandbox.ErrNotFound.
func Resume(sb *sandbox.Sandbox) (*Pod, error) {
	b, err := os.ReadFile(filepath.Join(sb.Dir(), StateFile))
	if errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("%w: no %s: %w", sandbox.ErrNotFound, StateFile, err)
	}
	if err != nil {
		return nil, newErr("resume", sb.ID(), "", err)
	}
	var rec saved
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, newErr("resume", sb.ID(), "", fmt.Errorf("%s: %w", StateFile, err))
	}
	p := newPod(sb, rec.Spec.withDefaults())
	p.failed = rec.Failed
	present, running := map[string]bool{}, map[string]bool{}
	for _, c := range sb.Status().Containers {
		present[c.Name] = true
		running[c.Name] = c.State == sandbox.ContainerRunning
	}
	for _, list := range [][]Container{p.spec.InitContainers, p.spec.Containers} {
		for _, c := range list {
			if present[c.Name] {
				p.known = append(p.known, c.Name)
			}
		}
	}
	if !rec.Supervised || sb.State() != sandbox.StateReady {
		return p, nil
	}
	ctx, err := p.takeOver("resume")
	if err != nil {
		return nil, err
	}
	for _, c := range p.spec.InitContainers {
		if c.Sidecar() && present[c.Name] {
			if running[c.Name] {
				p.resumeRun(ctx, c)
			}
			p.supervise(ctx, c, true)
		}
	}
	for _, c := range p.spec.Containers {
		if present[c.Name] {
			if running[c.Name] {
				p.resumeRun(ctx, c)
			}
			p.supervise(ctx, c, false)
		}
	}
	return p, nil
}

// resumeRun takes a running container's run over after Resume: it counts
// as started (the previous manager saw it start; its postStart and
// startup probe are not run again, as the kubelet does not after its own
// restart), and its liveness and readiness probes begin again, readiness
// from not ready, each first probe due InitialDelay after the run's
// start. The record is made before the run's supervisor starts, whose
// end of the run (ended) then cancels the probers.
func (p *Pod) resumeRun(ctx context.Context, c Container) {
	p.mu.Lock()
	r := p.runOf(c.Name)
	rctx, cancel := context.WithCancel(ctx)
	r.started, r.cancel = true, cancel
	close(r.once)
	p.mu.Unlock()
	p.startProbers(rctx, c)
}
