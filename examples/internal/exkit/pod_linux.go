//go:build linux

package exkit

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/podkit/podkit/examples/internal/hostroot"
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

// Flags say where an example's pod lives.
type Flags struct {
	RunDir       string
	CgroupParent string
}

// ParseFlags parses the flags every small example accepts.
func ParseFlags(name string, args []string, stderr io.Writer) (Flags, error) {
	var f Flags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.RunDir, "run-dir", sandbox.DefaultRunDir, "sandbox state directory")
	fs.StringVar(&f.CgroupParent, "cgroup-parent", sandbox.DefaultCgroupParent, "parent cgroup of the pod cgroup")
	return f, fs.Parse(args)
}

// TmpVolume is the memory volume every host-root container of an example
// pod gets at /tmp.
const TmpVolume = "tmp"

// Pod is a sandbox plus the host-root skeleton of its containers, and
// the kubelet policy running them once Run is called.
type Pod struct {
	SB      *sandbox.Sandbox
	Kubelet *kubelet.Pod // set by Run
	root    *hostroot.Root
}

// Run runs spec in the pod's sandbox with the kubelet's policy (init
// containers, restart policies; see examples/kubelet) and returns once
// the app containers are started.
func (p *Pod) Run(ctx context.Context, spec kubelet.PodSpec) error {
	p.Kubelet = kubelet.New(p.SB, spec)
	return p.Kubelet.Run(ctx)
}

// Status is the kubelet's view of the pod (Run must have been called).
func (p *Pod) Status() kubelet.Status { return p.Kubelet.Status() }

// Containers wraps sandbox container specs for a kubelet PodSpec.
func Containers(specs ...sandbox.ContainerSpec) []kubelet.Container {
	out := make([]kubelet.Container, len(specs))
	for i, s := range specs {
		out[i] = kubelet.Container{ContainerSpec: s}
	}
	return out
}

// NewPod creates the sandbox described by cfg (RunDir, CgroupParent and
// PauseBinary come from f and FindPause) with a /tmp memory volume.
func NewPod(ctx context.Context, f Flags, cfg sandbox.Config, stderr io.Writer) (_ *Pod, err error) {
	cfg.RunDir, cfg.CgroupParent, cfg.DieWithParent = f.RunDir, f.CgroupParent, true
	cfg.Volumes = append(cfg.Volumes, sandbox.Volume{Name: TmpVolume, Medium: sandbox.MediumMemory, SizeLimit: 64 << 20})
	if cfg.PauseBinary, err = FindPause(stderr); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.RunDir, cfg.ID+".hostroot")
	_ = os.RemoveAll(dir) // leftover of a killed run: plain directories only
	root, err := hostroot.Prepare(dir)
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.Create(ctx, cfg)
	if err != nil {
		_ = root.Remove()
		return nil, err
	}
	return &Pod{SB: sb, root: root}, nil
}

// Host returns a container spec running args with the host's programs,
// read-only, and the pod's /tmp volume.
func (p *Pod) Host(name string, args ...string) (sandbox.ContainerSpec, error) {
	spec := sandbox.ContainerSpec{Name: name, Args: args, Rootfs: p.root.Dir, ReadOnlyRootfs: true}
	if _, err := p.root.AddCommand(args[0], nil, ""); err != nil {
		return spec, err
	}
	ms, err := p.root.Mounts(p.SB.Dir())
	if err != nil {
		return spec, err
	}
	spec.Mounts = append(ms, sandbox.Mount{Destination: "/tmp", Volume: TmpVolume})
	return spec, nil
}

// Log returns what a container wrote to stdout and stderr so far.
func (p *Pod) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.SB.Dir(), "logs", name+".log"))
	return string(b)
}

// WaitExit waits (at most a minute) for a container's current run to end.
func (p *Pod) WaitExit(ctx context.Context, name string) (*sandbox.ExitStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return p.SB.Wait(ctx, name)
}

// Close stops the pod (2s grace; preStop hooks run when Run was used) and
// removes everything.
func (p *Pod) Close() error {
	ctx := context.Background()
	if p.Kubelet != nil {
		_ = p.Kubelet.Stop(ctx, 2*time.Second)
	} else {
		_ = p.SB.Stop(ctx, 2*time.Second)
	}
	err := p.SB.Destroy(ctx)
	if rerr := p.root.Remove(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}
