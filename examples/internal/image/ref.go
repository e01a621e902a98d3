//go:build linux

package image

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/podkit/podkit/examples/internal/imageref"
)

// parseRef parses an image reference the way Docker and the CRI do (a bare
// name gets docker.io, library/ and :latest): as the store names it
// (imageref, which imagestore looks names up with) and, from that name, as
// go-containerregistry's client reaches it.
func parseRef(ref string) (imageref.Ref, name.Reference, error) {
	ir, err := imageref.Parse(ref)
	if err != nil {
		return ir, nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	r, err := name.ParseReference(ir.Name())
	if err != nil {
		return ir, nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	return ir, r, nil
}

// normalize parses ref and returns its canonical form.
func normalize(ref string) (string, error) {
	ir, err := imageref.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	return ir.Name(), nil
}
