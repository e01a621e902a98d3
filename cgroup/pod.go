//go:build linux

package cgroup

import (
	"context"
	"errors"
	"os"
	"sync"
)

// DefaultParent is where pod cgroups go unless PodConfig.Parent says
// otherwise.
const DefaultParent = "/podkit"

// PauseName is the leaf of a pod cgroup that holds the pause process. A v2
// cgroup with processes cannot have children, so the pause process lives in
// a leaf next to the containers, never in the pod cgroup itself.
const PauseName = "pause"

// PodConfig describes a pod cgroup.
type PodConfig struct {
	// Parent is the cgroup the pod goes under (default DefaultParent).
	Parent string
	// ID is the pod's name under Parent: one valid path component.
	ID string
	// Resources are pod-level limits (like the kubelet's pod cgroup:
	// typically the sum of the containers' limits). May be nil.
	Resources *Resources
	// NoPauseLeaf: the pod has no pause process (its namespaces are pinned
	// with no process in them), so no pause leaf is created and Pause
	// returns nil.
	NoPauseLeaf bool
}

// Validate checks the config without touching the host.
func (c *PodConfig) Validate() error {
	parent := c.Parent
	if parent == "" {
		parent = DefaultParent
	}
	p, err := cleanPath("pod", parent)
	if err != nil {
		return err
	}
	if _, err := child("pod", p, c.ID); err != nil {
		return err
	}
	return c.Resources.Validate()
}

// Pod is a pod cgroup with its pause leaf and container leaves.
type Pod struct {
	sys        *System
	cg         Cgroup
	pause      Cgroup // nil with PodConfig.NoPauseLeaf
	mu         sync.Mutex
	containers map[string]Cgroup
}

// path is the pod cgroup's path, <Parent>/<ID> (DefaultParent when Parent
// is empty), for a config Validate accepted.
func (c *PodConfig) path() string {
	parent := c.Parent
	if parent == "" {
		parent = DefaultParent
	}
	parent, _ = cleanPath("pod", parent)
	path, _ := child("pod", parent, c.ID)
	return path
}

// NewPod creates the pod cgroup <Parent>/<ID> with its limits and the pause
// leaf (unless cfg.NoPauseLeaf). On error nothing is left behind.
func (s *System) NewPod(cfg PodConfig) (*Pod, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	path := cfg.path()
	cg, err := s.Create(path, cfg.Resources)
	if err != nil {
		return nil, err
	}
	var pause Cgroup
	if !cfg.NoPauseLeaf {
		if pause, err = s.Create(path+"/"+PauseName, nil); err != nil {
			_ = cg.Delete(context.Background())
			return nil, err
		}
	}
	return &Pod{sys: s, cg: cg, pause: pause, containers: map[string]Cgroup{}}, nil
}

// LoadPod re-attaches to an existing pod cgroup (for example after a
// restart of the caller): the pod, its pause leaf (if it has one: Pause is
// nil otherwise) and every other leaf as a container. ErrNotExist if the
// pod cgroup is not there.
func (s *System) LoadPod(cfg PodConfig) (*Pod, error) {
	cfg.Resources = nil
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	path := cfg.path()
	cg, err := s.Open(path)
	if err != nil {
		return nil, err
	}
	pause, err := s.Open(path + "/" + PauseName)
	if errors.Is(err, ErrNotExist) {
		pause, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Pod{sys: s, cg: cg, pause: pause, containers: map[string]Cgroup{}}
	var dir string
	for _, d := range cg.Paths() {
		dir = d // every hierarchy of the pod holds the same leaves
		break
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fsErr("load", path, err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == PauseName {
			continue
		}
		c, err := s.Open(path + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		p.containers[e.Name()] = c
	}
	return p, nil
}

// Cgroup is the pod-level cgroup.
func (p *Pod) Cgroup() Cgroup { return p.cg }

// Pause is the leaf for the pause process; nil for a pod created with
// NoPauseLeaf (or loaded without one).
func (p *Pod) Pause() Cgroup { return p.pause }

// AddContainer creates the container leaf <pod>/<name>. The name PauseName
// is reserved.
func (p *Pod) AddContainer(name string, r *Resources) (Cgroup, error) {
	path, err := child("container", p.cg.Path(), name)
	if err != nil {
		return nil, err
	}
	if name == PauseName {
		return nil, &NameError{Op: "container", Name: name, Err: errors.Join(ErrInvalidName, errors.New("reserved for the pause leaf"))}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.containers[name]; dup {
		return nil, &Error{Op: "container", Path: path, Err: ErrExist}
	}
	cg, err := p.sys.Create(path, r)
	if err != nil {
		return nil, err
	}
	p.containers[name] = cg
	return cg, nil
}

// Container returns a container leaf created by AddContainer.
func (p *Pod) Container(name string) (Cgroup, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cg, ok := p.containers[name]; ok {
		return cg, nil
	}
	return nil, &Error{Op: "container", Path: p.cg.Path() + "/" + name, Err: ErrNotExist}
}

// RemoveContainer kills what runs in the container leaf and deletes it.
func (p *Pod) RemoveContainer(ctx context.Context, name string) error {
	cg, err := p.Container(name)
	if err != nil {
		return err
	}
	if err := cg.KillAll(ctx); err != nil && !errors.Is(err, ErrNotExist) {
		return err
	}
	if err := cg.Delete(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	delete(p.containers, name)
	p.mu.Unlock()
	return nil
}

// Delete removes the container leaves, the pause leaf and the pod cgroup in
// every hierarchy (known leaves first, so no directory listing is needed
// in the common case). The pod must be empty: see Destroy. Idempotent.
func (p *Pod) Delete(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var leaves []string
	if p.pause != nil {
		leaves = append(leaves, p.pause.Path())
	}
	for _, cg := range p.containers {
		leaves = append(leaves, cg.Path())
	}
	if err := p.sys.removeKnown(ctx, p.cg.Path(), leaves); err != nil {
		return err
	}
	clear(p.containers)
	return nil
}

// Destroy kills every process of the pod (pause and containers) and
// deletes it in every hierarchy. It is idempotent.
func (p *Pod) Destroy(ctx context.Context) error {
	if err := p.cg.KillAll(ctx); err != nil && !errors.Is(err, ErrNotExist) {
		return err
	}
	return p.Delete(ctx)
}
