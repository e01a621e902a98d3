//go:build linux

package criserver_test

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/podkit/podkit/examples/internal/testutil"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// serveImages starts a registry on 127.0.0.1 with image repo:tag for each
// entry of users (the image's USER), and returns its URL.
func serveImages(t *testing.T, users map[string]string) string {
	t.Helper()
	reg := testutil.StartRegistry(t)
	for ref, user := range users {
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.Config(img, v1.Config{User: user, Cmd: []string{"sh"}})
		if err != nil {
			t.Fatal(err)
		}
		reg.Push(t, ref, img)
	}
	return reg.URL()
}

// TestImageService pulls through the mirror under public names, and
// checks status, list, user reporting, removal and ImageFsInfo.
func TestImageService(t *testing.T) {
	url := serveImages(t, map[string]string{"team/app:1": "1002", "team/web:2": "www-data:1004"})
	h := startWithMirror(t, url)
	c := ctx(t)
	pulled := map[string]string{}
	for _, ref := range []string{"registry.example/team/app:1", "registry.example/team/web:2"} {
		resp, err := h.img.PullImage(c, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil {
			t.Fatalf("PullImage %s: %v", ref, err)
		}
		pulled[ref] = resp.ImageRef
	}
	st, err := h.img.ImageStatus(c, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "registry.example/team/app:1"}})
	if err != nil || st.Image == nil || st.Image.Id != pulled["registry.example/team/app:1"] ||
		st.Image.Uid.GetValue() != 1002 || st.Image.Size == 0 || len(st.Image.RepoTags) != 1 {
		t.Errorf("ImageStatus app = %v, %v", st, err)
	}
	st, err = h.img.ImageStatus(c, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: pulled["registry.example/team/web:2"]}})
	if err != nil || st.Image == nil || st.Image.Username != "www-data" || st.Image.Uid != nil {
		t.Errorf("ImageStatus web by id = %v, %v", st, err)
	}
	list, err := h.img.ListImages(c, &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.Images) != 2 {
		t.Errorf("ListImages = %v, %v", list, err)
	}
	fs, err := h.img.ImageFsInfo(c, &runtimeapi.ImageFsInfoRequest{})
	if err != nil || fs.ImageFilesystems[0].UsedBytes.GetValue() == 0 {
		t.Errorf("ImageFsInfo = %v, %v", fs, err)
	}
	// A second tag of the same image: removing by one tag removes both.
	if _, err := h.img.PullImage(c, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "other.example/team/app:1"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if _, err := h.img.RemoveImage(c, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: "registry.example/team/app:1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := h.img.ImageStatus(c, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "other.example/team/app:1"}}); err != nil || st.Image != nil {
		t.Errorf("the other tag after RemoveImage by one tag: %v, %v; want the image gone", st, err)
	}
	st, err = h.img.ImageStatus(c, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "registry.example/team/app:1"}})
	if err != nil || st.Image != nil {
		t.Errorf("ImageStatus after remove = %v, %v; want no image", st, err)
	}
	if _, err := h.img.PullImage(c, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "registry.example/team/none:1"}}); err == nil {
		t.Error("pulling an image the registry lacks succeeded")
	}
}
