//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/podkit/podkit/cgroup"
)

// FieldError names the field of a Config, ContainerSpec or Resources that
// failed validation. It wraps ErrInvalidConfig; the sandbox wraps it in an
// *Error naming the operation, sandbox and container.
type FieldError struct {
	Field  string // e.g. "Resources.CPUShares"
	Value  string // the offending value, formatted
	Reason string
	Err    error
}

func (e *FieldError) Error() string {
	return e.Err.Error() + ": " + e.Field + " " + e.Value + ": " + e.Reason
}

func (e *FieldError) Unwrap() error { return e.Err }

func badField(field string, v int64, reason string) error {
	return &FieldError{Field: "Resources." + field, Value: strconv.FormatInt(v, 10), Reason: reason, Err: ErrInvalidConfig}
}

// checkFields checks each field on its own. In a patch (an update) -1
// clears a field; at creation only CPUQuotaUs takes -1 (the CRI's "no
// limit").
func (r Resources) checkFields(patch bool) error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MemoryLimit", r.MemoryLimit}, {"CPURequestMilli", r.CPURequestMilli}, {"CPULimitMilli", r.CPULimitMilli},
		{"PidsLimit", r.PidsLimit}, {"CPUShares", r.CPUShares}, {"CPUQuotaUs", r.CPUQuotaUs}, {"CPUPeriodUs", r.CPUPeriodUs},
	} {
		if f.v < -1 || f.v == -1 && !patch && f.name != "CPUQuotaUs" {
			return badField(f.name, f.v, "negative")
		}
	}
	switch {
	case r.CPUShares != 0 && r.CPURequestMilli != 0:
		return badField("CPUShares", r.CPUShares, "set together with CPURequestMilli")
	case r.CPUQuotaUs != 0 && r.CPULimitMilli != 0:
		return badField("CPUQuotaUs", r.CPUQuotaUs, "set together with CPULimitMilli")
	case r.CPUShares > 0 && (r.CPUShares < cgroup.MinShares || r.CPUShares > cgroup.MaxShares):
		return badField("CPUShares", r.CPUShares, "outside 2..262144")
	case r.CPUQuotaUs > 0 && r.CPUQuotaUs < cgroup.MinQuotaUs:
		return badField("CPUQuotaUs", r.CPUQuotaUs, "below 1000 µs")
	case r.CPUPeriodUs > 0 && (r.CPUPeriodUs < 1000 || r.CPUPeriodUs > 1000000):
		return badField("CPUPeriodUs", r.CPUPeriodUs, "outside 1000..1000000 µs")
	}
	return nil
}

// cgroupCPU is the cgroup package's CPU settings for r.
func (r Resources) cgroupCPU() *cgroup.CPU {
	c := &cgroup.CPU{RequestMilli: r.CPURequestMilli, LimitMilli: r.CPULimitMilli,
		Shares: uint64(max(r.CPUShares, 0)), QuotaUs: max(r.CPUQuotaUs, 0)}
	if r.CPUPeriodUs > 0 {
		p := time.Duration(r.CPUPeriodUs) * time.Microsecond
		c.Period = &p
	}
	return c
}

// patched returns r with the non-zero fields of p applied: -1 clears a
// field, and a CPU weight or limit given in one unit replaces the other.
func (r Resources) patched(p Resources) Resources {
	set := func(dst *int64, v int64) {
		if v != 0 {
			*dst = max(v, 0)
		}
	}
	set(&r.MemoryLimit, p.MemoryLimit)
	set(&r.PidsLimit, p.PidsLimit)
	set(&r.CPUPeriodUs, p.CPUPeriodUs)
	if p.CPUShares != 0 || p.CPURequestMilli != 0 {
		r.CPUShares, r.CPURequestMilli = max(p.CPUShares, 0), max(p.CPURequestMilli, 0)
	}
	if p.CPUQuotaUs != 0 || p.CPULimitMilli != 0 {
		r.CPUQuotaUs, r.CPULimitMilli = max(p.CPUQuotaUs, 0), max(p.CPULimitMilli, 0)
	}
	return r
}

// updateWrites is what moving a cgroup from from to to writes: to's
// groups, plus an empty group (no limit) for each group from had and to
// lost. Nil when nothing is to be written.
func updateWrites(from, to Resources) *cgroup.Resources {
	w, f := to.toCgroup(), from.toCgroup()
	if w == nil {
		w = &cgroup.Resources{}
	}
	if f != nil && f.Memory != nil && w.Memory == nil {
		w.Memory = &cgroup.Memory{}
	}
	if f != nil && f.CPU != nil && w.CPU == nil {
		w.CPU = &cgroup.CPU{}
	}
	if f != nil && f.Pids != nil && w.Pids == nil {
		w.Pids = &cgroup.Pids{}
	}
	if w.Memory == nil && w.CPU == nil && w.Pids == nil {
		return nil
	}
	return w
}

// resourcesMu serialises resource updates (they are rare).
var resourcesMu sync.Mutex

// UpdateContainerResources changes the limits of a created or running
// container live (the CRI's UpdateContainerResources). r is a patch on
// the container's current Resources: zero fields keep their value, -1
// removes a limit, and a CPU weight or limit given in one unit (CRI:
// CPUShares, CPUQuotaUs; Kubernetes: CPURequestMilli, CPULimitMilli)
// replaces the same setting given earlier in the other. The result is
// validated first: bad input fails with a *FieldError (or the cgroup
// package's *ResourceError) wrapping ErrInvalidConfig, and nothing is
// changed. Should the kernel refuse a write (a memory limit below what the
// container uses and cannot reclaim), what was written is rolled back.
// The new limits are saved: ContainerStatus.Resources and List report
// them.
func (s *Sandbox) UpdateContainerResources(ctx context.Context, name string, r Resources) error {
	const op = "update resources"
	c, err := s.container(op, name)
	if err != nil {
		return err
	}
	if err := r.checkFields(true); err != nil {
		return newErr(op, s.cfg.ID, name, "", err)
	}
	if err := ctx.Err(); err != nil {
		return newErr(op, s.cfg.ID, name, "", err)
	}
	resourcesMu.Lock()
	defer resourcesMu.Unlock()
	c.mu.Lock()
	old, cg, phase := c.spec.Resources, c.cg, c.phase
	c.mu.Unlock()
	if cg == nil || phase == ContainerTerminated {
		return newErr(op, s.cfg.ID, name, "", fmt.Errorf("%w: container %s", ErrInvalidState, phase))
	}
	next := old.patched(r)
	if err := next.validate(); err != nil {
		return newErr(op, s.cfg.ID, name, "", err)
	}
	if w := updateWrites(old, next); w != nil {
		if err := cg.Update(w); err != nil {
			if back := updateWrites(next, old); back != nil {
				_ = cg.Update(back)
			}
			return newErr(op, s.cfg.ID, name, cg.Path(), err)
		}
	}
	c.mu.Lock()
	c.spec.Resources = next
	c.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return newErr(op+": state", s.cfg.ID, name, "", s.save())
}
