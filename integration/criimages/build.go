package criimages

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPath is Debian's busybox-static binary.
const BusyboxPath = "/bin/busybox"

// Image is a built image and the suite's references for it.
type Image struct {
	Refs  []string
	Image v1.Image
}

// base passwd and group, as busybox's own image has them.
var (
	basePasswd = []string{
		"root:x:0:0:root:/root:/bin/sh", "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
		"bin:x:2:2:bin:/bin:/bin/false", "sys:x:3:3:sys:/dev:/bin/false", "sync:x:4:100:sync:/bin:/bin/sync",
		"mail:x:8:8:mail:/var/spool/mail:/bin/false", "www-data:x:33:33:www-data:/var/www:/bin/false",
		"operator:x:37:37:Operator:/var:/bin/false", "nobody:x:65534:65534:nobody:/home:/bin/false",
	}
	baseGroup = []string{
		"root:x:0:", "daemon:x:1:", "bin:x:2:", "sys:x:3:", "adm:x:4:", "tty:x:5:", "disk:x:6:", "lp:x:7:",
		"mail:x:8:", "kmem:x:9:", "wheel:x:10:root", "cdrom:x:11:", "dialout:x:18:", "floppy:x:19:",
		"video:x:28:", "audio:x:29:", "tape:x:32:", "www-data:x:33:", "operator:x:37:", "utmp:x:43:",
		"plugdev:x:46:", "staff:x:50:", "lock:x:54:", "netdev:x:82:", "users:x:100:", "nogroup:x:65534:",
	}
)

// epoch is every file's modification time, so builds are reproducible.
var epoch = time.Unix(0, 0)

// Build builds every image of Catalog(runtime.GOARCH) from busybox (a
// static busybox binary) and standin (the static ./standin program).
func Build(busybox, standin string) ([]Image, error) {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("criimages: busybox: %w", err)
	}
	si, err := os.ReadFile(standin)
	if err != nil {
		return nil, fmt.Errorf("criimages: standin: %w", err)
	}
	applets, err := busyboxApplets(busybox)
	if err != nil {
		return nil, err
	}
	sh, err := loadShell()
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, spec := range Catalog(runtime.GOARCH) {
		img, err := buildOne(spec, bb, si, applets, sh)
		if err != nil {
			return nil, fmt.Errorf("criimages: %s: %w", spec.Refs[0], err)
		}
		out = append(out, Image{Refs: spec.Refs, Image: img})
	}
	return out, nil
}

// busyboxApplets lists the paths busybox installs its applets at
// ("bin/sh", "usr/bin/awk", ...).
func busyboxApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("criimages: %s --list-full: %w", busybox, err)
	}
	return strings.Fields(string(out)), nil
}

func buildOne(spec Spec, busybox, standin []byte, applets []string, sh *shell) (v1.Image, error) {
	// standin picks its applet by argv[0]'s base name.
	for _, m := range []map[string]string{spec.Applets, spec.Setuid} {
		for p, a := range m {
			if path.Base(p) != a {
				return nil, fmt.Errorf("applet %s installed as %s: the base name must be the applet's", a, p)
			}
		}
	}
	baseLayer, err := layer(func(w *tarWriter) {
		for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc", "root",
			"home", "var/run", "var/www", "proc", "sys", "dev"} {
			w.dir(d, 0o755)
		}
		w.dir("tmp", 0o1777)
		w.file("bin/busybox", busybox, 0o755)
		sh.write(w) // bin/sh: a shell that runs commands by PATH (shell.go)
		for _, a := range applets {
			if a != "bin/busybox" && (a != "bin/sh" || sh == nil) {
				// Hard links, as in the upstream busybox images: masking
				// one applet (critest's MaskedPaths: /bin/ls) must not
				// mask the binary every other applet is.
				w.hardlink(a, "bin/busybox")
			}
		}
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, baseLayer)
	if err != nil {
		return nil, err
	}
	top, err := layer(func(w *tarWriter) {
		w.file("etc/passwd", lines(basePasswd, spec.Passwd), 0o644)
		w.file("etc/group", lines(baseGroup, spec.Group), 0o644)
		if len(spec.Applets)+len(spec.Setuid) > 0 {
			w.file("bin/standin", standin, 0o755)
		}
		for _, p := range sortedKeys(spec.Applets) {
			w.symlink(p[1:], "/bin/standin")
		}
		for _, p := range sortedKeys(spec.Setuid) {
			w.file(p[1:], standin, 0o4755)
		}
		for _, p := range sortedKeys(spec.Files) {
			w.file(p[1:], []byte(spec.Files[p]), 0o644)
		}
	})
	if err != nil {
		return nil, err
	}
	if img, err = mutate.AppendLayers(img, top); err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", runtime.GOARCH, v1.Time{Time: epoch}
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, spec.Env...)
	cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.User = spec.Entrypoint, spec.Cmd, spec.User
	return mutate.ConfigFile(img, cf)
}

func lines(base, extra []string) []byte {
	return []byte(strings.Join(append(slices.Clone(base), extra...), "\n") + "\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tarWriter writes a layer's entries, owned by root, remembering the first
// error.
type tarWriter struct {
	tw  *tar.Writer
	err error
}

func (w *tarWriter) header(h *tar.Header, body []byte) {
	if w.err != nil {
		return
	}
	h.ModTime, h.Format = epoch, tar.FormatPAX
	if w.err = w.tw.WriteHeader(h); w.err == nil && len(body) > 0 {
		_, w.err = w.tw.Write(body)
	}
}

func (w *tarWriter) dir(name string, mode int64) {
	w.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}, nil)
}

func (w *tarWriter) file(name string, body []byte, mode int64) {
	w.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, body)
}

func (w *tarWriter) symlink(name, target string) {
	w.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil)
}

func (w *tarWriter) hardlink(name, target string) {
	w.header(&tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o755}, nil)
}

// layer makes an uncompressed-in-memory, gzip-served layer from fill's
// entries.
func layer(fill func(*tarWriter)) (v1.Layer, error) {
	var buf bytes.Buffer
	w := &tarWriter{tw: tar.NewWriter(&buf)}
	fill(w)
	if w.err != nil {
		return nil, w.err
	}
	if err := w.tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}
