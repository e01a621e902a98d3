//go:build linux

package exkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/podkit/podkit/pause"
)

// FindPause returns the podkit-pause binary. When it is not installed and
// podrun runs from a podkit source tree with Go available (the
// `go run ./examples/podrun` case), it is built once into the user cache.
func FindPause(stderr io.Writer) (string, error) {
	p, err := pause.Find()
	if err == nil || os.Getenv(pause.EnvPath) != "" {
		return p, err
	}
	cache, cerr := os.UserCacheDir()
	if cerr != nil {
		return "", err
	}
	bin := filepath.Join(cache, "podkit", pause.BinaryName)
	if st, serr := os.Stat(bin); serr == nil && st.Mode()&0o111 != 0 {
		return bin, nil
	}
	goBin, lerr := exec.LookPath("go")
	if lerr != nil {
		return "", err
	}
	mod, merr := exec.Command(goBin, "list", "-m").Output()
	if merr != nil || strings.TrimSpace(string(mod)) != "github.com/podkit/podkit" {
		return "", err
	}
	fmt.Fprintf(stderr, "podrun: %s not installed; building it into %s (once)\n", pause.BinaryName, bin)
	cmd := exec.Command(goBin, "build", "-o", bin, "./pause/cmd/podkit-pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir, _ = moduleDir(goBin)
	if out, berr := cmd.CombinedOutput(); berr != nil {
		return "", errors.Join(err, fmt.Errorf("building %s: %v: %s", pause.BinaryName, berr, out))
	}
	return bin, nil
}

func moduleDir(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}
