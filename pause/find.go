//go:build linux

package pause

import (
	"errors"
	"os"
	"path/filepath"
)

const (
	// BinaryName is the file name of the pause binary.
	BinaryName = "podkit-pause"
	// EnvPath overrides the search: when set it must name the binary.
	EnvPath = "PODKIT_PAUSE"
	// LibexecDir is the documented install directory searched last.
	LibexecDir = "/usr/local/libexec/podkit"
)

// Find locates the podkit-pause binary. In order: $PODKIT_PAUSE (when set it
// is the only candidate and must be an executable file), BinaryName next to
// os.Executable(), BinaryName in $PATH, and LibexecDir/BinaryName. The error
// is a *NotFoundError listing what was tried and how to build the binary.
func Find() (string, error) {
	if p, ok := os.LookupEnv(EnvPath); ok {
		if err := checkExecutable(p); err != nil {
			return "", &NotFoundError{Op: "find", Path: p, Tried: []string{"$" + EnvPath}, Err: err}
		}
		return p, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), BinaryName)
		if checkExecutable(p) == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // never pick a binary relative to the working directory
		}
		p := filepath.Join(dir, BinaryName)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	tried = append(tried, "$PATH")
	p := filepath.Join(LibexecDir, BinaryName)
	if checkExecutable(p) == nil {
		return p, nil
	}
	tried = append(tried, p)
	return "", &NotFoundError{Op: "find", Tried: tried}
}

var errNotExecutable = errors.New("not an executable regular file")

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return errNotExecutable
	}
	return nil
}
