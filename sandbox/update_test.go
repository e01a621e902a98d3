//go:build linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/internal/testharness"
)

// cgLimits are a container leaf's limits as the kernel reports them, in
// v1 terms (on v2 the weight is reported as the shares it came from
// cannot be, so both are kept).
type cgLimits struct {
	Memory        string // bytes, or "max"
	Weight        string // v1 cpu.shares, v2 cpu.weight
	Quota, Period string // µs; quota "max" when unlimited
	Pids          string // number, or "max"
}

func readLimits(t *testing.T, sb *Sandbox, name string) cgLimits {
	t.Helper()
	c, err := sb.container("test", name)
	if err != nil {
		t.Fatal(err)
	}
	paths := c.leaf().Paths()
	read := func(dir, file string) string {
		b, err := os.ReadFile(dir + "/" + file)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if d, ok := paths[""]; ok { // v2
		cpuMax := strings.Fields(read(d, "cpu.max"))
		return cgLimits{Memory: read(d, "memory.max"), Weight: read(d, "cpu.weight"), Quota: cpuMax[0], Period: cpuMax[1], Pids: read(d, "pids.max")}
	}
	l := cgLimits{Memory: read(paths["memory"], "memory.limit_in_bytes"), Weight: read(paths["cpu"], "cpu.shares"),
		Quota: read(paths["cpu"], "cpu.cfs_quota_us"), Period: read(paths["cpu"], "cpu.cfs_period_us"), Pids: read(paths["pids"], "pids.max")}
	if n, _ := strconv.ParseUint(l.Memory, 10, 64); n >= 1<<62 {
		l.Memory = "max"
	}
	if l.Quota == "-1" {
		l.Quota = "max"
	}
	return l
}

// weight is what the kernel shows for cpu.shares on this host's version.
func weight(t *testing.T, shares uint64) string {
	sys, err := cgroupSystem()
	if err != nil {
		t.Fatal(err)
	}
	if sys.Mode() == cgroup.ModeUnified {
		return strconv.FormatUint(cgroup.SharesToWeight(shares), 10)
	}
	return strconv.FormatUint(shares, 10)
}

func TestUpdateContainerResources(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "update"))
	app := ctr(rootfs, "app", "sleep")
	app.Resources = Resources{MemoryLimit: 64 << 20, CPURequestMilli: 250, CPULimitMilli: 500, PidsLimit: 50}
	run(t, sb, app)
	ctx := context.Background()
	check := func(step string, want cgLimits) {
		t.Helper()
		if got := readLimits(t, sb, "app"); got != want {
			t.Fatalf("%s: cgroup has %+v, want %+v", step, got, want)
		}
	}
	want := cgLimits{Memory: "67108864", Weight: weight(t, 256), Quota: "50000", Period: "100000", Pids: "50"}
	check("created", want)

	// The CRI's units, written as given (1023 shares and a 12345 µs quota
	// have no exact millicore equivalent); the pids limit is kept.
	cri := Resources{CPUShares: 1023, CPUQuotaUs: 12345, CPUPeriodUs: 50000, MemoryLimit: 128 << 20}
	if err := sb.UpdateContainerResources(ctx, "app", cri); err != nil {
		t.Fatal(err)
	}
	want = cgLimits{Memory: "134217728", Weight: weight(t, 1023), Quota: "12345", Period: "50000", Pids: "50"}
	check("CRI units", want)

	// Kubernetes units: a limit in millicores over the kept period.
	if err := sb.UpdateContainerResources(ctx, "app", Resources{CPULimitMilli: 1500, PidsLimit: 100}); err != nil {
		t.Fatal(err)
	}
	want.Quota, want.Pids = "75000", "100"
	check("Kubernetes units", want)

	// Bad input names the field and changes nothing.
	for _, tc := range []struct {
		r     Resources
		field string
	}{
		{Resources{CPUShares: 1}, "Resources.CPUShares"},
		{Resources{CPUShares: 512, CPURequestMilli: 500}, "Resources.CPUShares"},
		{Resources{CPUQuotaUs: 10}, "Resources.CPUQuotaUs"},
		{Resources{CPUQuotaUs: 5000, CPULimitMilli: 50}, "Resources.CPUQuotaUs"},
		{Resources{CPUPeriodUs: 100}, "Resources.CPUPeriodUs"},
		{Resources{MemoryLimit: -5}, "Resources.MemoryLimit"},
		{Resources{PidsLimit: -2, MemoryLimit: 1 << 30}, "Resources.PidsLimit"},
	} {
		err := sb.UpdateContainerResources(ctx, "app", tc.r)
		var fe *FieldError
		var se *Error
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &se) || se.Container != "app" {
			t.Fatalf("%+v: %v, want a *FieldError naming %s", tc.r, err, tc.field)
		}
		check("after bad "+tc.field, want)
	}
	// A request above the limit is refused by the cgroup package's checks.
	var re *cgroup.ResourceError
	if err := sb.UpdateContainerResources(ctx, "app", Resources{CPURequestMilli: 2000}); !errors.As(err, &re) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("request above limit: %v", err)
	}
	check("after request above limit", want)

	// -1 removes limits.
	if err := sb.UpdateContainerResources(ctx, "app", Resources{MemoryLimit: -1, CPUQuotaUs: -1, PidsLimit: -1}); err != nil {
		t.Fatal(err)
	}
	want.Memory, want.Quota, want.Pids = "max", "max", "max"
	check("limits removed", want)
	wantRes := Resources{CPUShares: 1023, CPUPeriodUs: 50000}
	if got := statusOf(sb, "app").Resources; got != wantRes {
		t.Fatalf("status resources %+v, want %+v", got, wantRes)
	}
	infos, err := List(sb.Config().RunDir)
	if err != nil || infoContainer(infos[0], "app").Resources != wantRes {
		t.Fatalf("saved resources: %v %+v", err, infos)
	}
	if err := sb.UpdateContainerResources(ctx, "nope", Resources{PidsLimit: 10}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing container: %v", err)
	}
	run(t, sb, ctr(rootfs, "done", "true"))
	waitExit(t, sb, "done")
	if err := sb.UpdateContainerResources(ctx, "done", Resources{PidsLimit: 10}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("exited container: %v", err)
	}
}
