//go:build linux

package sandbox

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runc/libcontainer/configs"
	libctseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/podkit/podkit/nsjoin/seccomp"
)

// ErrSeccompUnsupported: a ContainerSpec asks for a seccomp profile but
// the program was built without libcontainer's seccomp support (the
// `seccomp` build tag and libseccomp; see the package doc). Nothing was
// created.
var ErrSeccompUnsupported = errors.New("seccomp profile asked, but this binary was built without the seccomp build tag")

// seccompEnabled is libcontainer's: true when built with -tags seccomp.
var seccompEnabled = libctseccomp.Enabled

// resolveSeccomp checks ContainerSpec.Seccomp and keeps its OCI form for
// ociSpec (a Localhost file is read here, once). Errors are *FieldErrors
// naming Seccomp.
func (s *ContainerSpec) resolveSeccomp() error {
	s.seccomp = nil
	bad := func(sentinel error, reason string) error {
		return &FieldError{Field: "Seccomp", Value: s.Seccomp.String(), Reason: reason, Err: sentinel}
	}
	if err := s.Seccomp.Validate(); err != nil {
		return bad(fmt.Errorf("%w: %w", ErrInvalidConfig, err), "invalid profile")
	}
	if !s.Seccomp.Confined() {
		return nil
	}
	if !seccompEnabled {
		return bad(fmt.Errorf("%w: %w", ErrInvalidConfig, ErrSeccompUnsupported), "rebuild with -tags seccomp (needs libseccomp-dev) or use Unconfined")
	}
	caps := DefaultCapabilities
	if s.Capabilities != nil {
		caps = s.Capabilities
	}
	sc, err := s.Seccomp.Resolve(caps)
	if err != nil {
		return bad(fmt.Errorf("%w: %w", ErrInvalidConfig, err), "cannot load the profile")
	}
	s.seccomp = sc
	return nil
}

// execSeccomp is the container's filter for processes Exec starts:
// compiled from the profile libcontainer applied to the init (its config,
// which survives a restart of the manager), once per run.
func (c *container) execSeccomp(cfg *configs.Config) (*seccomp.Filter, error) {
	if cfg.Seccomp == nil {
		return nil, nil
	}
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if c.execFilter != nil && c.execFilterOf == cfg.Seccomp {
		return c.execFilter, nil
	}
	f, err := seccomp.Compile(ociSeccomp(cfg.Seccomp))
	if err != nil {
		return nil, fmt.Errorf("container's seccomp profile: %w", err)
	}
	c.execFilter, c.execFilterOf = f, cfg.Seccomp
	return f, nil
}

// ociSeccomp turns libcontainer's form of a profile back into the OCI
// form (the reverse of specconv's conversion).
func ociSeccomp(s *configs.Seccomp) *specs.LinuxSeccomp {
	o := &specs.LinuxSeccomp{
		DefaultAction: ociAction[s.DefaultAction], DefaultErrnoRet: s.DefaultErrnoRet,
		Flags: s.Flags, ListenerPath: s.ListenerPath, ListenerMetadata: s.ListenerMetadata,
	}
	for _, a := range s.Architectures {
		o.Architectures = append(o.Architectures, ociArch(a))
	}
	for _, sc := range s.Syscalls {
		r := specs.LinuxSyscall{Names: []string{sc.Name}, Action: ociAction[sc.Action], ErrnoRet: sc.ErrnoRet}
		for _, a := range sc.Args {
			r.Args = append(r.Args, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: ociOp[a.Op]})
		}
		o.Syscalls = append(o.Syscalls, r)
	}
	return o
}

var ociAction = map[configs.Action]specs.LinuxSeccompAction{
	configs.Kill: specs.ActKill, configs.Errno: specs.ActErrno, configs.Trap: specs.ActTrap,
	configs.Allow: specs.ActAllow, configs.Trace: specs.ActTrace, configs.Log: specs.ActLog,
	configs.Notify: specs.ActNotify, configs.KillThread: specs.ActKillThread,
	configs.KillProcess: specs.ActKillProcess,
}

var ociOp = map[configs.Operator]specs.LinuxSeccompOperator{
	configs.EqualTo: specs.OpEqualTo, configs.NotEqualTo: specs.OpNotEqual,
	configs.GreaterThan: specs.OpGreaterThan, configs.GreaterThanOrEqualTo: specs.OpGreaterEqual,
	configs.LessThan: specs.OpLessThan, configs.LessThanOrEqualTo: specs.OpLessEqual,
	configs.MaskEqualTo: specs.OpMaskedEqual,
}

// ociArch maps libseccomp's architecture names (what libcontainer keeps)
// back to the OCI names, through libcontainer's own table.
func ociArch(a string) specs.Arch {
	for _, k := range libctseccomp.KnownArchs() {
		if v, err := libctseccomp.ConvertStringToArch(k); err == nil && v == a {
			return specs.Arch(k)
		}
	}
	return specs.Arch(a) // Compile names it
}
