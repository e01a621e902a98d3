//go:build linux

package imagestore

import (
	"flag"
	"fmt"
	"strings"
)

// StoreFlags are the command-line flags that locate a store and the
// registry mirrors its pulls use, as podrun and podkit-image take them.
type StoreFlags struct {
	Dir         string   // --image-dir
	Mirrors     []string // --registry-mirror REGISTRY=URL, in order
	MirrorsOnly bool     // --mirrors-only
}

// Register adds the flags to fs (Dir defaults to DefaultRoot).
func (f *StoreFlags) Register(fs *flag.FlagSet) {
	if f.Dir == "" {
		f.Dir = DefaultRoot
	}
	fs.StringVar(&f.Dir, "image-dir", f.Dir, "image store directory (shared with podkit-cri)")
	fs.Var(mirrorFlag{f}, "registry-mirror", "REGISTRY=URL: pull REGISTRY's images (* for every registry) from URL first; repeatable. "+
		"http:// URLs and loopback registries use plain HTTP")
	fs.BoolVar(&f.MirrorsOnly, "mirrors-only", f.MirrorsOnly, "never contact a registry that has mirrors, only its mirrors")
}

// mirrorFlag is the repeatable --registry-mirror REGISTRY=URL.
type mirrorFlag struct{ f *StoreFlags }

func (m mirrorFlag) String() string {
	if m.f == nil {
		return ""
	}
	return strings.Join(m.f.Mirrors, ",")
}

func (m mirrorFlag) Set(v string) error {
	reg, url, ok := strings.Cut(v, "=")
	if !ok || reg == "" || url == "" {
		return fmt.Errorf("%q is not REGISTRY=URL (e.g. docker.io=http://127.0.0.1:5000, or *=URL for every registry)", v)
	}
	m.f.Mirrors = append(m.f.Mirrors, v)
	return nil
}

// Options are the store options the flags give: one Registry per
// registry named, with its mirrors in order.
func (f *StoreFlags) Options() Options {
	var regs []Registry
	index := map[string]int{}
	for _, m := range f.Mirrors {
		reg, url, _ := strings.Cut(m, "=")
		i, ok := index[reg]
		if !ok {
			i = len(regs)
			index[reg] = i
			regs = append(regs, Registry{Prefix: reg, SkipUpstream: f.MirrorsOnly})
		}
		regs[i].Mirrors = append(regs[i].Mirrors, url)
	}
	return Options{Root: f.Dir, Registries: regs}
}

// Args are the flags that give f to another program.
func (f *StoreFlags) Args() []string {
	a := []string{"--image-dir", f.Dir}
	for _, m := range f.Mirrors {
		a = append(a, "--registry-mirror", m)
	}
	if f.MirrorsOnly {
		a = append(a, "--mirrors-only")
	}
	return a
}
