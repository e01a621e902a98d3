//go:build linux

package cgroup

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMilliCPUToShares(t *testing.T) {
	for _, tc := range []struct {
		milli int64
		want  uint64
	}{
		{0, 2}, {1, 2}, {2, 2}, {3, 3}, {100, 102}, {250, 256}, {500, 512}, {1000, 1024},
		{1500, 1536}, {256000, 262144}, {300000, 262144}, {-5, 2},
	} {
		if got := MilliCPUToShares(tc.milli); got != tc.want {
			t.Errorf("MilliCPUToShares(%d) = %d, want %d", tc.milli, got, tc.want)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct {
		shares, want uint64
	}{
		{0, 0}, {2, 1}, {1, 1}, {102, 4}, {512, 20}, {1024, 39}, {262144, 10000}, {500000, 10000},
	} {
		if got := SharesToWeight(tc.shares); got != tc.want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tc.shares, got, tc.want)
		}
	}
}

func TestMilliCPUToQuota(t *testing.T) {
	for _, tc := range []struct {
		milli  int64
		period uint64
		want   int64
	}{
		{0, 100000, 0}, {1, 100000, 1000}, {5, 100000, 1000}, {10, 100000, 1000}, {11, 100000, 1100},
		{250, 100000, 25000}, {1000, 100000, 100000}, {2500, 100000, 250000}, {500, 50000, 25000}, {20, 10000, 1000},
	} {
		if got := MilliCPUToQuota(tc.milli, tc.period); got != tc.want {
			t.Errorf("MilliCPUToQuota(%d, %d) = %d, want %d", tc.milli, tc.period, got, tc.want)
		}
	}
}

func TestIOWeightToBlkio(t *testing.T) {
	for _, tc := range []struct {
		w    uint16
		want uint64
	}{{0, 0}, {1, 10}, {100, 19}, {5000, 504}, {10000, 1000}} {
		if got := IOWeightToBlkio(tc.w); got != tc.want {
			t.Errorf("IOWeightToBlkio(%d) = %d, want %d", tc.w, got, tc.want)
		}
	}
}

