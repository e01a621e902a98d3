package criimages_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/podkit/podkit/integration/criimages"
	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func standin(t *testing.T) string {
	t.Helper()
	return testharness.BuildStatic(t, criimages.StandinPackage)
}

// applet runs standin as applet name (a symlink named after it).
func applet(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(standin(t), link); err != nil {
		t.Fatal(err)
	}
	return exec.Command(link, args...)
}

func TestStandinTools(t *testing.T) {
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	out, err := applet(t, "pgrep", "^sleep$").Output()
	if err != nil || !strings.Contains(string(out), itoa(sleeper.Process.Pid)) {
		t.Errorf("pgrep ^sleep$ = %q, %v; want pid %d listed", out, err, sleeper.Process.Pid)
	}
	err = applet(t, "pgrep", "no-such-process-name").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("pgrep of nothing: %v, want exit 1", err)
	}
	out, err = applet(t, "ipcs", "-m").Output()
	if err != nil || !strings.Contains(string(out), "------ Shared Memory Segments --------") {
		t.Errorf("ipcs -m = %q, %v", out, err)
	}
	out, err = applet(t, "nonewprivs").Output()
	if want := "Effective uid: " + itoa(os.Geteuid()) + "\n"; err != nil || string(out) != want {
		t.Errorf("nonewprivs = %q, %v; want %q", out, err, want)
	}
}

func TestStandinServers(t *testing.T) {
	for _, tc := range []struct{ applet, env, page string }{
		{"nginx", "NGINX_PORT", "Welcome to nginx!"},
		{"httpd-foreground", "HTTPD_PORT", "It works!"},
	} {
		t.Run(tc.applet, func(t *testing.T) {
			port := freePort(t)
			pidFile := filepath.Join(t.TempDir(), "nginx.pid")
			cmd := applet(t, tc.applet, "-g", "daemon off;")
			cmd.Env = append(os.Environ(), tc.env+"="+port, "NGINX_PID_FILE="+pidFile)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			body := get(t, "http://127.0.0.1:"+port+"/")
			if !strings.Contains(body, tc.page) {
				t.Errorf("page %q, want %q in it", body, tc.page)
			}
			if tc.applet == "nginx" {
				cmdline, _ := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/cmdline")
				comm, _ := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/comm")
				pid, _ := os.ReadFile(pidFile)
				if !strings.Contains(string(cmdline), "master process") || string(comm) != "nginx\n" ||
					strings.TrimSpace(string(pid)) != itoa(cmd.Process.Pid) {
					t.Errorf("nginx: cmdline %q, comm %q, pid file %q (pid %d)", cmdline, comm, pid, cmd.Process.Pid)
				}
			} else if !strings.Contains(stderr.String(), "httpd") {
				t.Errorf("httpd logged %q, want a line naming httpd", stderr.String())
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("after SIGINT: %v, want exit 0", err)
			}
		})
	}
}

// TestServeAndPull builds every image, serves them, pulls each back under
// its local name, and checks what the suite relies on.
func TestServeAndPull(t *testing.T) {
	if _, err := os.Stat(criimages.BusyboxPath); err != nil {
		t.Fatalf("%v: install busybox-static (integration/install-deps.sh)", err)
	}
	images, err := criimages.Build(criimages.BusyboxPath, standin(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	reg, err := criimages.Serve(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if len(reg.Mirrors()) != 3 { // registry.k8s.io, gcr.io, k8s.gcr.io
		t.Errorf("mirrors %v, want one per registry of the suite", reg.Mirrors())
	}
	ids := map[string]string{}
	for _, img := range images {
		for _, ref := range img.Refs {
			pulled := pull(t, reg, ref)
			id, err := pulled.ConfigName()
			if err != nil {
				t.Fatal(err)
			}
			ids[ref] = id.String()
			checkImage(t, ref, pulled)
		}
	}
	same := func(a, b string) bool { return ids[a] == ids[b] }
	if !same("registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9") {
		t.Error("the pause image differs between its two registries")
	}
	st := "gcr.io/k8s-staging-cri-tools/"
	if !same(st+"test-image-tags:1", st+"test-image-tags:3") || same(st+"test-image-1:latest", st+"test-image-2:latest") {
		t.Error("test-image-tags:N must be one image, test-image-N three")
	}
}

func pull(t *testing.T, reg *criimages.Registry, ref string) v1.Image {
	t.Helper()
	orig, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	local, err := name.ParseReference(reg.Addr+"/"+orig.Context().RepositoryStr()+":"+orig.Identifier(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(local)
	if err != nil {
		t.Fatalf("pull %s as %s: %v", ref, local, err)
	}
	return img
}

// checkImage looks at the flattened filesystem and config of one image.
func checkImage(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*tar.Header{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = h
	}
	for _, p := range []string{"/bin/sh", "/bin/busybox", "/etc/passwd", "/tmp", "/bin/pidof", "/bin/hostname"} {
		if files[p] == nil {
			t.Errorf("%s: no %s", ref, p)
		}
	}
	want := map[string]string{
		"test-image-user-uid": "1002", "test-image-user-username": "www-data", "test-image-user-uid-group": "1003:1004",
		"test-image-user-username-group": "www-data:1004", "test-image-predefined-group": "1000",
	}
	repo := ref[strings.LastIndex(ref, "/")+1:]
	if i := strings.Index(repo, ":"); i >= 0 {
		repo = repo[:i]
	}
	if u, ok := want[repo]; ok && cf.Config.User != u {
		t.Errorf("%s: USER %q, want %q", ref, cf.Config.User, u)
	}
	if strings.HasPrefix(repo, "test-image-") && want[repo] == "" && files["/"+repo] == nil {
		t.Errorf("%s: no file /%s", ref, repo)
	}
	switch repo {
	case "nonewprivs":
		if h := files["/usr/local/bin/nonewprivs"]; h == nil || h.Mode&0o4000 == 0 || h.Uid != 0 {
			t.Errorf("%s: nonewprivs is not setuid root: %+v", ref, h)
		}
	case "busybox":
		if files["/usr/bin/pgrep"] == nil || files["/usr/bin/ipcs"] == nil {
			t.Errorf("%s: no pgrep/ipcs", ref)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return itoa(ln.Addr().(*net.TCPAddr).Port)
}

func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
