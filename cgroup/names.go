//go:build linux

package cgroup

import (
	"errors"
	"strings"
)

// MaxNameLen is the longest name a path component may have (NAME_MAX).
const MaxNameLen = 255

// ValidateName checks that name can be used as one cgroup path component:
// non-empty, not "." or "..", no '/', no NUL, at most MaxNameLen bytes.
func ValidateName(name string) error {
	switch {
	case name == "":
		return &NameError{Op: "validate", Name: name, Err: errors.Join(ErrInvalidName, errors.New("empty"))}
	case name == "." || name == "..":
		return &NameError{Op: "validate", Name: name, Err: ErrEscape}
	case strings.ContainsRune(name, '/'):
		return &NameError{Op: "validate", Name: name, Err: errors.Join(ErrInvalidName, errors.New("contains '/'"))}
	case strings.ContainsRune(name, 0):
		return &NameError{Op: "validate", Name: name, Err: errors.Join(ErrInvalidName, errors.New("contains NUL"))}
	case len(name) > MaxNameLen:
		return &NameError{Op: "validate", Name: name, Err: errors.Join(ErrInvalidName, errors.New("longer than 255 bytes"))}
	}
	return nil
}

// cleanPath validates a cgroup path relative to the hierarchy root, such as
// "/podkit" or "podkit/pod1": every component must pass ValidateName ("..",
// ".", empty components and NUL are refused, never resolved). It returns the
// path in canonical form with a leading '/'. The root itself ("/") is refused:
// podkit never manages the root cgroup.
func cleanPath(op, p string) (string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return "", &NameError{Op: op, Name: p, Err: errors.Join(ErrInvalidName, errors.New("root cgroup"))}
	}
	for _, c := range strings.Split(trimmed, "/") {
		if err := ValidateName(c); err != nil {
			var ne *NameError
			errors.As(err, &ne)
			return "", &NameError{Op: op, Name: p, Err: ne.Err}
		}
	}
	return "/" + trimmed, nil
}

// child joins a validated parent path with a name and checks that the
// result stays strictly under parent.
func child(op, parent, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		var ne *NameError
		errors.As(err, &ne)
		return "", &NameError{Op: op, Name: name, Err: ne.Err}
	}
	p := parent + "/" + name
	if !strings.HasPrefix(p, parent+"/") || strings.Count(p, "/") != strings.Count(parent, "/")+1 {
		return "", &NameError{Op: op, Name: name, Err: ErrEscape}
	}
	return p, nil
}
