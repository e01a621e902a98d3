//go:build linux

package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/podkit/podkit/examples/internal/image"
)

// twoContainers runs two containers of one image: a with the image's
// ENTRYPOINT and its own args, b with its own command, failing its first
// run. Both write /tmp/owner in their own rootfs and meet in an emptyDir
// mounted at a path the image lacks.
const twoContainers = `apiVersion: v1
kind: Pod
metadata: {name: imgpod}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 2
  volumes:
  - {name: sync, emptyDir: {}}
  containers:
  - name: a
    image: busybox:1.36
    args:
    - |
      echo "user $(id -u):$(id -g) groups $(id -G) cwd $(pwd) motd $(cat /etc/motd) two $(cat hello.txt) env $FROM_IMAGE $OVERRIDE"
      echo a > /tmp/owner; touch /deep/sync/a
      while [ ! -e /deep/sync/b ]; do sleep 0.1; done
      echo "owner $(cat /tmp/owner)"
    env: [{name: OVERRIDE, value: pod}]
    volumeMounts: [{name: sync, mountPath: /deep/sync}]
  - name: b
    image: docker.io/library/busybox:1.36
    command: [/bin/sh, -c]
    args:
    - |
      n=$(cat /deep/sync/runs 2>/dev/null || echo 0); echo $((n+1)) > /deep/sync/runs
      if [ -e /tmp/owner ]; then echo "stale owner $(cat /tmp/owner)"; fi
      echo b > /tmp/owner
      if [ "$n" = 0 ]; then echo "first run fails"; exit 3; fi
      touch /deep/sync/b
      while [ ! -e /deep/sync/a ]; do sleep 0.1; done
      echo "owner $(cat /tmp/owner) run $((n+1))"
    volumeMounts: [{name: sync, mountPath: /deep/sync}]
`

