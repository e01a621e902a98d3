//go:build linux

package sandbox

import (
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"strings"
)

// MaxIDLen is the longest sandbox ID or container name accepted.
const MaxIDLen = 64

// Defaults used when Config fields are zero.
const (
	DefaultRunDir       = "/run/podkit"
	DefaultCgroupParent = "podkit"
)

// Config describes a sandbox. It is validated by Create before anything is
// created on the host.
type Config struct {
	// ID names the sandbox; it becomes a directory and cgroup name, so it
	// must be 1..MaxIDLen characters of [A-Za-z0-9_.-], starting with a
	// letter or digit.
	ID string
	// Hostname of the pod (its UTS namespace). Defaults to ID.
	Hostname string
	// SharePID puts every container in the pod's PID namespace, with the
	// pause process as PID 1 reaping orphans (Kubernetes'
	// shareProcessNamespace). Net, IPC and UTS are always shared.
	SharePID bool
	// NoPause pins fresh namespaces without any process (CRI-O style).
	// Not allowed together with SharePID.
	NoPause bool
	// PauseBinary is the podkit-pause executable; empty means pause.Find().
	PauseBinary string
	// Sysctls are namespaced sysctls applied in the pod: net.* and the IPC
	// ones (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).
	Sysctls map[string]string
	// Resources are pod-level cgroup limits.
	Resources Resources
	// CgroupParent is the cgroup path (in every hierarchy) under which the
	// pod cgroup <CgroupParent>/<ID> is created. Default DefaultCgroupParent.
	// Missing directories of it are made; Destroy removes those left empty,
	// the last pod to leave a parent removing it, unless KeepCgroupParent.
	CgroupParent string
	// KeepCgroupParent: CgroupParent belongs to someone else, who made it
	// and removes it (a kubelet's pod cgroup under its QoS cgroups, whose
	// limits a re-made directory would not have): Destroy removes only the
	// pod cgroup.
	KeepCgroupParent bool
	// RunDir holds one directory per sandbox (state, pins, logs, volumes,
	// libcontainer state). Default DefaultRunDir.
	RunDir string
	// DNS and HostAliases feed the generated /etc/resolv.conf and /etc/hosts.
	DNS         DNSConfig
	HostAliases []HostAlias
	// Volumes are pod-level volumes containers can mount by name.
	Volumes []Volume
	// DieWithParent kills the pause (and with it a shared PID namespace)
	// and every container's init with a parent-death signal when the
	// manager's process dies. Pinned namespaces, cgroups and files stay
	// (Lifetime DieWithManager removes them).
	DieWithParent bool
	// Lifetime says what becomes of the pod when the managing process
	// dies without destroying it: OutliveManager (the zero value) keeps
	// it running for a later Load; DieWithManager has the manager's guard
	// process destroy it completely. DieWithParent is the kernel's
	// narrower guarantee (the pause only) and may be combined with either.
	Lifetime Lifetime
	// Labels and Annotations are the caller's metadata (the CRI's pod
	// sandbox labels and annotations): kept in the state file and returned
	// by Status, Load and List; podkit does not interpret them.
	Labels      map[string]string
	Annotations map[string]string
	// Network gives the pod its addresses (Attach after the namespaces are
	// set up, Detach on Destroy); nil: loopback only. Not saved: Load and
	// Reconcile take it back through LoadOptions.
	Network Network `json:"-"`
	// HostNetwork (Kubernetes' hostNetwork) leaves the pod in the host's
	// network namespace: none is created or pinned, loopback is not
	// touched, net.* sysctls and Network are refused. The pod keeps its own
	// UTS namespace (hostname) and IPC namespace.
	HostNetwork bool `json:",omitempty"`
	// HostPID (Kubernetes' hostPID) runs the pause, containers and Exec in
	// the host's PID namespace: none is created or pinned, and the pause is
	// no PID 1 (see "Host namespaces" in the package doc). Not allowed
	// with SharePID.
	HostPID bool `json:",omitempty"`
	// HostIPC (Kubernetes' hostIPC) leaves the pod in the host's IPC
	// namespace: none is created or pinned, and the IPC sysctls
	// (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) are refused.
	HostIPC bool `json:",omitempty"`
}

// Resources are cgroup limits in Kubernetes terms and units; zero values
// mean unlimited/default. They become the pod's or container's cgroup
// settings through the podkit cgroup package, with kubelet's conversions
// (requests.cpu -> cpu.shares / cpu.weight, limits.cpu -> CFS quota).
type Resources struct {
	MemoryLimit     int64 // bytes (limits.memory)
	CPURequestMilli int64 // millicores (requests.cpu)
	CPULimitMilli   int64 // millicores (limits.cpu)
	PidsLimit       int64 // maximum number of tasks
	// The CRI's units (LinuxContainerResources), written as given: each
	// replaces the millicore field beside it, which must then be zero.
	CPUShares   int64 // cpu.shares 2..262144 (v2: cpu.weight), for CPURequestMilli
	CPUQuotaUs  int64 // CFS quota in µs, >= 1000 (-1: no limit), for CPULimitMilli
	CPUPeriodUs int64 // CFS period in µs, 1000..1000000; 0: 100000
}

