//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/internal/imagestore"
	"github.com/podkit/podkit/examples/podrun/manifest"
)

// A missing image with imagePullPolicy Never is an *ImageError naming the
// field, matching ErrImageNeverPull, manifest.ErrImage and the store's
// *image.Error (ErrNotFound).
func TestImageErrorTypes(t *testing.T) {
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n    imagePullPolicy: Never\n"
	r := imagePodRun(t, doc, ImageOptions{Dir: filepath.Join(t.TempDir(), "store")})
	err := r.pullImages(context.Background())
	r.images.close()
	var ie *ImageError
	var se *image.Error
	if !errors.As(err, &ie) || ie.Field != "spec.containers[0].image" || ie.Image != "busybox:1" {
		t.Fatalf("not an *ImageError for the field: %#v", err)
	}
	for _, target := range []error{ErrImageNeverPull, manifest.ErrImage, image.ErrNotFound} {
		if !errors.Is(err, target) {
			t.Errorf("%v is not %v", err, target)
		}
	}
	if !errors.As(err, &se) {
		t.Errorf("no *image.Error in %v", err)
	}
}

// A pull that podkit-image fails is an *ImageError whose cause is the
// sentinel podkit-image named (ErrNotFound: no registry has the image),
// in an *imagestore.Error of the pull.
func TestImagePullErrorTypes(t *testing.T) {
	e := newImageEnv(t)
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: registry.example.com/nope/nothing:1\n"
	r := imagePodRun(t, doc, ImageOptions{Dir: e.store, Mirrors: []string{"*=http://" + e.reg}, MirrorsOnly: true})
	err := r.pullImages(context.Background())
	r.images.close()
	var ie *ImageError
	var se *imagestore.Error
	if !errors.As(err, &ie) || ie.Field != "spec.containers[0].image" {
		t.Fatalf("not an *ImageError for the field: %#v", err)
	}
	if !errors.Is(err, imagestore.ErrNotFound) || errors.Is(err, imagestore.ErrRegistry) || !errors.As(err, &se) || se.Op != "pull" {
		t.Errorf("%v: want an *imagestore.Error of the pull wrapping ErrNotFound", err)
	}
}

// The registry settings are checked when podrun opens the store, before
// anything is created, even for a pod whose image needs no pull.
func TestImageStoreFlagsChecked(t *testing.T) {
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n    imagePullPolicy: Never\n"
	r := imagePodRun(t, doc, ImageOptions{Dir: filepath.Join(t.TempDir(), "store"), Mirrors: []string{"docker.io=ftp://mirror"}})
	if err := r.pullImages(context.Background()); !errors.Is(err, imagestore.ErrBadConfig) || r.images != nil {
		t.Fatalf("a mirror that is no http(s) URL: %v", err)
	}
}

// imagePodRun is a podRun of the pod doc with the image flags images, as
// far as pulling its images goes.
func imagePodRun(t *testing.T, doc string, images ImageOptions) *podRun {
	t.Helper()
	pod, err := manifest.Parse([]byte(doc), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return &podRun{o: &Options{RunDir: t.TempDir(), Images: images}, pod: pod, out: newPrinter(&out, &out, true, "p")}
}
