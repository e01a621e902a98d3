//go:build linux

package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/podkit/podkit/internal/testharness"
)

// One image as an OCI layout directory, an OCI archive and a docker save
// tarball loads to one image ID with each source's names.
func TestLoad(t *testing.T) {
	testharness.Privileged(t)
	img := buildImage(t, v1.Config{Cmd: []string{"sh"}}, busyboxLayer(t), layerOf(t, entry{name: "hello", body: "hi"}))
	dir := t.TempDir()
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	must(t, err)
	must(t, lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example.com/app:layout"})))
	archive := filepath.Join(dir, "app-oci.tar")
	must(t, tarDir(filepath.Join(dir, "layout"), archive))
	docker := filepath.Join(dir, "app-docker.tar")
	must(t, dockerSave(docker, "example.com/app:docker", img))

	s := openStore(t, nil)
	ctx := context.Background()
	for _, c := range []struct{ path, tag, want string }{
		{filepath.Join(dir, "layout"), "", "example.com/app:layout"},
		{archive, "example.com/app:archive", "example.com/app:archive"},
		{docker, "", "example.com/app:docker"},
	} {
		got, err := s.Load(ctx, c.path, c.tag)
		must(t, err)
		if len(got) != 1 || got[0].ID != imageID(t, img) || !slices.Contains(got[0].RepoTags, c.want) {
			t.Fatalf("Load(%s) = %+v, want %s named %s", c.path, got, imageID(t, img), c.want)
		}
	}
	list, err := s.List()
	must(t, err)
	if len(list) != 1 || len(list[0].RepoTags) != 3 {
		t.Fatalf("List %+v, want one image with three names", list)
	}
	if n := len(dirNames(t, filepath.Join(s.Root(), "layers/sha256"))); n != 2 {
		t.Fatalf("%d unpacked layers, want 2", n)
	}
	r, err := s.CreateRootfs("loaded", "example.com/app:docker")
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("loaded") })
	if out, err := chrootRun(r.Dir, "cat /hello"); err != nil || out != "hi" {
		t.Fatalf("run in a loaded image: %q %v", out, err)
	}
	must(t, s.RemoveRootfs("loaded"))

	// Not an image archive; a missing path; a tag for a bad reference.
	junk := filepath.Join(dir, "junk.tar")
	must(t, os.WriteFile(junk, []byte("junk"), 0o644))
	_, err = s.Load(ctx, junk, "")
	requireErr(t, err, ErrCorruptLayer, "load", junk)
	_, err = s.Load(ctx, filepath.Join(dir, "missing"), "")
	requireErr(t, err, ErrNotFound, "load", filepath.Join(dir, "missing"))
	_, err = s.Load(ctx, docker, "Bad::Tag")
	requireErr(t, err, ErrBadReference, "load", "Bad::Tag")
	for _, n := range []string{"example.com/app:layout", "example.com/app:archive", "example.com/app:docker"} {
		must(t, s.Remove(n))
	}
	_, err = s.GC()
	must(t, err)
	requireEmptyStore(t, s)
}

// dockerSave writes img the way `docker save` (before Docker 25) does:
// manifest.json, the config, and uncompressed <n>/layer.tar files.
func dockerSave(dst, tag string, img v1.Image) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	m := tarball.Manifest{{Config: cfgName.Hex + ".json", RepoTags: []string{tag}}}
	if err := add(m[0].Config, rawCfg); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		m[0].Layers = append(m[0].Layers, fmt.Sprintf("%d/layer.tar", i))
		if err := add(m[0].Layers[i], data); err != nil {
			return err
		}
	}
	mj, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := add("manifest.json", mj); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// tarDir writes the files under dir to a tar at dst (an OCI archive when
// dir is a layout).
func tarDir(dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name, _ = filepath.Rel(dir, p)
		if err := tw.WriteHeader(h); err != nil || d.IsDir() {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
