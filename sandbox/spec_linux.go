//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/cgroup"
	"github.com/podkit/podkit/nsjoin/seccomp"
)

// ContainerSpec describes one container.
//
// The root filesystem is a directory (Rootfs) prepared by the caller, for
// example an unpacked image; podkit does not offer a host-root mode. Inside
// it the container gets private /proc, /dev (tmpfs with the default device
// nodes), /dev/pts, /dev/mqueue and a read-only /sys, the pod's /dev/shm,
// its own cgroup read-only at /sys/fs/cgroup, plus the pod's generated
// /etc/hosts, /etc/hostname and /etc/resolv.conf.
type ContainerSpec struct {
	Name string   // path-safe, unique in the pod
	Args []string // Args[0] is looked up in Rootfs (absolute, or via PATH in Env)
	Env  []string
	Cwd  string // default "/"
	UID  uint32
	GID  uint32
	// AdditionalGIDs are supplementary groups.
	AdditionalGIDs []uint32
	Rootfs         string // absolute host path of the root directory
	ReadOnlyRootfs bool
	Mounts         []Mount
	Resources      Resources
	// Capabilities replaces the default set (DefaultCapabilities) when
	// non-nil. An empty non-nil slice drops all capabilities; "ALL" stands
	// for every capability the kernel knows (the CRI's add ALL).
	Capabilities []string
	// Privileged gives the container what container runtimes give a
	// privileged one: every capability, every device of the host's /dev
	// (and the device cgroup allowing all), no masked or read-only paths,
	// /sys and a cgroup mount without "ro" (see the package doc on the
	// sysfs superblock), no seccomp filter. Capabilities,
	// MaskedPaths and ReadonlyPaths must then be unset.
	Privileged bool `json:",omitempty"`
	// the pod's Config.HostPID and HostIPC, set by validate for ociSpec
	hostPID, hostIPC bool
	// MaskedPaths and ReadonlyPaths replace the runtime's defaults
	// (DefaultMaskedPaths, DefaultReadonlyPaths) when non-nil: masked
	// paths are hidden (/dev/null over a file, an empty read-only tmpfs
	// over a directory), read-only ones bind-mounted read-only. An empty
	// non-nil slice means none.
	MaskedPaths   []string `json:",omitempty"`
	ReadonlyPaths []string `json:",omitempty"`
	// AllowNewPrivileges turns no_new_privs off (it is on by default).
	AllowNewPrivileges bool
	// Attempt is the caller's count of earlier runs of this container
	// (the CRI's ContainerMetadata.Attempt; a kubelet passes its restart
	// count). The sandbox only reports it (Status, ContainerStarted) and
	// saves it.
	Attempt int
	// Stdout and Stderr, when set, receive the container's output instead
	// of the log file <sandbox dir>/logs/<name>.log (which gets both
	// streams). The caller keeps ownership: every run of the container
	// (restarts included) gets a duplicate, so a pipe or file may be
	// shared across runs. Use pipes to tell the streams apart, as a CRI
	// log writer needs to. They are not saved: after Load, containers
	// started again write to the log file.
	Stdout *os.File `json:"-"`
	Stderr *os.File `json:"-"`
	// Stdin keeps the container's standard input open as a pipe that
	// AttachStdin writes into (else it is /dev/null). With StdinOnce it is
	// closed (EOF) when the first attach ends, as the CRI's stdin_once.
	Stdin     bool
	StdinOnce bool
	// TTY gives the container a terminal of its own (its stdio and
	// controlling terminal), held by the manager: its output goes to the
	// log file as one stream (stdout), Stdin to the terminal through
	// AttachContainer, and ResizeContainerTTY sets its size. Not with
	// Stdout and Stderr.
	TTY bool
	// LogPath is where the log file goes (absolute; its directory is
	// created if needed), default <sandbox dir>/logs/<name>.log. The
	// output reaches it through a pipe, so that ReopenContainerLog can
	// switch to a new file after the old one was renamed (rotated).
	LogPath string
	// LogFormat is LogRaw (the default: the output as written, both
	// streams in one pipe) or LogCRI (each line stamped, as kubelet reads
	// container logs).
	LogFormat LogFormat
	// Labels and Annotations are the caller's metadata (the CRI's
	// container labels and annotations), kept in the state file and
	// returned by Status, Load and List.
	Labels      map[string]string
	Annotations map[string]string
	// Seccomp is the container's seccomp profile, for its init and every
	// Exec: Unconfined (the zero value, as in Kubernetes), RuntimeDefault
	// or a Localhost file, resolved against the container's capabilities
	// when it is created (see the package doc, Seccomp).
	Seccomp seccomp.Profile `json:",omitzero"`

	seccomp *specs.LinuxSeccomp // Seccomp resolved by validate, for ociSpec

	plan *mountPlan // the host side of Mounts for one create (mountplan_linux.go)

	// StartPath chooses how the process is started: the fast path (""
	// or StartFast, the default; libcontainer where it does not apply)
	// or StartLibcontainer. See ContainerStatus.StartPathReason.
	StartPath StartPath `json:",omitempty"`
}

// Mount is a bind mount of a host path or a pod volume.
type Mount struct {
	Destination string // absolute path in the container
	Source      string // absolute host path (exclusive with Volume)
	Volume      string // name of a Config.Volumes entry
	ReadOnly    bool
	// Propagation of mounts between the host and the container below
	// Destination: PropagationPrivate (the zero value), HostToContainer or
	// Bidirectional (see Propagation).
	Propagation Propagation `json:",omitempty"`
	// SubPath mounts this path inside the volume (or Source) instead of
	// its root, as Kubernetes' subPath: relative, without "..", resolved
	// at create beneath the volume (a symlink leading out of it is an
	// error) and created as a directory if missing.
	SubPath string `json:",omitempty"`
}

