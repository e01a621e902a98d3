//go:build linux

package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/podkit/podkit/examples/internal/imageref"
)

// Platform is the platform pulls pick from multi-arch indexes: this
// machine's.
func Platform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	switch runtime.GOARCH {
	case "arm64":
		p.Variant = "v8"
	case "arm":
		p.Variant = "v7"
	}
	return p
}

// Pull fetches ref (e.g. "registry.k8s.io/pause:3.9", "busybox",
// "repo@sha256:...") through the configured mirrors or its registry,
// with credentials from the Docker config file, and stores it under ref's
// canonical name. A multi-arch index resolves to Platform(). Pulling an
// image the store has already fetches only its manifest and config.
func (s *Store) Pull(ctx context.Context, ref string) (*Image, error) {
	ir, r, err := parseRef(ref)
	if err != nil {
		return nil, &Error{Op: "pull", Ref: ref, Err: err}
	}
	eps, err := s.endpoints(ir.Registry, r)
	if err != nil {
		return nil, &Error{Op: "pull", Ref: ref, Err: err}
	}
	var errs []error
	for _, ep := range eps {
		img, err := s.pullFrom(ctx, ir, ep)
		if err == nil {
			return img, nil
		}
		if ctx.Err() != nil || !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrRegistry) {
			return nil, &Error{Op: "pull", Ref: ref, Err: err} // bad content: do not try elsewhere
		}
		errs = append(errs, err)
	}
	return nil, &Error{Op: "pull", Ref: ref, Err: pullError(errs)}
}

// pullError sums up every endpoint's failure: ErrNotFound only when every
// endpoint said so.
func pullError(errs []error) error {
	all := errors.Join(errs...)
	for _, e := range errs {
		if !errors.Is(e, ErrNotFound) {
			return fmt.Errorf("%w: %v", ErrRegistry, all)
		}
	}
	return all
}

func (s *Store) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(Platform()),
		remote.WithTransport(s.transport()),
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 3}),
	}
}

func (s *Store) pullFrom(ctx context.Context, ir imageref.Ref, ep endpoint) (*Image, error) {
	desc, err := remote.Get(ep.ref, s.remoteOptions(ctx)...)
	if err != nil {
		return nil, classifyRemote(ep, err)
	}
	img, err := desc.Image()
	if err != nil {
		if desc.MediaType.IsIndex() {
			return nil, fmt.Errorf("%w: %s: no image for %s: %v", ErrUnsupported, ep.desc, Platform(), err)
		}
		return nil, classifyRemote(ep, err)
	}
	var tags []string
	if ir.Digest == "" {
		tags = []string{ir.Name()}
	}
	digests := []string{imageref.Ref{Registry: ir.Registry, Repository: ir.Repository, Digest: desc.Digest.String()}.Name()}
	rec, err := s.ingest(ctx, fromRegistry, img, tags, digests)
	if err != nil {
		return nil, fmt.Errorf("from %s: %w", ep.desc, err)
	}
	return rec, nil
}

// classifyRemote maps a go-containerregistry error to a sentinel.
func classifyRemote(ep endpoint, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s: %v", ErrNotFound, ep.desc, err)
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return fmt.Errorf("%w: %s: %v", ErrNotFound, ep.desc, err)
			}
		}
	}
	return fromRegistry.readErr(fmt.Errorf("%s: %w", ep.desc, err))
}
