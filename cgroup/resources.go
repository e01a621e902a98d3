//go:build linux

package cgroup

import (
	"time"
)

// Resources are a cgroup's limits in Kubernetes terms and units. A nil
// group leaves that controller's settings untouched; a pod or container
// that sets a group needs that controller.
type Resources struct {
	Memory *Memory
	CPU    *CPU
	CPUSet *CPUSet
	Pids   *Pids
	IO     *IO
	// HugePages limits huge page usage in bytes per page size, keyed as the
	// kernel names sizes ("2MB", "1GB"); like resources.limits.hugepages-2Mi.
	HugePages map[string]int64
}

// Memory limits in bytes, like a container's resources.limits.memory and
// resources.requests.memory. Zero means unset.
type Memory struct {
	// Limit is the hard limit (v1 memory.limit_in_bytes, v2 memory.max).
	Limit int64
	// Request becomes the soft limit (v1 memory.soft_limit_in_bytes) or the
	// protection (v2 memory.low). It must not exceed Limit.
	Request int64
	// Swap is how much swap the cgroup may use on top of Limit. nil leaves
	// the kernel default; 0 forbids swap. Setting it requires Limit.
	Swap *int64
}

// CPU in millicores, like resources.requests.cpu / resources.limits.cpu
// ("500m" is 500). Zero means unset.
type CPU struct {
	// RequestMilli becomes v1 cpu.shares / v2 cpu.weight (MilliCPUToShares,
	// SharesToWeight).
	RequestMilli int64
	// LimitMilli becomes the CFS quota: LimitMilli*period/1000, at least
	// MinQuotaUs.
	LimitMilli int64
	// Period is the CFS period; nil means DefaultPeriod. It must be between
	// 1ms and 1s and a whole number of microseconds.
	Period *time.Duration
	// Shares and QuotaUs are the raw values of callers that have them
	// (the CRI passes cpu.shares and a quota in µs): when non-zero they
	// are written instead of RequestMilli's and LimitMilli's conversions,
	// which must then be zero. Shares is 2..262144 (on v2 it becomes
	// cpu.weight by SharesToWeight); QuotaUs is at least MinQuotaUs.
	Shares  uint64
	QuotaUs int64
}

// shares is the cpu.shares to write: Shares, else RequestMilli converted.
func (c *CPU) shares() uint64 {
	if c.Shares != 0 {
		return c.Shares
	}
	return MilliCPUToShares(c.RequestMilli)
}

// quotaUs is the CFS quota for period: QuotaUs, else LimitMilli converted
// (0: no limit).
func (c *CPU) quotaUs(period uint64) int64 {
	if c.QuotaUs != 0 {
		return c.QuotaUs
	}
	return MilliCPUToQuota(c.LimitMilli, period)
}

// CPUSet pins to CPUs and memory nodes, in the kernel's list format
// ("0-2,4"). Empty means inherit the parent's.
type CPUSet struct {
	CPUs string
	Mems string
}

// Pids caps the number of tasks (threads included). Max zero means unlimited.
type Pids struct {
	Max int64
}

// IO sets the proportional I/O weight on the v2 scale, 1..10000 (default
// 100). On v1 it is converted to the blkio scale.
type IO struct {
	Weight uint16
}

// Kubelet's CPU conversion constants.
const (
	MinShares     = 2
	MaxShares     = 262144
	SharesPerCPU  = 1024
	MilliCPUToCPU = 1000
	// DefaultPeriod is the default CFS period (100ms), in microseconds.
	DefaultPeriodUs = 100000
	// MinQuotaUs is the smallest quota kubelet sets (1ms).
	MinQuotaUs = 1000
	// MaxWeight and MinWeight bound v2 cpu.weight and io.weight.
	MinWeight = 1
	MaxWeight = 10000
)

// DefaultPeriod is the default CFS period.
const DefaultPeriod = DefaultPeriodUs * time.Microsecond

// MilliCPUToShares converts millicores to cpu.shares exactly as kubelet
// does: 0 gives MinShares, the result is clamped to [MinShares, MaxShares].
func MilliCPUToShares(milli int64) uint64 {
	if milli <= 0 {
		return MinShares
	}
	shares := milli * SharesPerCPU / MilliCPUToCPU
	if shares < MinShares {
		return MinShares
	}
	if shares > MaxShares {
		return MaxShares
	}
	return uint64(shares)
}

// SharesToWeight converts cpu.shares to the v2 cpu.weight the way kubelet
// and runc do: 1 + ((shares-2)*9999)/262142; 0 stays 0 (unset).
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < MinShares {
		shares = MinShares
	}
	if shares > MaxShares {
		shares = MaxShares
	}
	return 1 + ((shares-2)*9999)/262142
}

// MilliCPUToQuota converts a CPU limit to a CFS quota in microseconds for
// the given period, as kubelet does: 0 gives 0 (no limit), otherwise
// milli*period/1000 but at least MinQuotaUs.
func MilliCPUToQuota(milli int64, periodUs uint64) int64 {
	if milli <= 0 {
		return 0
	}
	q := milli * int64(periodUs) / MilliCPUToCPU
	if q < MinQuotaUs {
		q = MinQuotaUs
	}
	return q
}

