//go:build linux

package sandbox

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Propagation is a mount's propagation between the host and the container
// (the CRI's MountPropagation, Kubernetes' mountPropagation).
type Propagation string

const (
	// PropagationPrivate (rprivate): no mount propagates either way.
	PropagationPrivate Propagation = ""
	// PropagationHostToContainer (rslave): mounts made on the host below
	// the source appear in the container. The source must be on a shared
	// or slave mount.
	PropagationHostToContainer Propagation = "rslave"
	// PropagationBidirectional (rshared): as HostToContainer, and mounts
	// the container makes below the destination appear on the host. The
	// source must be on a shared mount (mount --make-shared); mounting
	// needs CAP_SYS_ADMIN, so in practice a Privileged container.
	PropagationBidirectional Propagation = "rshared"
)

// option is the OCI mount option.
func (p Propagation) option() string {
	if p == PropagationPrivate {
		return "rprivate"
	}
	return string(p)
}

// DefaultMaskedPaths and DefaultReadonlyPaths return what a container
// gets when its spec leaves MaskedPaths and ReadonlyPaths nil: containerd's
// and CRI-O's defaults.
func DefaultMaskedPaths() []string   { return slices.Clone(maskedPaths) }
func DefaultReadonlyPaths() []string { return slices.Clone(readonlyPaths) }

// capAll stands for every capability in ContainerSpec.Capabilities.
const capAll = "ALL"

// AllCapabilities lists, as "CAP_*" names, every capability this process
// holds (in its bounding and permitted sets): what a privileged container
// or Capabilities "ALL" gets, as containerd gives its own current set. A
// manager in a container of its own may lack some the kernel knows, and
// could not grant them.
var AllCapabilities = sync.OnceValue(func() []string {
	supported, err := capability.ListSupported()
	if err != nil {
		supported = capability.ListKnown()
	}
	self, err := capability.NewPid2(0)
	if err == nil {
		err = self.Load()
	}
	names := make([]string, 0, len(supported))
	for _, c := range supported {
		if err == nil && (!self.Get(capability.BOUNDING, c) || !self.Get(capability.PERMITTED, c)) {
			continue
		}
		names = append(names, "CAP_"+strings.ToUpper(c.String()))
	}
	return names
})

// validateSecurity checks the fields of this file's concern and records
// the pod's host PID and IPC namespaces in the spec for ociSpec. It reads the mount
// table (propagation of mount sources) but creates nothing.
func (s *ContainerSpec) validateSecurity(cfg *Config) error {
	s.hostPID, s.hostIPC = cfg.HostPID, cfg.HostIPC
	bad := func(field, value, reason string) error {
		return &FieldError{Field: "ContainerSpec." + field, Value: value, Reason: reason, Err: ErrInvalidConfig}
	}
	if s.Privileged {
		switch {
		case s.Capabilities != nil:
			return bad("Capabilities", fmt.Sprint(s.Capabilities), "not allowed with Privileged (it has every capability)")
		case len(s.MaskedPaths) > 0:
			return bad("MaskedPaths", fmt.Sprint(s.MaskedPaths), "not allowed with Privileged (it has none)")
		case len(s.ReadonlyPaths) > 0:
			return bad("ReadonlyPaths", fmt.Sprint(s.ReadonlyPaths), "not allowed with Privileged (it has none)")
		}
	}
	for _, c := range s.Capabilities {
		if c != capAll && capByName(c) < 0 {
			return bad("Capabilities", c, `unknown capability (want "CAP_*" names or "ALL")`)
		}
	}
	for field, ps := range map[string][]string{"MaskedPaths": s.MaskedPaths, "ReadonlyPaths": s.ReadonlyPaths} {
		for _, p := range ps {
			if !path.IsAbs(p) || strings.ContainsRune(p, 0) {
				return bad(field, p, "not an absolute path")
			}
		}
	}
	for i, m := range s.Mounts {
		field := fmt.Sprintf("Mounts[%d].Propagation", i)
		switch m.Propagation {
		case PropagationPrivate:
		case PropagationHostToContainer, PropagationBidirectional:
			if m.Volume != "" {
				return bad(field, string(m.Propagation), "a pod volume has nothing to propagate (host paths only)")
			}
			if err := checkSourcePropagation(m.Source, m.Propagation); err != nil {
				return bad(field, string(m.Propagation), err.Error())
			}
		default:
			return bad(field, string(m.Propagation), `want "" (private), "rslave" or "rshared"`)
		}
	}
	return nil
}

