//go:build linux

package exkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	cached := false
	if st, serr := os.Stat(bin); serr == nil && st.Mode()&0o111 != 0 {
		cached = true
	}
	goBin, lerr := exec.LookPath("go")
	if lerr != nil {
		return cachedOr(bin, cached, err)
	}
	// In the podkit source tree (its go.work), the library module is a
	// main module of the workspace.
	mod, merr := exec.Command(goBin, "list", "-m", "-f", "{{.Main}} {{.Dir}}", "github.com/podkit/podkit").Output()
	isMain, modDir, _ := strings.Cut(strings.TrimSpace(string(mod)), " ")
	if merr != nil || isMain != "true" {
		return cachedOr(bin, cached, err)
	}
	// In the podkit source tree: (re)build every time, so the cached pause
	// always matches the sources (a stale one may lack a flag the sandbox
	// passes). go build skips the link when nothing changed.
	if !cached {
		fmt.Fprintf(stderr, "podrun: %s not installed; building it into %s\n", pause.BinaryName, bin)
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags="+pause.LinkFlags(runtime.GOARCH), "-o", bin, pause.ImportPath)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = modDir
	if out, berr := cmd.CombinedOutput(); berr != nil {
		return "", errors.Join(err, fmt.Errorf("building %s: %v: %s", pause.BinaryName, berr, out))
	}
	return bin, nil
}

// cachedOr returns the cached pause if there is one, else the error of
// pause.Find.
func cachedOr(bin string, cached bool, err error) (string, error) {
	if cached {
		return bin, nil
	}
	return "", err
}