// IOWeightToBlkio converts a v2 io.weight (1..10000) to the v1 blkio.weight
// scale (10..1000), the inverse of runc's blkio-to-io conversion.
func IOWeightToBlkio(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 10 + (uint64(w)-1)*990/9999
}

// periodUs returns the effective CFS period in microseconds.
func (c *CPU) periodUs() uint64 {
	if c.Period == nil {
		return DefaultPeriodUs
	}
	return uint64(*c.Period / time.Microsecond)
}

// Validate checks the values for nonsense that needs no host knowledge.
// Cpusets are checked against the parent when the cgroup is created.
func (r *Resources) Validate() error {
	if r == nil {
		return nil
	}
	if err := r.Memory.validate(); err != nil {
		return err
	}
	if err := r.CPU.validate(); err != nil {
		return err
	}
	if r.CPUSet != nil {
		if _, err := parseCPUList("CPUSet.CPUs", r.CPUSet.CPUs); err != nil {
			return err
		}
		if _, err := parseCPUList("CPUSet.Mems", r.CPUSet.Mems); err != nil {
			return err
		}
	}
	if r.Pids != nil && r.Pids.Max < 0 {
		return invalidRes("Pids.Max", r.Pids.Max, "negative")
	}
	if r.IO != nil && r.IO.Weight != 0 && r.IO.Weight > MaxWeight {
		return invalidRes("IO.Weight", r.IO.Weight, "outside 1..10000")
	}
	for size, n := range r.HugePages {
		if !validPageSize(size) {
			return invalidRes("HugePages", size, "page size must look like 2MB or 1GB")
		}
		if n < 0 {
			return invalidRes("HugePages["+size+"]", n, "negative")
		}
	}
	return nil
}

// validPageSize accepts the kernel's hugetlb size names: digits + KB/MB/GB.
func validPageSize(s string) bool {
	if len(s) < 3 {
		return false
	}
	num, unit := s[:len(s)-2], s[len(s)-2:]
	if unit != "KB" && unit != "MB" && unit != "GB" {
		return false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (m *Memory) validate() error {
	if m == nil {
		return nil
	}
	switch {
	case m.Limit < 0:
		return invalidRes("Memory.Limit", m.Limit, "negative")
	case m.Request < 0:
		return invalidRes("Memory.Request", m.Request, "negative")
	case m.Limit > 0 && m.Request > m.Limit:
		return invalidRes("Memory.Limit", m.Limit, "below request "+itoa(m.Request))
	case m.Swap != nil && *m.Swap < 0:
		return invalidRes("Memory.Swap", *m.Swap, "negative")
	case m.Swap != nil && m.Limit == 0:
		return invalidRes("Memory.Swap", *m.Swap, "swap needs a memory limit")
	}
	return nil
}

func (c *CPU) validate() error {
	if c == nil {
		return nil
	}
	switch {
	case c.RequestMilli < 0:
		return invalidRes("CPU.RequestMilli", c.RequestMilli, "negative")
	case c.LimitMilli < 0:
		return invalidRes("CPU.LimitMilli", c.LimitMilli, "negative")
	case c.LimitMilli > 0 && c.RequestMilli > c.LimitMilli:
		return invalidRes("CPU.LimitMilli", c.LimitMilli, "below request "+itoa(c.RequestMilli))
	case c.Shares != 0 && (c.Shares < MinShares || c.Shares > MaxShares):
		return invalidRes("CPU.Shares", c.Shares, "outside 2..262144")
	case c.Shares != 0 && c.RequestMilli != 0:
		return invalidRes("CPU.Shares", c.Shares, "set together with RequestMilli")
	case c.QuotaUs != 0 && c.QuotaUs < MinQuotaUs:
		return invalidRes("CPU.QuotaUs", c.QuotaUs, "below 1000 µs")
	case c.QuotaUs != 0 && c.LimitMilli != 0:
		return invalidRes("CPU.QuotaUs", c.QuotaUs, "set together with LimitMilli")
	}
	if c.Period != nil {
		p := *c.Period
		switch {
		case p == 0:
			return invalidRes("CPU.Period", p, "zero period")
		case p < time.Millisecond || p > time.Second:
			return invalidRes("CPU.Period", p, "outside 1ms..1s")
		case p%time.Microsecond != 0:
			return invalidRes("CPU.Period", p, "not a whole number of microseconds")
		}
	}
	return nil
}

// controllers returns the v2 controller names these resources need.
func (r *Resources) controllers() []string {
	var out []string
	if r == nil {
		return nil
	}
	if r.Memory != nil {
		out = append(out, "memory")
	}
	if r.CPU != nil {
		out = append(out, "cpu")
	}
	if r.CPUSet != nil {
		out = append(out, "cpuset")
	}
	if r.Pids != nil {
		out = append(out, "pids")
	}
	if r.IO != nil {
		out = append(out, "io")
	}
	if len(r.HugePages) > 0 {
		out = append(out, "hugetlb")
	}
	return out
}
