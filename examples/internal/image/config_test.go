//go:build linux

package image

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/podkit/podkit/internal/testharness"
)

// Plain HTTP goes only to loopback hosts and to what is configured, and
// the refusal happens before any connection.
func TestPlainHTTPGuard(t *testing.T) {
	s, err := Open(Options{Root: t.TempDir(), Registries: []Registry{
		{Prefix: "registry.k8s.io", Mirrors: []string{"http://10.9.9.9:5000", "https://10.9.9.8"}},
		{Prefix: "insecure.example:5000", PlainHTTP: true},
	}})
	must(t, err)
	defer s.Close()
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:80": true, "[::1]:5000": true, "10.9.9.9:5000": true,
		"insecure.example:5000": true, "10.9.9.8": false, "registry.k8s.io": false, "192.168.1.1:5000": false,
	} {
		if got := s.plainHTTPAllowed(host); got != want {
			t.Errorf("plain HTTP to %s: %v, want %v", host, got, want)
		}
	}
	req := &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: "192.168.1.1:5000", Path: "/v2/"}}
	if _, err := s.transport().RoundTrip(req); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("plain HTTP to a private address: %v", err)
	}
}

// The image's Entrypoint/Cmd/Env/WorkingDir/User meet a container's
// overrides; users resolve in the image's passwd and group files, and a
// process started with the result runs as them.
func TestContainerConfig(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	img := buildImage(t, v1.Config{Entrypoint: []string{"/bin/busybox"}, Cmd: []string{"sh", "-c", "id"},
		Env: []string{"PATH=/bin", "FOO=image"}, WorkingDir: "/tmp", User: "www-data"}, busyboxLayer(t))
	reg.Push(t, "k8s-staging-cri-tools/test-image-user-username:latest", img)
	s := openStore(t, reg)
	rec, err := s.Pull(context.Background(), "gcr.io/k8s-staging-cri-tools/test-image-user-username")
	must(t, err)
	r, err := s.CreateRootfs("cfg", rec.ID)
	must(t, err)
	t.Cleanup(func() { s.RemoveRootfs("cfg") })

	p, err := s.ContainerConfig(r, Container{Env: []string{"FOO=pod", "BAR=pod"}})
	must(t, err)
	if !slices.Equal(p.Args, []string{"/bin/busybox", "sh", "-c", "id"}) || p.Cwd != "/tmp" || p.ImageID != rec.ID ||
		!slices.Equal(p.Env, []string{"PATH=/bin", "FOO=pod", "BAR=pod"}) || p.UID != 33 || p.GID != 33 ||
		!slices.Equal(p.AdditionalGids, []uint32{33, 100}) {
		t.Fatalf("ContainerConfig: %+v", p)
	}
	out, err := runAs(r.Dir, p)
	if err != nil || out != "uid=33(www-data) gid=33(www-data) groups=33(www-data),100(users)\n" {
		t.Fatalf("process as the image's user: %q %v", out, err)
	}

	for _, c := range []struct {
		user       string
		uid, gid   uint32
		additional []uint32
	}{
		{"1002", 1002, 0, []uint32{0}},
		{"1003:1004", 1003, 1004, []uint32{1004}},
		{"www-data:1004", 33, 1004, []uint32{1004, 100}},
		{"nobody:nogroup", 65534, 65534, []uint32{65534}},
		{"1000", 1000, 1000, []uint32{1000, 100, 50000}},
		{"0", 0, 0, []uint32{0}},
	} {
		p, err := s.ContainerConfig(r, Container{User: c.user, Command: []string{"/bin/busybox", "id"}, WorkingDir: "/"})
		must(t, err)
		if p.UID != c.uid || p.GID != c.gid || !slices.Equal(p.AdditionalGids, c.additional) || p.Cwd != "/" ||
			!slices.Equal(p.Args, []string{"/bin/busybox", "id"}) {
			t.Errorf("user %s: %+v", c.user, p)
		}
	}
	for _, bad := range []string{"nosuchuser", "www-data:nosuchgroup", ":1"} {
		_, err := s.ContainerConfig(r, Container{User: bad})
		requireErr(t, err, map[bool]error{true: ErrBadConfig, false: ErrUnknownUser}[bad == ":1"], "user", bad)
	}
	_, err = s.ContainerConfig(r, Container{WorkingDir: "rel"})
	requireErr(t, err, ErrBadConfig, "config", "workingDir")
	must(t, s.RemoveRootfs("cfg"))
}

// runAs runs p chrooted into root with its credentials.
func runAs(root string, p *Process) (string, error) {
	cmd := exec.Command(p.Args[0], p.Args[1:]...)
	cmd.Env, cmd.Dir = p.Env, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root,
		Credential: &syscall.Credential{Uid: p.UID, Gid: p.GID, Groups: p.AdditionalGids}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, out)
	}
	return string(out), nil
}
