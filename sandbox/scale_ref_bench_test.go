//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// scaleRef measures, early and late in BenchmarkScale, what the same
// growth of the host costs a container alone: podkit's container cycle
// (create+start+exit+remove of a static true, the fast path) in a pod made
// for it, beside `crun run` of the same container joining that pod's
// namespaces (BenchmarkContainer's rows). crun's mount namespace starts as
// a copy of the host's mount table, which the pods' pins grow; podkit's
// starts from a base namespace of its own. Both pay the kernel's walk of
// every task on the host in pivot_root and its cgroup and sysfs work.
type scaleRef struct {
	sb           *Sandbox
	rootfs       string
	args         []string
	crun         string // "" when crun is not installed
	bundle, root string
	runs         int
}

func newScaleRef(b *testing.B, cfg Config, rootfs string) *scaleRef {
	cfg.ID, cfg.NoPause = "scale-ref", true
	sb, err := Create(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &scaleRef{sb: sb, rootfs: rootfs, args: staticTrue(b, rootfs), bundle: b.TempDir()}
	r.root = filepath.Join(r.bundle, "state")
	if r.crun, err = exec.LookPath("crun"); err != nil {
		b.Logf("crun not installed (apt-get install crun): no reference row")
		r.crun = ""
		return r
	}
	spec := ContainerSpec{Name: "ref", Rootfs: rootfs, Args: r.args}
	data, _ := json.Marshal(ociSpec(&spec, sb.Dir(), sb.Namespaces(), "/podkit-bench/scale-crun"))
	if err := os.WriteFile(filepath.Join(r.bundle, "config.json"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	return r
}

// measure returns the p50 of k podkit container cycles and of k crun runs
// (0 without crun). crun runs in a private mount namespace of the batch
// (testharness.AsReferenceRuntime hides the hybrid host's empty v2
// hierarchy from it), podkit in the manager's.
func (r *scaleRef) measure(b *testing.B, k int) (podkit, crun time.Duration) {
	ctx := context.Background()
	var pk, cr []time.Duration
	for range k {
		r.runs++
		t0 := time.Now()
		if err := r.podkitCycle(ctx, fmt.Sprintf("ref-%d", r.runs)); err != nil {
			b.Fatal(err)
		}
		pk = append(pk, time.Since(t0))
	}
	if r.crun == "" {
		return p50(pk), 0
	}
	err := testharness.AsReferenceRuntime(func() error {
		for i := range k {
			cmd := exec.Command(r.crun, "--root", r.root, "run", "--bundle", r.bundle, fmt.Sprintf("crun-%d-%d", r.runs, i))
			t0 := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("crun: %v: %s", err, out)
			}
			cr = append(cr, time.Since(t0))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return p50(pk), p50(cr)
}

func (r *scaleRef) podkitCycle(ctx context.Context, name string) error {
	spec := ContainerSpec{Name: name, Rootfs: r.rootfs, Args: r.args, StartPath: StartFast}
	if err := r.sb.CreateContainer(ctx, spec); err != nil {
		return err
	}
	if err := r.sb.StartContainer(ctx, name); err != nil {
		return err
	}
	if es, err := r.sb.Wait(ctx, name); err != nil || es.ExitCode != 0 {
		return fmt.Errorf("%s: %v, %+v", name, err, es)
	}
	return r.sb.RemoveContainer(ctx, name)
}

func (r *scaleRef) close() { _ = r.sb.Destroy(context.Background()) }
