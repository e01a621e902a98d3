//go:build linux

package image

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
)

// parseRef parses an image reference the way Docker and the CRI do: a bare
// name gets docker.io, library/ and :latest.
func parseRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	return r, nil
}

// registryName is the registry as images name it (docker.io, not the
// index.docker.io go-containerregistry talks to).
func registryName(r name.Reference) string {
	if reg := r.Context().RegistryStr(); reg != name.DefaultRegistry {
		return reg
	}
	return "docker.io"
}

// repoName is registry/repository, e.g. docker.io/library/busybox.
func repoName(r name.Reference) string {
	return registryName(r) + "/" + r.Context().RepositoryStr()
}

// canonical is the stored form of a reference: repo:tag or repo@digest.
func canonical(r name.Reference) string {
	if d, ok := r.(name.Digest); ok {
		return repoName(r) + "@" + d.DigestStr()
	}
	return repoName(r) + ":" + r.Identifier()
}

// normalize parses ref and returns its canonical form.
func normalize(ref string) (string, error) {
	r, err := parseRef(ref)
	if err != nil {
		return "", err
	}
	return canonical(r), nil
}
