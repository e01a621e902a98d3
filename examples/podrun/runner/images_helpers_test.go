//go:build linux

package runner

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/cgroups"
	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

func init() {
	// Process-wide handles that libcontainer, pathrs and nsjoin open
	// lazily and keep: open them before any leak snapshot.
	_, _ = cgroups.ReadFile("/sys/fs/cgroup/pids", "cgroup.procs")
	_, _ = procfs.OpenProcRoot()
	_ = nsjoin.Prepare()
}

const imageTestCgroupParent = "podkit-podrun-image-test"

// imageEnv is a privileged podrun run with its own run, log and image
// store directories and a registry on 127.0.0.1 that mirrors every
// registry (nothing leaves the machine).
type imageEnv struct {
	runDir, logDir, store string
	reg                   string // host:port
}

func newImageEnv(t *testing.T) *imageEnv {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	useImageHelper(t)
	dir := t.TempDir()
	t.Cleanup(func() { removeTestParent(imageTestCgroupParent) })
	e := &imageEnv{runDir: filepath.Join(dir, "run"), logDir: filepath.Join(dir, "logs"), store: filepath.Join(dir, "store")}
	e.reg = startTestRegistry(t, nil)
	return e
}

// storeArgs are the image store flags of the environment.
func (e *imageEnv) storeArgs() []string {
	return []string{"--image-dir", e.store, "--registry-mirror", "*=http://" + e.reg, "--mirrors-only"}
}

func (e *imageEnv) args(extra ...string) []string {
	a := append([]string{"--run-dir", e.runDir, "--log-dir", e.logDir, "--cgroup-parent", imageTestCgroupParent, "--backoff", "1s",
		"--no-network"}, e.storeArgs()...)
	return append(a, extra...)
}

// startTestRegistry serves go-containerregistry's registry on 127.0.0.1;
// wrap, when set, wraps its handler.
func startTestRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// push writes img to the registry at host as repo:tag.
func push(t *testing.T, host, repoTag string, img v1.Image) {
	t.Helper()
	ref, err := name.ParseReference(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
}

// tarEntry is one file of a test layer: a directory, a symlink, or a
// regular file with data.
type tarEntry struct {
	name, link string
	data       []byte
	mode       int64
	dir        bool
}

func testLayer(t *testing.T, entries ...tarEntry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: max(e.mode, 0o644), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		switch {
		case e.dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, max(e.mode, 0o755), 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode, h.Size = tar.TypeSymlink, e.link, 0o777, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// busyboxImage is two layers: Debian's busybox-static with its applets,
// users and a motd, then an app directory; run as www-data in /srv/app
// with an ENTRYPOINT of sh -c.
func busyboxImage(t *testing.T) v1.Image {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("need Debian's busybox-static (integration/install-deps.sh installs it): %v", err)
	}
	base := []tarEntry{{name: "bin", dir: true}, {name: "bin/busybox", data: bb, mode: 0o755}}
	for _, applet := range []string{"sh", "id", "cat", "touch", "sleep", "ls", "rm", "wc"} {
		base = append(base, tarEntry{name: "bin/" + applet, link: "busybox"})
	}
	base = append(base,
		tarEntry{name: "etc", dir: true},
		tarEntry{name: "etc/passwd", data: []byte("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n")},
		tarEntry{name: "etc/group", data: []byte("root:x:0:\nwww-data:x:33:\nstaff:x:50:www-data\n")},
		tarEntry{name: "etc/motd", data: []byte("hello from the image\n")},
		tarEntry{name: "tmp", dir: true, mode: 0o1777})
	app := testLayer(t, tarEntry{name: "srv", dir: true}, tarEntry{name: "srv/app", dir: true},
		tarEntry{name: "srv/app/hello.txt", data: []byte("layer two\n")})
	img, err := mutate.AppendLayers(empty.Image, testLayer(t, base...), app)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", image.Platform().Architecture
	cf.Config = v1.Config{Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo default command"},
		Env: []string{"PATH=/bin", "FROM_IMAGE=yes", "OVERRIDE=image"}, WorkingDir: "/srv/app", User: "www-data"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// statusRec is podrun's JSON status or event record, with the containers.
type statusRec struct {
	Type       string `json:"type"`
	Phase      string `json:"phase"`
	Container  string `json:"container"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
	Log        string `json:"log"`
	Containers []struct {
		Name    string `json:"name"`
		ImageID string `json:"imageID"`
	} `json:"containers"`
}

// runPodrun runs podrun in-process with --json; onRecord sees every
// record as it comes. It returns the exit code, the records and stderr.
func runPodrun(t *testing.T, args []string, onRecord func(statusRec)) (int, []statusRec, string) {
	t.Helper()
	return runPodrunSigs(t, args, nil, onRecord)
}

// runPodrunSigs is runPodrun with a signal channel (Ctrl-C).
func runPodrunSigs(t *testing.T, args []string, sigs <-chan os.Signal, onRecord func(statusRec)) (int, []statusRec, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	codec := make(chan int, 1)
	go func() {
		codec <- Main(ctx, append([]string{"--json"}, args...), pw, &stderr, sigs)
		pw.Close()
	}()
	var recs []statusRec
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r statusRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Errorf("not a JSON line: %q", sc.Text())
			continue
		}
		recs = append(recs, r)
		if onRecord != nil {
			onRecord(r)
		}
	}
	return <-codec, recs, stderr.String()
}

// images runs `podrun images ARGS` and returns its exit code and output.
func images(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	useImageHelper(t)
	var stdout, stderr strings.Builder
	code := Main(context.Background(), append([]string{"images"}, args...), &stdout, &stderr, nil)
	return code, stdout.String(), stderr.String()
}

// useImageHelper has podrun run the podkit-image of these sources.
func useImageHelper(t *testing.T) {
	t.Helper()
	if os.Getenv(exkit.ImageHelperEnv) == "" {
		t.Setenv(exkit.ImageHelperEnv, testharness.BuildProgram(t, "github.com/podkit/podkit/examples/podkit-image"))
	}
}

// storeEntries lists what the store's directories hold.
func storeEntries(t *testing.T, store string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "images", "rootfs", "tmp"} {
		ents, err := os.ReadDir(filepath.Join(store, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			out[d] = append(out[d], e.Name())
		}
	}
	return out
}

func writeManifest(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
