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
	"github.com/podkit/podkit/examples/internal/imagestore"
)

// parseMirror splits a mirror URL into a go-containerregistry registry and
// a repository path prefix.
func parseMirror(m string) (name.Registry, string, error) {
	u, err := imagestore.ParseMirror(m)
	if err != nil {
		return name.Registry{}, "", err
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
	regs := s.Registries()
	for i := range regs {
		switch regs[i].Prefix {
		case host:
			return regs[i]
		case "*":
			star = &regs[i]
		}
	}
	if star != nil {
		return *star
	}
	return Registry{Prefix: host}
}

// endpoints lists where to fetch ref, of registry host (as images name
// it: docker.io), from, in order.
func (s *Store) endpoints(host string, ref name.Reference) ([]endpoint, error) {
	cfg := s.registryFor(host)
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
		out = append(out, endpoint{ref: upstream, desc: host})
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
	for _, r := range s.Registries() {
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
