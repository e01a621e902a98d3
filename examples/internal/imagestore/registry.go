//go:build linux

package imagestore

import (
	"fmt"
	"net/url"
	"strings"
)

// Registry configures how one registry is reached, in the manner of
// containerd's hosts.toml and CRI-O's registries.conf. The store keeps
// them for the image package's pulls.
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
			if _, err := ParseMirror(m); err != nil {
				return &Error{Op: "open", Ref: fmt.Sprintf("%s.Mirrors[%d]", field, j), Err: err}
			}
		}
	}
	return nil
}

// ParseMirror checks a mirror URL, http(s)://host[:port][/path], and
// returns it parsed.
func ParseMirror(m string) (*url.URL, error) {
	u, err := url.Parse(m)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("%w: mirror %q is not an http(s)://host[:port][/path] URL", ErrBadConfig, m)
	}
	return u, nil
}
