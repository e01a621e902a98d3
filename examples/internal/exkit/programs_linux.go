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
	return findOrBuild(stderr, program{name: pause.BinaryName, env: pause.EnvPath, find: pause.Find,
		module: "github.com/podkit/podkit", pkg: pause.ImportPath, ldflags: pause.LinkFlags(runtime.GOARCH), noCgo: true})
}

// ImageHelperName is the program that pulls and loads images for podrun
// (examples/podkit-image); ImageHelperEnv names it instead of the search.
const (
	ImageHelperName = "podkit-image"
	ImageHelperEnv  = "PODKIT_IMAGE"
)

// FindImageHelper returns the podkit-image binary: $PODKIT_IMAGE, or
// podkit-image beside this program or in $PATH, or, in a podkit source
// tree with Go available, one built once into the user cache.
func FindImageHelper(stderr io.Writer) (string, error) {
	return findOrBuild(stderr, program{name: ImageHelperName, env: ImageHelperEnv, find: findImageHelper,
		module: "github.com/podkit/podkit/examples", pkg: "github.com/podkit/podkit/examples/podkit-image"})
}

func findImageHelper() (string, error) {
	if p, ok := os.LookupEnv(ImageHelperEnv); ok {
		return p, checkExecutable(p)
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), ImageHelperName); checkExecutable(p) == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(ImageHelperName)
	if err != nil || !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s not found beside %s nor in $PATH (set $%s, or build it: go build ./examples/%s)",
			ImageHelperName, os.Args[0], ImageHelperEnv, ImageHelperName)
	}
	return p, nil
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err == nil && (!st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0) {
		err = fmt.Errorf("%s is not an executable file", p)
	}
	return err
}

// program says how to find, or build, one of podkit's programs.
type program struct {
	name, env   string                 // file name, and the variable that names it
	find        func() (string, error) // the installed one
	module, pkg string                 // its module and main package
	ldflags     string
	noCgo       bool
}

// findOrBuild returns p.find's answer; when that fails, p's variable is
// unset and this program runs from a podkit source tree with Go
// available, it (re)builds p into the user cache.
func findOrBuild(stderr io.Writer, p program) (string, error) {
	path, err := p.find()
	if err == nil || os.Getenv(p.env) != "" {
		return path, err
	}
	cache, cerr := os.UserCacheDir()
	if cerr != nil {
		return "", err
	}
	bin := filepath.Join(cache, "podkit", p.name)
	cached := false
	if st, serr := os.Stat(bin); serr == nil && st.Mode()&0o111 != 0 {
		cached = true
	}
	goBin, lerr := exec.LookPath("go")
	if lerr != nil {
		return cachedOr(bin, cached, err)
	}
	// In the podkit source tree (its go.work), the module is a main
	// module of the workspace.
	mod, merr := exec.Command(goBin, "list", "-m", "-f", "{{.Main}} {{.Dir}}", p.module).Output()
	isMain, modDir, _ := strings.Cut(strings.TrimSpace(string(mod)), " ")
	if merr != nil || isMain != "true" {
		return cachedOr(bin, cached, err)
	}
	// In the podkit source tree: (re)build every time, so the cached
	// program always matches the sources (a stale one may lack a flag
	// podrun passes). go build skips the link when nothing changed.
	if !cached {
		fmt.Fprintf(stderr, "podrun: %s not installed; building it into %s\n", p.name, bin)
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags="+p.ldflags, "-o", bin, p.pkg)
	if p.noCgo {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	cmd.Dir = modDir
	if out, berr := cmd.CombinedOutput(); berr != nil {
		return "", errors.Join(err, fmt.Errorf("building %s: %v: %s", p.name, berr, out))
	}
	return bin, nil
}

// cachedOr returns the cached program if there is one, else the error
// of its search.
func cachedOr(bin string, cached bool, err error) (string, error) {
	if cached {
		return bin, nil
	}
	return "", err
}
