//go:build linux

package image

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry configures how one registry is reached, in the manner of
// containerd's hosts.toml and CRI-O's registries.conf.
type Registry struct {
	// Prefix is the registry host as image names spell it
	// ("registry.k8s.io", "docker.io", "localhost:5000"), or "*" for every
	// registry without an entry of its own.
	Prefix string
	// Mirrors are endpoints tried in order before the registry itself, as
	// URLs: "http://127.0.0.1:5000" (plain HTTP, because the URL says so) or
	// "https://mirror.example/cache" (a path is prepended to the repository).
	// The image keeps the name it was asked for.
	Mirrors []string
	// SkipUpstream: only the mirrors answer; the registry itself is never
	// contacted.
	SkipUpstream bool
	// PlainHTTP lets the registry itself be reached over plain HTTP. Loopback
	// registries (localhost, 127.0.0.0/8, ::1) always may.
	PlainHTTP bool
}

func validateRegistries(regs []Registry) error {
	seen := map[string]bool{}
	for i, r := range regs {
		field := fmt.Sprintf("Registries[%d]", i)
		if r.Prefix == "" || strings.ContainsAny(r.Prefix, "/ ") {
			return &Error{Op: "open", Ref: field + ".Prefix", Err: fmt.Errorf("%w: %q is not a registry host or *", ErrBadConfig, r.Prefix)}
		}
		if seen[r.Prefix] {
			return &Error{Op: "open", Ref: field + ".Prefix", Err: fmt.Errorf("%w: %q listed twice", ErrBadConfig, r.Prefix)}
		}
		seen[r.Prefix] = true
		if r.SkipUpstream && len(r.Mirrors) == 0 {
			return &Error{Op: "open", Ref: field + ".SkipUpstream", Err: fmt.Errorf("%w: no mirrors to use instead", ErrBadConfig)}
		}
		for j, m := range r.Mirrors {
			if _, _, err := parseMirror(m); err != nil {
				return &Error{Op: "open", Ref: fmt.Sprintf("%s.Mirrors[%d]", field, j), Err: err}
			}
		}
	}
	return nil
}

// parseMirror splits a mirror URL into a go-containerregistry registry and
// a repository path prefix.
func parseMirror(m string) (name.Registry, string, error) {
	u, err := url.Parse(m)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return name.Registry{}, "", fmt.Errorf("%w: mirror %q is not an http(s)://host[:port][/path] URL", ErrBadConfig, m)
	}
	var opts []name.Option
	if u.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(u.Host, opts...)
	if err != nil {
		return name.Registry{}, "", fmt.Errorf("%w: mirror %q: %v", ErrBadConfig, m, err)
	}
	return reg, strings.Trim(u.Path, "/"), nil
}

// endpoint is one place to fetch an image from.
type endpoint struct {
	ref  name.Reference
	desc string // for errors: the mirror URL or the registry
}

func (s *Store) registryFor(host string) Registry {
	var star *Registry
	for i := range s.regs {
		switch s.regs[i].Prefix {
		case host:
			return s.regs[i]
		case "*":
			star = &s.regs[i]
		}
	}
	if star != nil {
		return *star
	}
	return Registry{Prefix: host}
}

// endpoints lists where to fetch ref from, in order.
func (s *Store) endpoints(ref name.Reference) ([]endpoint, error) {
	cfg := s.registryFor(registryName(ref))
	var out []endpoint
	for _, m := range cfg.Mirrors {
		reg, prefix, err := parseMirror(m)
		if err != nil {
			return nil, err
		}
		repo := ref.Context().RepositoryStr()
		if prefix != "" {
			repo = prefix + "/" + repo
		}
		out = append(out, endpoint{ref: retarget(ref, reg.Repo(repo)), desc: m})
	}
	if !cfg.SkipUpstream {
		upstream := ref
		if cfg.PlainHTTP {
			reg, err := name.NewRegistry(ref.Context().RegistryStr(), name.Insecure)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadReference, err)
			}
			upstream = retarget(ref, reg.Repo(ref.Context().RepositoryStr()))
		}
		out = append(out, endpoint{ref: upstream, desc: registryName(ref)})
	}
	return out, nil
}

// retarget names ref's tag or digest in repository r.
func retarget(ref name.Reference, r name.Repository) name.Reference {
	if d, ok := ref.(name.Digest); ok {
		return r.Digest(d.DigestStr())
	}
	return r.Tag(ref.Identifier())
}

// plainHTTPAllowed says whether host (host[:port]) may be spoken to over
// plain HTTP: loopback hosts, http:// mirrors and PlainHTTP registries.
func (s *Store) plainHTTPAllowed(host string) bool {
	if loopback(host) {
		return true
	}
	for _, r := range s.regs {
		if r.PlainHTTP && r.Prefix == host {
			return true
		}
		for _, m := range r.Mirrors {
			if u, err := url.Parse(m); err == nil && u.Scheme == "http" && u.Host == host {
				return true
			}
		}
	}
	return false
}

func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.Trim(host, "[]")
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpGuard refuses plain-HTTP requests to hosts not allowed them
// (go-containerregistry would otherwise fall back to HTTP for any private
// address).
type httpGuard struct {
	s    *Store
	next http.RoundTripper
}

func (g httpGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.s.plainHTTPAllowed(req.URL.Host) {
		return nil, fmt.Errorf("plain HTTP to %s is not configured", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

// newTransport is the store's own HTTP transport, so Close can drop its
// idle connections.
func newTransport() *http.Transport {
	if t, ok := remote.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return http.DefaultTransport.(*http.Transport).Clone()
}

func (s *Store) transport() http.RoundTripper { return httpGuard{s: s, next: s.tr} }