func dur(d time.Duration) *time.Duration { return &d }
func i64(n int64) *int64                 { return &n }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     *Resources
		field string // "" = valid
	}{
		{"nil", nil, ""},
		{"empty", &Resources{}, ""},
		{"full", &Resources{
			Memory: &Memory{Limit: 1 << 30, Request: 1 << 29, Swap: i64(0)},
			CPU:    &CPU{RequestMilli: 250, LimitMilli: 500, Period: dur(50 * time.Millisecond)},
			CPUSet: &CPUSet{CPUs: "0-1,3", Mems: "0"},
			Pids:   &Pids{Max: 100}, IO: &IO{Weight: 500},
		}, ""},
		{"request without limit", &Resources{Memory: &Memory{Request: 100}, CPU: &CPU{RequestMilli: 100}}, ""},
		{"negative memory", &Resources{Memory: &Memory{Limit: -1}}, "Memory.Limit"},
		{"negative request", &Resources{Memory: &Memory{Request: -1}}, "Memory.Request"},
		{"memory limit below request", &Resources{Memory: &Memory{Limit: 100, Request: 200}}, "Memory.Limit"},
		{"negative swap", &Resources{Memory: &Memory{Limit: 100, Swap: i64(-1)}}, "Memory.Swap"},
		{"swap without limit", &Resources{Memory: &Memory{Swap: i64(10)}}, "Memory.Swap"},
		{"negative cpu request", &Resources{CPU: &CPU{RequestMilli: -1}}, "CPU.RequestMilli"},
		{"negative cpu limit", &Resources{CPU: &CPU{LimitMilli: -100}}, "CPU.LimitMilli"},
		{"cpu limit below request", &Resources{CPU: &CPU{RequestMilli: 500, LimitMilli: 100}}, "CPU.LimitMilli"},
		{"zero period", &Resources{CPU: &CPU{LimitMilli: 100, Period: dur(0)}}, "CPU.Period"},
		{"negative period", &Resources{CPU: &CPU{Period: dur(-time.Millisecond)}}, "CPU.Period"},
		{"tiny period", &Resources{CPU: &CPU{Period: dur(500 * time.Microsecond)}}, "CPU.Period"},
		{"huge period", &Resources{CPU: &CPU{Period: dur(2 * time.Second)}}, "CPU.Period"},
		{"fractional period", &Resources{CPU: &CPU{Period: dur(time.Millisecond + 1)}}, "CPU.Period"},
		{"raw shares and quota", &Resources{CPU: &CPU{Shares: 1023, QuotaUs: 12345}}, ""},
		{"shares too small", &Resources{CPU: &CPU{Shares: 1}}, "CPU.Shares"},
		{"shares too big", &Resources{CPU: &CPU{Shares: MaxShares + 1}}, "CPU.Shares"},
		{"shares and request", &Resources{CPU: &CPU{Shares: 512, RequestMilli: 500}}, "CPU.Shares"},
		{"tiny quota", &Resources{CPU: &CPU{QuotaUs: 999}}, "CPU.QuotaUs"},
		{"quota and limit", &Resources{CPU: &CPU{QuotaUs: 5000, LimitMilli: 50}}, "CPU.QuotaUs"},
		{"bad cpuset", &Resources{CPUSet: &CPUSet{CPUs: "0-x"}}, "CPUSet.CPUs"},
		{"reversed cpuset", &Resources{CPUSet: &CPUSet{CPUs: "3-1"}}, "CPUSet.CPUs"},
		{"negative cpuset", &Resources{CPUSet: &CPUSet{Mems: "-1"}}, "CPUSet.Mems"},
		{"negative pids", &Resources{Pids: &Pids{Max: -2}}, "Pids.Max"},
		{"io weight too big", &Resources{IO: &IO{Weight: 10001}}, "IO.Weight"},
		{"hugepages", &Resources{HugePages: map[string]int64{"2MB": 1 << 21, "1GB": 0}}, ""},
		{"hugepage size", &Resources{HugePages: map[string]int64{"2M": 1}}, "HugePages"},
		{"hugepage size path", &Resources{HugePages: map[string]int64{"../MB": 1}}, "HugePages"},
		{"negative hugepages", &Resources{HugePages: map[string]int64{"2MB": -1}}, "HugePages[2MB]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var re *ResourceError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidResources) {
				t.Fatalf("Validate = %v, want *ResourceError wrapping ErrInvalidResources", err)
			}
			if re.Field != tc.field {
				t.Fatalf("field = %q, want %q (%v)", re.Field, tc.field, err)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
	}{
		{"pod1", nil}, {"a.b-c_d", nil}, {strings.Repeat("x", 255), nil},
		{"", ErrInvalidName}, {".", ErrEscape}, {"..", ErrEscape}, {"a/b", ErrInvalidName},
		{"a\x00b", ErrInvalidName}, {strings.Repeat("x", 256), ErrInvalidName},
	} {
		err := ValidateName(tc.name)
		if tc.want == nil {
			if err != nil {
				t.Errorf("ValidateName(%q) = %v", tc.name, err)
			}
			continue
		}
		var ne *NameError
		if !errors.Is(err, tc.want) || !errors.As(err, &ne) {
			t.Errorf("ValidateName(%q) = %v, want *NameError wrapping %v", tc.name, err, tc.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"/podkit", "/podkit", nil}, {"podkit/a/", "/podkit/a", nil}, {"/podkit/pod1/app", "/podkit/pod1/app", nil},
		{"/", "", ErrInvalidName}, {"", "", ErrInvalidName}, {"/podkit/../etc", "", ErrEscape},
		{"/podkit/..", "", ErrEscape}, {"/podkit//a", "", ErrInvalidName}, {"/podkit/./a", "", ErrEscape},
	} {
		got, err := cleanPath("test", tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("cleanPath(%q) = %q, %v; want %v", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPodConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  PodConfig
		want error
	}{
		{PodConfig{ID: "p1"}, nil},
		{PodConfig{Parent: "/podkit-x/sub", ID: "p1"}, nil},
		{PodConfig{ID: ".."}, ErrEscape},
		{PodConfig{ID: "a/../../b"}, ErrInvalidName},
		{PodConfig{Parent: "/podkit/../..", ID: "p"}, ErrEscape},
		{PodConfig{ID: ""}, ErrInvalidName},
		{PodConfig{ID: "p", Resources: &Resources{Pids: &Pids{Max: -1}}}, ErrInvalidResources},
	} {
		err := tc.cfg.Validate()
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %v", tc.cfg, err, tc.want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	const hybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd,release_agent=/x
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
42 31 0:32 / /mnt/mem\040copy rw,relatime - cgroup cgroup rw,memory
`
	l := parseMountinfo(strings.NewReader(hybrid))
	if l.mode != ModeHybrid || l.unified != "/sys/fs/cgroup/unified" {
		t.Fatalf("mode %v unified %q", l.mode, l.unified)
	}
	want := map[string]string{"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
		"memory": "/sys/fs/cgroup/memory", "name=systemd": "/sys/fs/cgroup/systemd"}
	for k, v := range want {
		if l.v1[k] != v {
			t.Errorf("v1[%q] = %q, want %q", k, l.v1[k], v)
		}
	}
	if len(l.v1) != len(want) || len(l.roots) != 4 {
		t.Errorf("v1 %v roots %v", l.v1, l.roots)
	}
	u := parseMountinfo(strings.NewReader("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"))
	if u.mode != ModeUnified || len(u.v1) != 0 || u.roots[0] != "/sys/fs/cgroup" {
		t.Errorf("unified: %+v", u)
	}
	if n := parseMountinfo(strings.NewReader("1 0 8:1 / / rw - ext4 /dev/sda rw\n")); n.mode != ModeUnknown {
		t.Errorf("none: %v", n.mode)
	}
	if got := unescapeMount(`/mnt/mem\040copy`); got != "/mnt/mem copy" {
		t.Errorf("unescape = %q", got)
	}
}

func TestV2Writes(t *testing.T) {
	r := &Resources{
		Memory: &Memory{Limit: 256 << 20, Request: 128 << 20, Swap: i64(0)},
		CPU:    &CPU{RequestMilli: 250, LimitMilli: 500},
		Pids:   &Pids{Max: 0},
		IO:     &IO{},
	}
	got := map[string]string{}
	for _, kv := range v2Writes(r, false) {
		got[kv[0]] = kv[1]
	}
	want := map[string]string{
		"memory.low": "134217728", "memory.max": "268435456", "memory.swap.max": "0",
		"cpu.weight": "10", "cpu.max": "50000 100000", "pids.max": "max", "io.weight": "default 100",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestV2WritesRawCPU: raw shares and quota (CRI units) are written as
// given, shares converted to cpu.weight.
func TestV2WritesRawCPU(t *testing.T) {
	p := 50 * time.Millisecond
	got := map[string]string{}
	for _, kv := range v2Writes(&Resources{CPU: &CPU{Shares: 1023, QuotaUs: 12345, Period: &p}}, false) {
		got[kv[0]] = kv[1]
	}
	if got["cpu.weight"] != "39" || got["cpu.max"] != "12345 50000" {
		t.Fatalf("writes %v", got)
	}
}

func TestV2WritesFreshSkipsDefaults(t *testing.T) {
	for _, kv := range v2Writes(&Resources{Memory: &Memory{Limit: 1 << 20}}, true) {
		if kv[0] == "memory.low" {
			t.Fatalf("fresh cgroup got %v", kv)
		}
	}
}
