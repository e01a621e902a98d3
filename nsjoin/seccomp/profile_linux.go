//go:build linux

package seccomp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	moby "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Type says which profile a container runs under, as Kubernetes'
// SeccompProfile.type does.
type Type string

// Profile types. The empty Type means Unconfined (see the package doc for
// why that is the default).
const (
	Unconfined     Type = "Unconfined"
	RuntimeDefault Type = "RuntimeDefault"
	Localhost      Type = "Localhost"
)

// Profile selects a container's seccomp profile.
type Profile struct {
	Type Type `json:",omitempty"`
	// LocalhostProfile is the absolute path of a profile file, for Type
	// Localhost: Docker's JSON format (what containerd, CRI-O and critest
	// write) or an OCI LinuxSeccomp document. It is read when the
	// container is created.
	LocalhostProfile string `json:",omitempty"`
}

// Confined says whether p installs a filter (anything but Unconfined).
func (p Profile) Confined() bool { return p.Type != "" && p.Type != Unconfined }

// String prints p as Kubernetes' annotations do ("runtime/default",
// "localhost/<path>", "unconfined").
func (p Profile) String() string {
	switch p.Type {
	case RuntimeDefault:
		return "runtime/default"
	case Localhost:
		return "localhost/" + p.LocalhostProfile
	}
	return "unconfined"
}

// Sentinel errors; every error of the package wraps one of them inside an
// *Error naming the field.
var (
	// ErrInvalidProfile: a profile (or its file) is malformed: bad JSON,
	// unknown syscall, action, operator or architecture, a Type the
	// package does not know, a relative LocalhostProfile.
	ErrInvalidProfile = errors.New("invalid seccomp profile")
	// ErrTooLarge: the compiled program exceeds the kernel's 4096
	// instructions.
	ErrTooLarge = errors.New("seccomp program too large")
)

// Error names the field (of Profile or of the profile document) that
// failed, and the file if one was read.
type Error struct {
	Field string // e.g. "Type", "LocalhostProfile", "syscalls[3].names[0]"
	Path  string // the profile file, if any
	Err   error
}

func (e *Error) Error() string {
	s := "seccomp: " + e.Field
	if e.Path != "" {
		s += " (" + e.Path + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func invalid(field, path, format string, a ...any) error {
	return &Error{Field: field, Path: path, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidProfile}, a...)...)}
}

// Validate checks p without reading any file.
func (p Profile) Validate() error {
	switch p.Type {
	case "", Unconfined, RuntimeDefault:
		if p.LocalhostProfile != "" {
			return invalid("LocalhostProfile", "", "set for type %q", p.Type)
		}
	case Localhost:
		if !filepath.IsAbs(p.LocalhostProfile) || strings.ContainsRune(p.LocalhostProfile, 0) {
			return invalid("LocalhostProfile", "", "%q is not an absolute path", p.LocalhostProfile)
		}
	default:
		return invalid("Type", "", "unknown type %q (Unconfined, RuntimeDefault or Localhost)", p.Type)
	}
	return nil
}

// Resolve turns p into the OCI form a runtime applies, for a container
// whose bounding capability set is caps (the default profile's and
// Docker-format files' includes/excludes by capability, architecture and
// kernel version are resolved here). Unconfined gives nil. The result is
// checked by compiling it, so a profile that Resolve accepts installs.
func (p Profile) Resolve(caps []string) (*specs.LinuxSeccomp, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	switch p.Type {
	case RuntimeDefault:
		s, err := moby.GetDefaultProfile(capSpec(caps))
		if err != nil {
			return nil, &Error{Field: "Type", Err: fmt.Errorf("%w: default profile: %w", ErrInvalidProfile, err)}
		}
		return s, nil
	case Localhost:
		return LoadFile(p.LocalhostProfile, caps)
	}
	return nil, nil
}

// LoadFile reads a profile file (Docker's JSON format or OCI
// LinuxSeccomp) for a container with bounding set caps, and checks it
// compiles.
func LoadFile(path string, caps []string) (*specs.LinuxSeccomp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Field: "LocalhostProfile", Path: path, Err: fmt.Errorf("%w: %w", ErrInvalidProfile, err)}
	}
	s, err := Load(data, caps)
	var e *Error
	if errors.As(err, &e) && e.Path == "" {
		e.Path = path
	}
	return s, err
}

// Load parses a profile document (Docker's JSON format, a superset of OCI
// LinuxSeccomp) for a container with bounding set caps, and checks it
// compiles. A document without defaultAction is refused (Docker would
// read it as "no filter"; a file asked for by name must filter).
func Load(data []byte, caps []string) (*specs.LinuxSeccomp, error) {
	s, err := moby.LoadProfile(string(data), capSpec(caps))
	if err != nil {
		return nil, invalid("profile", "", "%v", err)
	}
	if s == nil || s.DefaultAction == "" {
		return nil, invalid("defaultAction", "", "missing")
	}
	if _, err := Compile(s); err != nil {
		return nil, err
	}
	return s, nil
}

// capSpec is the part of an OCI spec the Docker format's conditions read.
func capSpec(caps []string) *specs.Spec {
	norm := make([]string, 0, len(caps))
	for _, c := range caps {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		norm = append(norm, c)
	}
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: norm}}}
}