// capByName is the capability called name ("CAP_SYS_ADMIN"), or -1.
func capByName(name string) capability.Cap {
	for _, c := range capability.ListKnown() {
		if "CAP_"+strings.ToUpper(c.String()) == name {
			return c
		}
	}
	return -1
}

// checkSourcePropagation checks that the mount holding src can propagate
// as p asks, as containerd does: rshared needs a shared mount, rslave a
// shared or slave one. Binding a private one would propagate nothing.
func checkSourcePropagation(src string, p Propagation) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(real))
	if err != nil {
		return err
	}
	var holder *mountinfo.Info
	for _, m := range mounts { // the deepest mount point above real, the last one mounted there
		if holder == nil || len(m.Mountpoint) >= len(holder.Mountpoint) {
			holder = m
		}
	}
	if holder == nil {
		return fmt.Errorf("no mount holds %s", real)
	}
	shared := strings.Contains(holder.Optional, "shared:")
	slave := strings.Contains(holder.Optional, "master:")
	switch {
	case p == PropagationBidirectional && !shared:
		return fmt.Errorf("source %s is on mount %s, which is not shared (mount --make-shared)", src, holder.Mountpoint)
	case p == PropagationHostToContainer && !shared && !slave:
		return fmt.Errorf("source %s is on mount %s, which is neither shared nor slave", src, holder.Mountpoint)
	}
	return nil
}

// applySecurity puts the spec's security fields into the OCI spec ociSpec
// built: the host's PID and IPC namespaces (no namespace entry: the
// container stays in its creator's), capability "ALL", privileged mode,
// masked and read-only paths, each mount's propagation and the rootfs
// propagation that it needs.
func applySecurity(spec *specs.Spec, s *ContainerSpec) {
	spec.Linux.Namespaces = slices.DeleteFunc(spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return s.hostPID && n.Type == specs.PIDNamespace || s.hostIPC && n.Type == specs.IPCNamespace
	})
	for _, m := range s.Mounts {
		if m.Propagation == PropagationPrivate {
			continue
		}
		for i, om := range spec.Mounts {
			if om.Type == "bind" && om.Destination == path.Clean(m.Destination) {
				spec.Mounts[i].Options = propagationOptions(om.Options, m.Propagation)
			}
		}
	}
	caps := spec.Process.Capabilities
	if s.Privileged || slices.Contains(caps.Bounding, capAll) {
		all := AllCapabilities()
		caps.Bounding, caps.Effective, caps.Permitted = all, all, all
	}
	lx := spec.Linux
	if s.MaskedPaths != nil {
		lx.MaskedPaths = s.MaskedPaths
	}
	if s.ReadonlyPaths != nil {
		lx.ReadonlyPaths = s.ReadonlyPaths
	}
	lx.MaskedPaths, lx.ReadonlyPaths = slices.Clone(lx.MaskedPaths), slices.Clone(lx.ReadonlyPaths)
	// runc's default root propagation is rslave; containerd asks for
	// rshared (bidirectional) or rslave (host to container) explicitly.
	for _, m := range s.Mounts {
		switch {
		case m.Propagation == PropagationBidirectional:
			lx.RootfsPropagation = "rshared"
		case m.Propagation == PropagationHostToContainer && lx.RootfsPropagation != "rshared":
			lx.RootfsPropagation = "rslave"
		}
	}
	if s.Privileged {
		privileged(spec)
	}
}

// privileged turns spec into a privileged container's, as containerd's
// and CRI-O's privileged mode do: no masked or read-only paths, /sys and
// cgroup mounts writable, every host device with the device cgroup
// allowing all, no seccomp filter.
func privileged(spec *specs.Spec) {
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	for i, m := range spec.Mounts {
		if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" || m.Type == "cgroup" || m.Type == "cgroup2" {
			spec.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
		}
	}
	spec.Linux.Devices = hostDevices()
	spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	spec.Linux.Seccomp = nil
}

// propagationOptions replaces the propagation in a bind mount's options.
func propagationOptions(opts []string, p Propagation) []string {
	out := slices.DeleteFunc(slices.Clone(opts), func(o string) bool {
		switch o {
		case "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
			return true
		}
		return false
	})
	return append(out, p.option())
}

// hostNamespaces lists the kinds the pod shares with the host.
func (c Config) hostNamespaces() []string {
	var out []string
	for _, h := range []struct {
		on   bool
		kind string
	}{{c.HostNetwork, "net"}, {c.HostPID, "pid"}, {c.HostIPC, "ipc"}} {
		if h.on {
			out = append(out, h.kind)
		}
	}
	return out
}
