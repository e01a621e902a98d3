package imageref

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ErrBadReference is the error of a string that is not an image reference.
var ErrBadReference = errors.New("not an image reference")

// DockerHub is the registry of a name without one, as images name it.
const DockerHub = "docker.io"

// Ref is a parsed image reference.
type Ref struct {
	Registry   string // host[:port]; DockerHub for Docker Hub
	Repository string // with "library/" for a Docker Hub image of one component
	Tag        string // "latest" when none is given; "" with a digest
	Digest     string // algorithm:hex, or ""
}

// Name is the canonical name: registry/repository:tag or
// registry/repository@digest.
func (r Ref) Name() string {
	if r.Digest != "" {
		return r.Registry + "/" + r.Repository + "@" + r.Digest
	}
	return r.Registry + "/" + r.Repository + ":" + r.Tag
}

// Parse parses s. A reference with a tag and a digest is its digest.
func Parse(s string) (Ref, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return Ref{}, bad(s, "a reference has no URL scheme")
	}
	if r, err := parseTagged(s); err == nil {
		return r, nil
	}
	base, dig, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(dig, "@") {
		return Ref{}, bad(s, "want [registry/]repository[:tag] or [registry/]repository@algorithm:hex")
	}
	if err := checkDigest(dig); err != nil {
		return Ref{}, bad(s, err.Error())
	}
	if t, err := parseTagged(base); err == nil {
		return Ref{Registry: t.Registry, Repository: t.Repository, Digest: dig}, nil
	}
	reg, repo, err := parseRepository(base)
	if err != nil {
		return Ref{}, bad(s, err.Error())
	}
	return Ref{Registry: reg, Repository: repo, Digest: dig}, nil
}

func bad(s, why string) error { return fmt.Errorf("%w: %q: %s", ErrBadReference, s, why) }

// parseTagged parses [registry/]repository[:tag].
func parseTagged(s string) (Ref, error) {
	base, tag := s, "latest"
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i+1:], "/") {
		base, tag = s[:i], s[i+1:]
		if err := checkChars("tag", tag, isTagChar, 128); err != nil {
			return Ref{}, err
		}
	}
	reg, repo, err := parseRepository(base)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Registry: reg, Repository: repo, Tag: tag}, nil
}

// parseRepository parses [registry/]repository. The first component is a
// registry when another follows and it is localhost or has a '.' or ':'.
func parseRepository(s string) (registry, repo string, err error) {
	if s == "" {
		return "", "", errors.New("no repository")
	}
	repo = s
	if first, rest, ok := strings.Cut(s, "/"); ok && (first == "localhost" || strings.ContainsAny(first, ".:")) {
		registry, repo = first, rest
	}
	if err := checkChars("repository", repo, isRepoChar, 255); err != nil {
		return "", "", err
	}
	if u, err := url.Parse("//" + registry); err != nil || u.Host != registry {
		return "", "", fmt.Errorf("registry %q is not a host[:port]", registry)
	}
	if registry == "" || registry == DockerHub || registry == "index.docker.io" {
		registry = DockerHub
		if !strings.Contains(repo, "/") {
			repo = "library/" + repo
		}
	}
	return registry, repo, nil
}

func checkChars(what, s string, ok func(rune) bool, maxLen int) error {
	if n := utf8.RuneCountInString(s); n < 1 || n > maxLen {
		return fmt.Errorf("%s %q: want 1 to %d characters", what, s, maxLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return !ok(r) }) >= 0 {
		return fmt.Errorf("%s %q has a character outside its set", what, s)
	}
	return nil
}

func isRepoChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./", r)
}

func isTagChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.", r)
}

// checkDigest checks algorithm:hex for the algorithms an image uses.
func checkDigest(d string) error {
	alg, hex, _ := strings.Cut(d, ":")
	size := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if size == 0 {
		return fmt.Errorf("digest %q: want sha256, sha384 or sha512", d)
	}
	if len(hex) != size || strings.IndexFunc(hex, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) >= 0 {
		return fmt.Errorf("digest %q: want %d lower-case hex digits", d, size)
	}
	return nil
}