// DefaultCapabilities is the container-runtime default capability set
// (the one containerd and CRI-O give unprivileged containers).
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Validate checks the spec against a sandbox configuration as
// CreateContainer does, creating nothing: a caller can check a whole pod
// before it creates any of its containers.
func (s ContainerSpec) Validate(cfg Config) error {
	cfg = cfg.withDefaults()
	return s.validate(&cfg)
}

// validate checks the spec against the sandbox configuration. It reads the
// rootfs (to find the command) but creates nothing.
func (s *ContainerSpec) validate(cfg *Config) error {
	bad := func(sentinel error, format string, a ...any) error {
		return newErr("validate", cfg.ID, s.Name, "", fmt.Errorf("%w: "+format, append([]any{sentinel}, a...)...))
	}
	if err := ValidateID(s.Name); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	if s.Name == cgroup.PauseName {
		return bad(ErrInvalidConfig, "container name %q is reserved for the pause's cgroup leaf", s.Name)
	}
	if len(s.Args) == 0 || s.Args[0] == "" {
		return bad(ErrInvalidConfig, "no command")
	}
	if err := s.Resources.validate(); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	if err := validateMeta(s.Labels, s.Annotations); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	if s.LogPath != "" && (!filepath.IsAbs(s.LogPath) || strings.ContainsRune(s.LogPath, 0)) {
		return bad(ErrInvalidConfig, "log path %q is not absolute", s.LogPath)
	}
	if s.TTY && (s.Stdout != nil || s.Stderr != nil) {
		return bad(ErrInvalidConfig, "a TTY container writes to its terminal, not to Stdout and Stderr")
	}
	if s.LogFormat != LogRaw && s.LogFormat != LogCRI {
		return bad(ErrInvalidConfig, "log format %q", s.LogFormat)
	}
	if !filepath.IsAbs(s.Rootfs) {
		return bad(ErrRootfs, "rootfs %q is not absolute", s.Rootfs)
	}
	if st, err := os.Stat(s.Rootfs); err != nil || !st.IsDir() {
		return newErr("validate", cfg.ID, s.Name, s.Rootfs, fmt.Errorf("%w: not a directory", ErrRootfs))
	}
	if s.Cwd != "" && !path.IsAbs(s.Cwd) {
		return bad(ErrInvalidConfig, "cwd %q is not absolute", s.Cwd)
	}
	if !s.StartPath.valid() {
		return bad(ErrInvalidConfig, "start path %q", s.StartPath)
	}
	if s.Attempt < 0 {
		return bad(ErrInvalidConfig, "negative attempt %d", s.Attempt)
	}
	vols := map[string]bool{}
	for _, v := range cfg.Volumes {
		vols[v.Name] = true
	}
	for i, m := range s.Mounts {
		if err := checkSubPath(i, m.SubPath); err != nil {
			return newErr("validate", cfg.ID, s.Name, "", err)
		}
		if !path.IsAbs(m.Destination) || strings.Contains(m.Destination, "\x00") {
			return bad(ErrInvalidConfig, "mount destination %q", m.Destination)
		}
		switch {
		case m.Volume != "" && m.Source != "":
			return bad(ErrInvalidConfig, "mount %s: both Source and Volume", m.Destination)
		case m.Volume != "" && !vols[m.Volume]:
			return bad(ErrInvalidConfig, "mount %s: no volume %q", m.Destination, m.Volume)
		case m.Volume == "" && !filepath.IsAbs(m.Source):
			return bad(ErrInvalidConfig, "mount %s: source %q not absolute", m.Destination, m.Source)
		}
	}
	if err := s.validateSecurity(cfg); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	if _, err := s.resolveCommand(); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	if err := s.resolveSeccomp(); err != nil {
		return newErr("validate", cfg.ID, s.Name, "", err)
	}
	return nil
}

// env returns the process environment with a default PATH.
func (s *ContainerSpec) env() []string {
	for _, e := range s.Env {
		if strings.HasPrefix(e, "PATH=") {
			return s.Env
		}
	}
	return append([]string{defaultPath}, s.Env...)
}

// resolveCommand finds Args[0] inside the rootfs (following symlinks
// within it) and returns its in-container path.
func (s *ContainerSpec) resolveCommand() (string, error) {
	return s.resolveCommandIn(s.Rootfs)
}

// resolveCommandIn is resolveCommand under root, which is the rootfs
// before the container exists, and /proc/<init>/root once it runs: only
// the container's mount namespace has its bind mounts (a host-root image
// is an empty skeleton on the host side).
func (s *ContainerSpec) resolveCommandIn(root string) (string, error) {
	name := s.Args[0]
	var candidates []string
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(s.cwd(), p)
		}
		candidates = []string{p}
	} else {
		for _, e := range s.env() {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				for _, dir := range filepath.SplitList(v) {
					candidates = append(candidates, path.Join(dir, name))
				}
			}
		}
	}
	for _, c := range candidates {
		host, err := securejoin.SecureJoin(root, c)
		if err != nil {
			continue
		}
		if st, err := os.Stat(host); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: %q in %s", ErrCommandNotFound, name, s.Rootfs)
}

func (s *ContainerSpec) cwd() string {
	if s.Cwd == "" {
		return "/"
	}
	return s.Cwd
}
