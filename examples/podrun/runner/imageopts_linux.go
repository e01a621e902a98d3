//go:build linux

package runner

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/podrun/manifest"
	"golang.org/x/sys/unix"
)

// ErrImageNeverPull: the image is not in the store and its
// imagePullPolicy is Never (Kubernetes' ErrImageNeverPull).
var ErrImageNeverPull = errors.New("image not present with pull policy Never")

// ImageError is a container image podrun could not provide: a bad
// reference, an image missing from the store or the registry, a failed
// pull, or an image config the container cannot run with. errors.Is finds
// manifest.ErrImage and the cause (ErrImageNeverPull, image.ErrNotFound,
// image.ErrRegistry, ...); errors.As finds the *image.Error.
type ImageError struct {
	Field string // the manifest field, e.g. spec.containers[0].image
	Image string // the reference as written
	Err   error
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("%s: image %q: %v", e.Field, e.Image, e.Err)
}

// Unwrap returns manifest.ErrImage and the cause.
func (e *ImageError) Unwrap() []error { return []error{manifest.ErrImage, e.Err} }

// ImageOptions are the image store flags, shared by running a pod and
// `podrun images`.
type ImageOptions struct {
	Dir         string          // --image-dir
	Mirrors     []mirrorSetting // --registry-mirror, in order
	MirrorsOnly bool            // --mirrors-only
}

type mirrorSetting struct{ registry, url string }

// mirrorFlag is the repeatable --registry-mirror REGISTRY=URL.
type mirrorFlag struct{ o *ImageOptions }

func (m mirrorFlag) String() string {
	if m.o == nil {
		return ""
	}
	var s []string
	for _, ms := range m.o.Mirrors {
		s = append(s, ms.registry+"="+ms.url)
	}
	return strings.Join(s, ",")
}

func (m mirrorFlag) Set(v string) error {
	reg, url, ok := strings.Cut(v, "=")
	if !ok || reg == "" || url == "" {
		return fmt.Errorf("%q is not REGISTRY=URL (e.g. docker.io=http://127.0.0.1:5000, or *=URL for every registry)", v)
	}
	m.o.Mirrors = append(m.o.Mirrors, mirrorSetting{reg, url})
	return nil
}

// register adds the image store flags to fs.
func (o *ImageOptions) register(fs *flag.FlagSet) {
	if o.Dir == "" {
		o.Dir = image.DefaultRoot
	}
	fs.StringVar(&o.Dir, "image-dir", o.Dir, "image store directory (shared with podkit-cri)")
	fs.Var(mirrorFlag{o}, "registry-mirror", "REGISTRY=URL: pull REGISTRY's images (* for every registry) from URL first; repeatable. "+
		"http:// URLs and loopback registries use plain HTTP")
	fs.BoolVar(&o.MirrorsOnly, "mirrors-only", o.MirrorsOnly, "never contact a registry that has mirrors, only its mirrors")
}

// open opens the image store with the mirror settings.
func (o *ImageOptions) open() (*image.Store, error) {
	var regs []image.Registry
	index := map[string]int{}
	for _, m := range o.Mirrors {
		i, ok := index[m.registry]
		if !ok {
			i = len(regs)
			index[m.registry] = i
			regs = append(regs, image.Registry{Prefix: m.registry, SkipUpstream: o.MirrorsOnly})
		}
		regs[i].Mirrors = append(regs[i].Mirrors, m.url)
	}
	return image.Open(image.Options{Root: o.Dir, Registries: regs})
}

// isTerminal reports whether w is a terminal (pull progress goes only
// there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressPrinter prints a line per layer of a pull on a terminal: the
// line of the current layer is rewritten as bytes arrive.
func progressPrinter(w io.Writer) func(image.Progress) {
	return func(p image.Progress) {
		short := strings.TrimPrefix(p.Layer, "sha256:")
		if len(short) > 12 {
			short = short[:12]
		}
		switch {
		case p.Cached:
			fmt.Fprintf(w, "\r  %s: already present (%s)\n", short, size(p.Size))
		case p.Complete:
			fmt.Fprintf(w, "\r  %s: pulled %s          \n", short, size(p.Size))
		default:
			fmt.Fprintf(w, "\r  %s: %s / %s", short, size(p.Done), size(p.Size))
		}
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
