//go:build linux

package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/internal/imagestore"
	"github.com/podkit/podkit/examples/podrun/manifest"
)

// ErrImageNeverPull: the image is not in the store and its
// imagePullPolicy is Never (Kubernetes' ErrImageNeverPull).
var ErrImageNeverPull = errors.New("image not present with pull policy Never")

// ImageError is a container image podrun could not provide: a bad
// reference, an image missing from the store or the registry, a failed
// pull, or an image config the container cannot run with. errors.Is finds
// manifest.ErrImage and the cause (ErrImageNeverPull, imagestore.ErrNotFound,
// imagestore.ErrRegistry, ...); errors.As finds the *imagestore.Error.
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
// `podrun images` (podkit-image takes the same).
type ImageOptions = imagestore.StoreFlags

// openStore opens the image store the flags name, to read it; its
// registry settings are checked here, before anything is created, though
// only podkit-image's pulls use them.
func openStore(o *ImageOptions) (*imagestore.Store, error) {
	return imagestore.Open(o.Options())
}

// pullImage has podkit-image pull ref (a canonical name) into the store
// with the flags' mirrors, showing its progress on stderr when stderr is a
// terminal and the output is not JSON, and returns the image's ID. Its
// error wraps the imagestore sentinel podkit-image named.
func (r *podRun) pullImage(ctx context.Context, ref string) (string, error) {
	cmd, err := imageHelper(ctx, r.out.stderr, append(r.o.Images.Args(), "pull", "--json", ref)...)
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if f, ok := r.out.stderr.(*os.File); ok && !r.o.JSON {
		cmd.Stderr = f // a terminal gets the progress
	}
	runErr := cmd.Run()
	var res imagestore.PullResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%s pull: %v: %s", exkit.ImageHelperName, runErr, bytes.TrimSpace(stderr.Bytes()))
	}
	if res.Error != "" {
		if sentinel := imagestore.KindError(res.Kind); sentinel != nil {
			return "", &imagestore.Error{Op: "pull", Ref: ref, Err: fmt.Errorf("%w: %s", sentinel, res.Error)}
		}
		return "", &imagestore.Error{Op: "pull", Ref: ref, Err: errors.New(res.Error)}
	}
	return res.ID, nil
}
