//go:build linux

package image

import (
	"net/http"

	"github.com/podkit/podkit/examples/internal/imagestore"
)

// The store's types and errors, as this package's: a program that pulls
// sees one API.
type (
	Options   = imagestore.Options
	Registry  = imagestore.Registry
	Image     = imagestore.Image
	Layer     = imagestore.Layer
	Rootfs    = imagestore.Rootfs
	Container = imagestore.Container
	Process   = imagestore.Process
	Error     = imagestore.Error
	GCResult  = imagestore.GCResult
	Usage     = imagestore.Usage
)

// DefaultRoot is where the store lives unless Options.Root says otherwise.
const DefaultRoot = imagestore.DefaultRoot

// The sentinel errors (see package imagestore).
var (
	ErrNotFound       = imagestore.ErrNotFound
	ErrBadReference   = imagestore.ErrBadReference
	ErrDigestMismatch = imagestore.ErrDigestMismatch
	ErrCorruptLayer   = imagestore.ErrCorruptLayer
	ErrUnsafeLayer    = imagestore.ErrUnsafeLayer
	ErrRegistry       = imagestore.ErrRegistry
	ErrUnsupported    = imagestore.ErrUnsupported
	ErrBadConfig      = imagestore.ErrBadConfig
	ErrUnknownUser    = imagestore.ErrUnknownUser
	ErrRootfs         = imagestore.ErrRootfs
)

// Store is an image store (package imagestore: list, status, container
// roots, GC) that also pulls and loads images.
type Store struct {
	*imagestore.Store
	tr *http.Transport
}

// Open opens (creating if needed) the store at opts.Root.
func Open(opts Options) (*Store, error) {
	st, err := imagestore.Open(opts)
	if err != nil {
		return nil, err
	}
	return &Store{Store: st, tr: newTransport()}, nil
}

// Close drops the store's idle registry connections. The store stays usable.
func (s *Store) Close() { s.tr.CloseIdleConnections() }
