//go:build linux

package hostroot

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// ErrCommandNotFound: a host-root container's command is not an executable
// inside the host directories the container sees.
var ErrCommandNotFound = errors.New("command not found in the host directories a host-root container sees")

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// AddCommand finds argv0 the way the container will (PATH from env, or the
// default PATH) among the host directories the container sees, and puts an
// empty executable placeholder at the same path in the skeleton. The
// sandbox looks the command up in the root filesystem before any mount
// exists; inside the container the read-only host bind hides the
// placeholder and the real program runs. It returns the in-container path.
func (r *Root) AddCommand(argv0 string, env []string, cwd string) (string, error) {
	for _, c := range candidates(argv0, env, cwd) {
		if !visible(c) {
			continue
		}
		st, err := os.Stat(c)
		if err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			continue
		}
		p, err := securejoin.SecureJoin(r.Dir, c)
		if err != nil {
			return "", fmt.Errorf("hostroot: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("hostroot: %w", err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return "", fmt.Errorf("hostroot: %w", err)
		}
		return c, f.Close()
	}
	return "", fmt.Errorf("%w: %q (visible: /%s)", ErrCommandNotFound, argv0, strings.Join(Bound, ", /"))
}

func candidates(argv0 string, env []string, cwd string) []string {
	if strings.Contains(argv0, "/") {
		if !path.IsAbs(argv0) {
			if cwd == "" {
				cwd = "/"
			}
			argv0 = path.Join(cwd, argv0)
		}
		return []string{path.Clean(argv0)}
	}
	search := defaultPath
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			search = v
		}
	}
	var out []string
	for _, dir := range filepath.SplitList(search) {
		if path.IsAbs(dir) {
			out = append(out, path.Join(dir, argv0))
		}
	}
	return out
}

// visible reports whether a host path lies in a directory a host-root
// container sees.
func visible(p string) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(path.Clean(p), "/"), "/")
	for _, b := range Bound {
		if first == b {
			return true
		}
	}
	return false
}