// validate rejects negative limits and what the cgroup package refuses
// (for example a CPU limit below its 1 ms-per-period floor is raised, not
// refused; an impossible one is refused).
func (r Resources) validate() error {
	if err := r.checkFields(false); err != nil {
		return err
	}
	if err := r.toCgroup().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// DNSConfig is written to the pod's /etc/resolv.conf.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// HostAlias adds lines to the pod's /etc/hosts.
type HostAlias struct {
	IP        string
	Hostnames []string
}

// VolumeMedium selects where a pod volume lives.
type VolumeMedium string

const (
	// MediumDisk is a directory under the sandbox run dir (emptyDir).
	MediumDisk VolumeMedium = ""
	// MediumMemory is a tmpfs (emptyDir with medium: Memory).
	MediumMemory VolumeMedium = "Memory"
)

// Volume is a pod-level volume shared by the containers that mount it.
type Volume struct {
	Name      string
	Medium    VolumeMedium
	SizeLimit int64 // tmpfs size in bytes (MediumMemory only)
	// FSGroup (Kubernetes' pod fsGroup) makes the volume's files group
	// FSGroup, group-writable, directories setgid (SetVolumeOwnership),
	// when it is made. FSGroupChangePolicy: "" or FSGroupAlways,
	// FSGroupOnRootMismatch.
	FSGroup             *uint32             `json:",omitempty"`
	FSGroupChangePolicy FSGroupChangePolicy `json:",omitempty"`
}

// No regexp here: package initialisation also runs in every container's
// libcontainer bootstrap, so it is kept free of work.

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && !(i > 0 && (c == '_' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

// ValidateID checks a sandbox ID or container name.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d characters, max %d", ErrInvalidID, len(id), MaxIDLen)
	case !validIDChars(id) || strings.Contains(id, ".."):
		return fmt.Errorf("%w: %q (allowed: [A-Za-z0-9_.-], starting alphanumeric)", ErrInvalidID, id)
	}
	return nil
}

func validSysctl(k string) bool {
	parts := strings.Split(k, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; !isAlnum(c) && c != '_' && c != '-' {
				return false
			}
		}
	}
	if strings.HasPrefix(k, "net.") {
		return true
	}
	switch {
	case k == "kernel.sem", strings.HasPrefix(k, "kernel.shm"), strings.HasPrefix(k, "kernel.msg"),
		strings.HasPrefix(k, "fs.mqueue."): // the IPC namespace's, as Kubernetes counts them
		return true
	}
	return false
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Hostname == "" {
		c.Hostname = c.ID
	}
	if c.RunDir == "" {
		c.RunDir = DefaultRunDir
	}
	if c.CgroupParent == "" {
		c.CgroupParent = DefaultCgroupParent
	}
	c.Labels, c.Annotations = maps.Clone(c.Labels), maps.Clone(c.Annotations)
	return c
}

// Validate checks the configuration without touching the host.
func (c Config) Validate() error {
	if err := ValidateID(c.ID); err != nil {
		return newErr("validate", c.ID, "", "", err)
	}
	bad := func(format string, a ...any) error {
		return newErr("validate", c.ID, "", "", fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	}
	c = c.withDefaults()
	if len(c.Hostname) > 64 || strings.ContainsAny(c.Hostname, "/\x00 ") {
		return bad("hostname %q", c.Hostname)
	}
	if !c.Lifetime.valid() {
		return bad("Lifetime %q (want %q or %q)", c.Lifetime, OutliveManager, DieWithManager)
	}
	if c.SharePID && c.NoPause {
		return bad("SharePID needs a pause process (NoPause set)")
	}
	if c.SharePID && c.HostPID {
		return bad("Config.SharePID: not allowed with Config.HostPID (the pod has no PID namespace of its own)")
	}
	if err := c.Resources.validate(); err != nil {
		return newErr("validate", c.ID, "", "", err)
	}
	if !c.NoPause && c.PauseBinary != "" && !filepath.IsAbs(c.PauseBinary) {
		return bad("PauseBinary must be an absolute path, got %q", c.PauseBinary)
	}
	if !filepath.IsAbs(c.RunDir) {
		return bad("RunDir must be absolute")
	}
	for _, p := range strings.Split(c.CgroupParent, "/") {
		if p == ".." || strings.ContainsRune(p, 0) {
			return bad("CgroupParent %q", c.CgroupParent)
		}
	}
	if err := validateMeta(c.Labels, c.Annotations); err != nil {
		return newErr("validate", c.ID, "", "", err)
	}
	for k := range c.Sysctls {
		if !validSysctl(k) {
			return bad("sysctl %q is not namespaced (net.* or IPC kernel.*)", k)
		}
		if c.HostNetwork && strings.HasPrefix(k, "net.") {
			return bad("Config.Sysctls: %q would change the host's network namespace (Config.HostNetwork)", k)
		}
		if c.HostIPC && !strings.HasPrefix(k, "net.") {
			return bad("Config.Sysctls: %q would change the host's IPC namespace (Config.HostIPC)", k)
		}
	}
	if c.HostNetwork && c.Network != nil {
		return bad("Config.Network: not allowed with Config.HostNetwork")
	}
	for _, s := range c.DNS.Servers {
		if net.ParseIP(s) == nil {
			return bad("DNS server %q", s)
		}
	}
	for _, h := range c.HostAliases {
		if net.ParseIP(h.IP) == nil {
			return bad("host alias IP %q", h.IP)
		}
	}
	seen := map[string]bool{}
	for _, v := range c.Volumes {
		if err := ValidateID(v.Name); err != nil {
			return bad("volume: %v", err)
		}
		if seen[v.Name] {
			return bad("duplicate volume %q", v.Name)
		}
		if !v.FSGroupChangePolicy.valid() {
			return bad("volume %s: FSGroupChangePolicy %q", v.Name, v.FSGroupChangePolicy)
		}
		seen[v.Name] = true
	}
	return nil
}
