package testutil

import (
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is go-containerregistry's in-process registry on 127.0.0.1:0,
// stopped when the test ends. Wrap, when set, sees every request first
// (to break or tamper with responses) and returns true if it answered.
type Registry struct {
	Host string // host:port
	Wrap func(w http.ResponseWriter, r *http.Request, next http.Handler) bool
}

// StartRegistry starts a Registry for the test t.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registry{Host: ln.Addr().String()}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reg.Wrap != nil && reg.Wrap(w, r, inner) {
			return
		}
		inner.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return reg
}

// URL is the registry's address as a mirror URL ("http://host:port").
func (r *Registry) URL() string { return "http://" + r.Host }

// Push writes img to the registry as repoTag (a repository without host,
// and a tag) and returns its digest.
func (r *Registry) Push(t testing.TB, repoTag string, img v1.Image) v1.Hash {
	t.Helper()
	r.write(t, repoTag, func(ref name.Reference, opt remote.Option) error { return remote.Write(ref, img, opt) })
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// PushIndex writes idx to the registry as repoTag.
func (r *Registry) PushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) {
	t.Helper()
	r.write(t, repoTag, func(ref name.Reference, opt remote.Option) error { return remote.WriteIndex(ref, idx, opt) })
}

// write runs write for repoTag on a transport of its own, whose idle
// connections it closes after (the tests' leak checks count them).
func (r *Registry) write(t testing.TB, repoTag string, write func(name.Reference, remote.Option) error) {
	t.Helper()
	ref, err := name.ParseReference(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if err := write(ref, remote.WithTransport(tr)); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
}
