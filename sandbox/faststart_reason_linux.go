//go:build linux

package sandbox

// Where the fast start path applies, and why not where it does not.

import (
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

var (
	procPidnsOnce sync.Once
	procPidnsErr  error
)

// procPidnsSupported checks once that procfs takes a "pidns" (Linux 6.x
// with the new mount API's procfs parameters; Debian 12's 6.1 lacks it).
func procPidnsSupported() error {
	procPidnsOnce.Do(func() {
		fd, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
		if err != nil {
			procPidnsErr = os.NewSyscallError("fsopen proc", err)
			return
		}
		defer unix.Close(fd)
		ns, err := unix.Open("/proc/self/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			procPidnsErr = err
			return
		}
		defer unix.Close(ns)
		procPidnsErr = os.NewSyscallError("fsconfig pidns", unix.FsconfigSetFd(fd, "pidns", ns))
	})
	return procPidnsErr
}

var (
	procChildOnce sync.Once
	procChildErr  error
)

// procOfNamespaceSupported says whether a /proc of a PID namespace can be
// made from outside it (mountProc): procfs's "pidns" parameter, or else a
// child forked into the namespace mounts it (cgo; fsopen, Linux 5.2, and
// close_range's CLOSE_RANGE_UNSHARE, 5.9), which is tried once here: a
// child in the manager's own namespace opens a procfs context.
func procOfNamespaceSupported() error {
	paramErr := procPidnsSupported()
	if paramErr == nil {
		return nil
	}
	procChildOnce.Do(func() { procChildErr = mountProcByChild("", 0, nil) })
	if procChildErr != nil {
		return fmt.Errorf("procfs has no pidns parameter (%v), and %w", paramErr, procChildErr)
	}
	return nil
}

// privilegedCommand says why a container whose no_new_privs is off must
// start through libcontainer: the fast path holds the first exec under
// ptrace, and a traced exec drops setuid/setgid bits and file
// capabilities, which such a container's command is entitled to.
func privilegedCommand(s *ContainerSpec) string {
	cmd, err := s.resolveCommand()
	if err != nil {
		return ""
	}
	host, err := securejoin.SecureJoin(s.Rootfs, cmd)
	if err != nil {
		return ""
	}
	if st, err := os.Stat(host); err == nil && st.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
		return "a setuid or setgid command with no_new_privs off (the fast path's traced exec would not honour it)"
	}
	if _, err := unix.Getxattr(host, "security.capability", nil); err == nil {
		return "a command with file capabilities and no_new_privs off (the fast path's traced exec would not honour them)"
	}
	return ""
}

// fastReason says why the fast path cannot start spec, or "" when it can.
// Everything it does not implement sends the container to libcontainer.
func fastReason(c *ContainerSpec, spec *specs.Spec, cfg *configs.Config) string {
	if c.StartPath == StartLibcontainer {
		return "requested (ContainerSpec.StartPath)"
	}
	if err := procOfNamespaceSupported(); err != nil {
		var u unix.Utsname
		_ = unix.Uname(&u)
		return fmt.Sprintf("kernel %s: %v: a /proc of the container's PID namespace cannot be mounted from outside it", unix.ByteSliceToString(u.Release[:]), err)
	}
	if err := Preload(); err != nil {
		return err.Error()
	}
	p, l := spec.Process, spec.Linux
	switch {
	case p == nil || l == nil || spec.Root == nil:
		return "spec without process, root or linux section"
	case l.Seccomp != nil && fastSeccomp == nil:
		return "seccomp (Linux.Seccomp) not wired into the fast path yet"
	case p.Terminal:
		return "a terminal (ContainerSpec.TTY): libcontainer's init makes it (tty_linux.go)"
	case spec.Hooks != nil:
		return "OCI hooks"
	case len(l.Sysctl) > 0:
		return "sysctls (Linux.Sysctl)"
	case p.ApparmorProfile != "" || p.SelinuxLabel != "" || l.MountLabel != "":
		return "LSM labels"
	case p.OOMScoreAdj != nil || p.Scheduler != nil || p.IOPriority != nil || l.Personality != nil || l.IntelRdt != nil:
		return "process attributes (oom_score_adj, scheduler, ioprio, personality, RDT)"
	case p.User.Umask != nil || len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0:
		return "umask or user namespace mappings"
	case spec.Hostname != "" || spec.Domainname != "":
		return "hostname of the container's own"
	case cfg.RootPropagation&unix.MS_SHARED != 0:
		return "shared rootfs propagation"
	case cfg.ParentDeathSignal != 0 && (runtime.GOARCH != "amd64" || nsjoin.ExecStopRefusedByKernel() != ""):
		// nsjoin sets the signal at the init's exec stop (ptrace, amd64):
		// Go's fork kills a child whose getppid() is not the manager, and
		// it is 0 in the container's PID namespace.
		return "DieWithParent without a ptrace exec stop (amd64, ptrace allowed): " + nsjoin.ExecStopRefusedByKernel()
	}
	ownPID, hasPID := false, false
	for _, ns := range l.Namespaces {
		switch {
		case ns.Type == specs.MountNamespace && ns.Path == "":
		case ns.Type == specs.PIDNamespace:
			ownPID, hasPID = ns.Path == "", true
		case (ns.Type == specs.NetworkNamespace || ns.Type == specs.IPCNamespace || ns.Type == specs.UTSNamespace) && ns.Path != "":
		default:
			return fmt.Sprintf("namespace %s (path %q)", ns.Type, ns.Path)
		}
	}
	if !hasPID {
		return "the host's PID namespace (Config.HostPID)"
	}
	if ownPID || l.Seccomp != nil {
		// The host's policy only: a manager traced by a debugger that
		// follows forks fails the start instead (nsjoin.ErrNoExecStop).
		if why := nsjoin.ExecStopRefusedByKernel(); why != "" {
			return "own PID namespace or seccomp needs the init held at its exec: " + why
		}
	}
	for _, m := range cfg.Mounts {
		under := strings.HasPrefix(path.Clean(m.Destination), "/proc/")
		switch {
		case !slices.Contains([]string{"bind", "proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup"}, m.Device),
			m.Device == "cgroup" && cgroups.IsCgroup2UnifiedMode():
			return fmt.Sprintf("mount type %q at %s", m.Device, m.Destination)
		case m.RecAttr != nil || m.IDMapping != nil || m.Extensions != 0:
			return "mount " + m.Destination + ": recursive attributes, ID mapping or extensions"
		case m.Device == "proc" && path.Clean(m.Destination) != "/proc":
			return "proc mounted at " + m.Destination
		case ownPID && under:
			return "mount under /proc of a container with its own PID namespace"
		}
	}
	if !p.NoNewPrivileges {
		return privilegedCommand(c)
	}
	return ""
}
