//go:build linux

package sandbox

import (
	"fmt"
	"path"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

func baseMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	}
}

// ociSpec translates a ContainerSpec into an OCI runtime spec joining the
// sandbox's pinned namespaces. The same document is what runc/crun would
// get in config.json, which keeps the benchmark comparison honest.
func ociSpec(s *ContainerSpec, sbDir string, pins map[string]string, cgroupsPath string) *specs.Spec {
	caps := DefaultCapabilities
	if s.Capabilities != nil {
		caps = s.Capabilities
	}
	mounts := baseMounts()
	for _, f := range etcFiles {
		mounts = append(mounts, specs.Mount{
			Destination: "/etc/" + f, Type: "bind", Source: filepath.Join(sbDir, "etc", f),
			Options: []string{"rbind", "rprivate", "ro"},
		})
	}
	for i, m := range s.Mounts {
		src := s.plan.source(i, m, sbDir) // subPath (mountplan_linux.go)
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		mounts = append(mounts, specs.Mount{Destination: path.Clean(m.Destination), Type: "bind", Source: src, Options: opts})
	}
	mounts = s.plan.overlays(podMounts(mounts, sbDir, cgroupsPath, s.hostIPC)) // pod shm, cgroup, mount points (podmounts_linux.go)
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	for _, k := range []string{"net", "ipc", "uts"} {
		if k == "net" && pins[k] == "" {
			continue // HostNetwork: the host's network namespace
		}
		ns = append(ns, specs.LinuxNamespace{Type: ociNS[k], Path: pins[k]})
	}
	ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: pins["pid"]})
	// Limits live in the container's cgroup leaf, which podkit's cgroup
	// package creates before libcontainer joins it; libcontainer only gets
	// the device rules (deny all; its defaults then allow the standard
	// nodes of /dev).
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	spec := &specs.Spec{
		Version: "1.0.2", // the newest crun 1.8 (Debian 12) accepts
		Root:    &specs.Root{Path: s.plan.root(s.Rootfs), Readonly: s.ReadOnlyRootfs},
		Process: &specs.Process{
			Args: s.Args, Env: s.env(), Cwd: s.cwd(), Terminal: s.TTY,
			User:            specs.User{UID: s.UID, GID: s.GID, AdditionalGids: s.AdditionalGIDs},
			NoNewPrivileges: !s.AllowNewPrivileges,
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Mounts: mounts,
		Linux: &specs.Linux{
			CgroupsPath:   cgroupsPath,
			Namespaces:    ns,
			Resources:     res,
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
			Seccomp:       s.seccomp, // ContainerSpec.Seccomp, resolved by validate
		},
	}
	applySecurity(spec, s) // security_linux.go: host namespaces, privileged, masks, propagation
	return spec
}

var ociNS = map[string]specs.LinuxNamespaceType{
	"net": specs.NetworkNamespace, "ipc": specs.IPCNamespace, "uts": specs.UTSNamespace, "pid": specs.PIDNamespace,
}

// libcontainerConfig converts the OCI spec to libcontainer's config.
// specconv leaves the process's rlimits to the caller (runc sets them
// per process): podkit's are in the config, for the init and every exec.
func libcontainerConfig(spec *specs.Spec, name string) (*configs.Config, error) {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: name, Spec: spec})
	if err != nil {
		return nil, err
	}
	for _, r := range spec.Process.Rlimits {
		typ, ok := rlimitTypes[r.Type]
		if !ok {
			return nil, fmt.Errorf("%w: unknown rlimit %q", ErrInvalidConfig, r.Type)
		}
		cfg.Rlimits = append(cfg.Rlimits, configs.Rlimit{Type: typ, Hard: r.Hard, Soft: r.Soft})
	}
	return cfg, nil
}

var rlimitTypes = map[string]int{
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
}
