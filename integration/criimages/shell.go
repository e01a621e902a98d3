package criimages

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ShellPath is Debian's dynamically linked busybox (package busybox,
// unpacked there by integration/install-deps.sh: it conflicts with
// busybox-static, so it is not installed). Its shell runs other commands
// by PATH, as the upstream images' busybox does, where busybox-static's
// prefers its own applets: critest's MaskedPaths spec masks /bin/ls and
// expects `sh -c ls` to fail with "/bin/sh: ls: Permission denied".
const ShellPath = "/var/cache/podkit-tools/busybox-shell/bin/busybox"

// shell is the images' /bin/sh and the shared libraries it needs (image
// path -> content).
type shell struct {
	bin  []byte
	libs map[string][]byte
}

// loadShell reads ShellPath and the libraries ldd(1) resolves for it
// (this host's glibc, which the Debian package was built against). Without
// ShellPath (as in the VM lane's guest) it returns nil: the images then
// keep busybox-static's sh, and only the MaskedPaths spec tells.
func loadShell() (*shell, error) {
	bin, err := os.ReadFile(ShellPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("criimages: the images' /bin/sh: %w", err)
	}
	out, err := exec.Command("ldd", ShellPath).Output()
	if err != nil {
		return nil, fmt.Errorf("criimages: ldd %s: %w", ShellPath, err)
	}
	sh := &shell{bin: bin, libs: map[string][]byte{}}
	for _, line := range strings.Split(string(out), "\n") {
		// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
		// "/lib64/ld-linux-x86-64.so.2 (0x...)"; vdso has no path.
		f := strings.Fields(line)
		var p string
		switch {
		case len(f) >= 3 && f[1] == "=>" && filepath.IsAbs(f[2]):
			p = f[2]
		case len(f) >= 1 && filepath.IsAbs(f[0]):
			p = f[0]
		default:
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, fmt.Errorf("criimages: %s: %w", p, err)
		}
		if sh.libs[p[1:]], err = os.ReadFile(real); err != nil {
			return nil, fmt.Errorf("criimages: %s: %w", p, err)
		}
	}
	return sh, nil
}

// write puts the shell at bin/sh and its libraries at their paths, or
// nothing without one (bin/sh is then busybox-static's applet).
func (sh *shell) write(w *tarWriter) {
	if sh == nil {
		return
	}
	dirs := map[string]bool{}
	for p := range sh.libs {
		for d := filepath.Dir(p); d != "." && d != "bin"; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		w.dir(d, 0o755)
	}
	for _, p := range slices.Sorted(maps.Keys(sh.libs)) {
		w.file(p, sh.libs[p], 0o755)
	}
	w.file("bin/sh", sh.bin, 0o755)
}