// TestPodrunStoreImage pulls an image through the mirror setting under a
// public-looking name and runs a pod of two containers from it: the
// image's files, user, working directory, env and entrypoint are there,
// each container's writes stay in its own rootfs (also across a restart,
// which gets a fresh one and removes the old), the status names the
// image ID; then removing the image and GC leave an empty store, and the
// leak check finds no mount left.
func TestPodrunStoreImage(t *testing.T) {
	e := newImageEnv(t)
	img := busyboxImage(t)
	push(t, e.reg, "library/busybox:1.36", img)
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	id := cfgName.String()

	var oldRootfsAtRestart []string
	restarts := 0
	code, recs, stderr := runPodrun(t, e.args(writeManifest(t, twoContainers)), func(r statusRec) {
		if r.Type == "event" && r.Reason == "Restarted" && r.Container == "b" {
			restarts++
			ents, _ := os.ReadDir(filepath.Join(e.store, "rootfs"))
			for _, d := range ents {
				if strings.HasSuffix(d.Name(), "-b-0") {
					oldRootfsAtRestart = append(oldRootfsAtRestart, d.Name())
				}
			}
		}
	})
	if code != ExitSucceeded {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if restarts != 1 {
		t.Errorf("%d restarts of b, want 1", restarts)
	}
	if len(oldRootfsAtRestart) > 0 {
		t.Errorf("b's first rootfs still there after its restart: %v", oldRootfsAtRestart)
	}
	pulls, imageIDs := 0, map[string]string{}
	for _, r := range recs {
		if r.Type == "event" && r.Reason == "Pulling" {
			pulls++
		}
		for _, c := range r.Containers {
			imageIDs[c.Name] = c.ImageID
		}
	}
	if pulls != 1 {
		t.Errorf("%d pulls of the one image, want 1", pulls)
	}
	if imageIDs["a"] != id || imageIDs["b"] != id {
		t.Errorf("status imageIDs %v, want %s", imageIDs, id)
	}
	logs := filepath.Join(e.logDir, "default_imgpod")
	a := readLog(t, filepath.Join(logs, "a", "0.log"))
	for _, want := range []string{"user 33:33 groups 33 50 cwd /srv/app motd hello from the image two layer two env yes pod", "owner a"} {
		if !strings.Contains(a, want) {
			t.Errorf("a's log lacks %q:\n%s", want, a)
		}
	}
	b0, b1 := readLog(t, filepath.Join(logs, "b", "0.log")), readLog(t, filepath.Join(logs, "b", "1.log"))
	if strings.Contains(b0+b1, "stale owner") {
		t.Errorf("b saw a /tmp/owner it did not write in this run:\n%s%s", b0, b1)
	}
	if !strings.Contains(b0, "first run fails") || !strings.Contains(b1, "owner b run 2") {
		t.Errorf("b's runs: %q, %q", b0, b1)
	}
	st := storeEntries(t, e.store)
	if len(st["rootfs"]) != 0 {
		t.Errorf("rootfs left after the pod: %v", st["rootfs"])
	}
	if len(st["layers/sha256"]) != 2 {
		t.Errorf("unpacked layers %v, want the image's two, once", st["layers/sha256"])
	}

	code, out, errOut := images(t, append(e.storeArgs(), "list")...)
	if code != 0 || !strings.Contains(out, id[7:19]) || !strings.Contains(out, "docker.io/library/busybox:1.36") {
		t.Fatalf("images list: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := images(t, "--image-dir", e.store, "rm", "busybox:1.36"); code != 0 {
		t.Fatalf("images rm: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := images(t, "gc", "--image-dir", e.store); code != 0 || !strings.Contains(out, "removed 4 blobs, 2 unpacked layers") {
		t.Fatalf("images gc: %d %q %q", code, out, errOut)
	}
	for d, names := range storeEntries(t, e.store) {
		if len(names) > 0 {
			t.Errorf("store %s not empty: %v", d, names)
		}
	}
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPodrunImageBadInput: an image missing with imagePullPolicy Never,
// an image no registry has, a bad reference, a store image whose user
// breaks runAsNonRoot, an image without a command and one with an
// unknown USER all exit with ExitUsage, name the field, and leave
// no sandbox, rootfs or mount behind.
func TestPodrunImageBadInput(t *testing.T) {
	e := newImageEnv(t)
	bb := busyboxImage(t)
	push(t, e.reg, "library/busybox:1.36", bb)
	odd, err := mutate.Config(bb, v1.Config{User: "ghost", Env: []string{"PATH=/bin"}}) // no command, unknown user
	if err != nil {
		t.Fatal(err)
	}
	push(t, e.reg, "library/odd:1", odd)
	pod := func(image, extra string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - name: c\n    image: " + image + "\n" + extra
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"never pulled", pod("busybox:9.9", "    imagePullPolicy: Never\n"),
			[]string{"spec.containers[0].image", `"busybox:9.9"`, "pull policy Never"}},
		{"unknown image", pod("registry.example.com/nope/nothing:1", ""),
			[]string{"spec.containers[0].image", "image not found"}},
		{"bad reference", pod(`"Bad Ref"`, ""),
			[]string{"spec.containers[0].image", "not a valid image reference"}},
		{"root image user", pod("busybox:1.36", "    securityContext: {runAsUser: 0, runAsNonRoot: true}\n"),
			[]string{"spec.containers[0].image", "runAsNonRoot"}},
		{"no command", pod("odd:1", ""), []string{"spec.containers[0].image", "names a command"}},
		{"unknown user", pod("odd:1", "    command: [/bin/sh]\n"), []string{"spec.containers[0].image", `no user "ghost"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runPodrun(t, e.args(writeManifest(t, tc.doc)), nil)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if ents, _ := os.ReadDir(filepath.Join(e.runDir, "bad")); len(ents) > 0 {
				t.Errorf("sandbox left in the run dir")
			}
			if ents, _ := os.ReadDir(filepath.Join(e.store, "rootfs")); len(ents) > 0 {
				t.Errorf("rootfs left: %v", ents)
			}
		})
	}
}

// TestPodrunImageLoadNever loads a docker save tarball with podrun
// images, runs it with imagePullPolicy Never (no registry involved) where
// a crashed run left a rootfs mounted,
// pulls with stderr not a terminal (no progress output), and cleans up.
func TestPodrunImageLoadNever(t *testing.T) {
	e := newImageEnv(t)
	img := busyboxImage(t)
	archive := filepath.Join(t.TempDir(), "app.tar")
	tag, err := name.NewTag("example.org/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := images(t, "--image-dir", e.store, "load", archive); code != 0 || !strings.Contains(out, "example.org/app:v1") {
		t.Fatalf("images load: %d %q %q", code, out, errOut)
	}
	// A rootfs a crashed run of this pod left mounted: the next run
	// removes it (and would otherwise fail to create its own).
	st, err := image.Open(image.Options{Root: e.store})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateRootfs(rootfsPrefix(e.runDir, "loaded")+"c-0", "example.org/app:v1"); err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: v1
kind: Pod
metadata: {name: loaded}
spec:
  restartPolicy: Never
  securityContext: {supplementalGroups: [4242]}
  containers:
  - name: c
    image: example.org/app:v1
    imagePullPolicy: Never
    securityContext: {runAsGroup: 50}
    args: ["test \"$(cat /etc/motd)\" = 'hello from the image' && test \"$(id -u):$(id -g):$(id -G)\" = '33:50:50 4242'"]
`
	if code, _, stderr := runPodrun(t, e.args(writeManifest(t, doc)), nil); code != ExitSucceeded {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	push(t, e.reg, "library/busybox:1.36", img)
	code, out, errOut := images(t, append(e.storeArgs(), "pull", "busybox:1.36")...)
	if code != 0 || errOut != "" || !strings.Contains(out, "busybox:1.36") {
		t.Fatalf("images pull: %d %q, stderr %q (want none: not a terminal)", code, out, errOut)
	}
	if code, out, errOut := images(t, "--image-dir", e.store, "list", "--json"); code != 0 || !strings.Contains(out, `"repoTags":["docker.io/library/busybox:1.36","example.org/app:v1"]`) {
		t.Fatalf("images list --json: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := images(t, "--image-dir", e.store, "rm", "nothing:1"); code != ExitUsage || !strings.Contains(errOut, "image not found") {
		t.Fatalf("images rm of a missing image: %d %q", code, errOut)
	}
	list, err := st.List()
	if err != nil || len(list) != 1 || len(list[0].RepoTags) != 2 {
		t.Fatalf("one image with two tags expected: %+v %v", list, err)
	}
	for _, ref := range []string{"example.org/app:v1", "busybox:1.36"} {
		if err := st.Remove(ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Status(list[0].ID); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("image still there: %v", err)
	}
	if _, err := st.GC(); err != nil {
		t.Fatal(err)
	}
	for d, names := range storeEntries(t, e.store) {
		if len(names) > 0 {
			t.Errorf("store %s not empty: %v", d, names)
		}
	}
}

// TestPodrunBusyboxExample runs pods/busybox.yaml with its image pulled
// from the test registry under docker.io's name.
func TestPodrunBusyboxExample(t *testing.T) {
	e := newImageEnv(t)
	push(t, e.reg, "library/busybox:1.36", busyboxImage(t))
	code, _, stderr := runPodrun(t, e.args("../pods/busybox.yaml"), nil)
	if code != ExitSucceeded {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	logs := filepath.Join(e.logDir, "default_busybox")
	if w := readLog(t, filepath.Join(logs, "writer", "0.log")); !strings.Contains(w, "writer: my /tmp/me says writer") {
		t.Errorf("writer: %s", w)
	}
	if r := readLog(t, filepath.Join(logs, "reader", "0.log")); !strings.Contains(r, "reader: got 3 messages; my /tmp/me says reader") {
		t.Errorf("reader: %s", r)
	}
}

// TestPodrunImagePullAlways: an image without a tag (:latest) is pulled
// on every run (Always); a new image under the tag replaces the old one,
// and only its changed content (the config) is fetched.
func TestPodrunImagePullAlways(t *testing.T) {
	e := newImageEnv(t)
	first := busyboxImage(t)
	second, err := mutate.Config(first, v1.Config{Entrypoint: []string{"/bin/sh", "-c"}, Env: []string{"PATH=/bin", "VERSION=2"}, User: "www-data"})
	if err != nil {
		t.Fatal(err)
	}
	doc := writeManifest(t, `apiVersion: v1
kind: Pod
metadata: {name: always}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    args: ["echo version ${VERSION:-1}"]
`)
	for i, img := range []v1.Image{first, second} {
		push(t, e.reg, "library/busybox:latest", img)
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		code, recs, stderr := runPodrun(t, e.args(doc), nil)
		if code != ExitSucceeded {
			t.Fatalf("run %d: exit %d; stderr:\n%s", i, code, stderr)
		}
		got := ""
		for _, r := range recs {
			for _, c := range r.Containers {
				got = c.ImageID
			}
		}
		if got != id.String() {
			t.Fatalf("run %d: imageID %s, want %s", i, got, id)
		}
	}
	st := storeEntries(t, e.store)
	if len(st["images"]) != 1 || len(st["layers/sha256"]) != 2 || len(st["blobs/sha256"]) != 6 {
		t.Fatalf("store after the second pull: %v (want the new image only, the layers once, both manifests and configs and the 2 layers until gc)", st)
	}
}
