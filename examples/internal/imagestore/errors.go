//go:build linux

package imagestore

import "errors"

// Sentinel errors; every error this package returns wraps one of them in an
// *Error, so callers test with errors.Is and read Op and Ref with errors.As.
var (
	// ErrNotFound: no such image in the store or in the registry.
	ErrNotFound = errors.New("image not found")
	// ErrBadReference: the name is not a valid image reference.
	ErrBadReference = errors.New("invalid image reference")
	// ErrDigestMismatch: content does not hash to the digest that names it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrCorruptLayer: a layer is truncated or not a readable tar stream.
	ErrCorruptLayer = errors.New("corrupt layer")
	// ErrUnsafeLayer: a layer entry would escape the rootfs.
	ErrUnsafeLayer = errors.New("unsafe layer entry")
	// ErrRegistry: the registry failed (network, protocol, refused).
	ErrRegistry = errors.New("registry error")
	// ErrUnsupported: a media type, platform or archive this package cannot use.
	ErrUnsupported = errors.New("unsupported image")
	// ErrBadConfig: invalid Options, Registry or container settings.
	ErrBadConfig = errors.New("invalid configuration")
	// ErrUnknownUser: the user or group is not in the image's passwd/group.
	ErrUnknownUser = errors.New("unknown user or group")
	// ErrRootfs: a container rootfs id is invalid, missing or already exists.
	ErrRootfs = errors.New("container rootfs")
)

// Error records the operation, the image reference (or rootfs id, path or
// field) it concerned, and the cause.
type Error struct {
	Op  string // "pull", "load", "remove", "unpack", "mount", ...
	Ref string // image reference, id, path or field name
	Err error
}

func (e *Error) Error() string {
	if e.Ref == "" {
		return "image " + e.Op + ": " + e.Err.Error()
	}
	return "image " + e.Op + " " + e.Ref + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// wrap returns err as an *Error, keeping an existing *Error (and its more
// precise Op/Ref) as it is.
func wrap(op, ref string, err error) error {
	if err == nil {
		return nil
	}
	var ie *Error
	if errors.As(err, &ie) {
		return err
	}
	return &Error{Op: op, Ref: ref, Err: err}
}

// errorKinds name the sentinels for a program that reports an error to
// another process (podkit-image to podrun), which rebuilds it with
// KindError.
var errorKinds = []struct {
	kind string
	err  error
}{
	{"not-found", ErrNotFound}, {"bad-reference", ErrBadReference}, {"digest-mismatch", ErrDigestMismatch},
	{"corrupt-layer", ErrCorruptLayer}, {"unsafe-layer", ErrUnsafeLayer}, {"registry", ErrRegistry},
	{"unsupported", ErrUnsupported}, {"bad-config", ErrBadConfig}, {"unknown-user", ErrUnknownUser},
	{"rootfs", ErrRootfs},
}

// PullResult is podkit-image pull --json's record of one reference: the
// image's ID, or the error and its kind (ErrorKind), for podrun to read.
type PullResult struct {
	Ref   string `json:"ref"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
	Kind  string `json:"kind,omitempty"`
}

// ErrorKind names the sentinel err wraps ("" for none).
func ErrorKind(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return ""
}

// KindError is the sentinel ErrorKind named kind (nil for none).
func KindError(kind string) error {
	for _, k := range errorKinds {
		if k.kind == kind {
			return k.err
		}
	}
	return nil
}
