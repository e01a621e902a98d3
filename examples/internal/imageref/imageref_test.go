package imageref

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/podkit/podkit/examples/internal/testutil"
)

// TestParseAsGoContainerRegistry: Parse takes exactly the strings
// go-containerregistry's name.ParseReference takes, and gives the name
// podkit's image store recorded from it (Docker Hub as docker.io).
func TestParseAsGoContainerRegistry(t *testing.T) {
	hex := strings.Repeat("ab12", 16)
	corpus := []string{"busybox", "busybox:1.36", "library/busybox", "docker.io/busybox", "index.docker.io/busybox",
		"docker.io/library/busybox:latest", "registry.k8s.io/pause:3.9", "localhost/x", "localhost:5000/x:y",
		"127.0.0.1:5000/a/b/c:d", "[::1]:5000/x", "Busybox", "busybox:", ":tag", "a:b:c", "a/b:c/d", "", "/", "a//b",
		"-a", "a..b", "http://x/y", "https://x/y", "x@sha256:" + hex + hex, "x:tag@sha256:" + hex + hex, "x@sha256:" + hex,
		"x@sha512:" + hex + hex + hex + hex, "x@sha384:" + hex + hex + hex[:32], "x@md5:" + hex[:32], "x@sha256:" + strings.ToUpper(hex+hex),
		"x@@sha256:" + hex + hex, "user@host/x", "a b", "é", "x:" + strings.Repeat("t", 128), "x:" + strings.Repeat("t", 129),
		strings.Repeat("a", 255), strings.Repeat("a", 256), "my.registry:5000/team/app@sha256:" + hex + hex,
		"docker.io/x@sha256:" + hex + hex, "foo.com:bar/x"}
	for i, s := range testutil.RandomStrings(5, 20000, 1, 12, "ab.:/@-_Z1 ") {
		corpus = append(corpus, s)
		if i%10 == 0 {
			corpus = append(corpus, s+"@sha256:"+hex+hex)
		}
	}
	for _, s := range corpus {
		r, err := Parse(s)
		g, gerr := name.ParseReference(s)
		if (err == nil) != (gerr == nil) {
			t.Errorf("Parse(%q): %v; go-containerregistry's: %v", s, err, gerr)
			continue
		}
		if err == nil {
			if got, want := r.Name(), storeName(g); got != want {
				t.Errorf("Parse(%q).Name() = %q, want %q", s, got, want)
			}
		}
	}
}

// storeName is the name podkit's image store recorded from a
// go-containerregistry reference.
func storeName(r name.Reference) string {
	reg := r.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = DockerHub
	}
	if d, ok := r.(name.Digest); ok {
		return reg + "/" + r.Context().RepositoryStr() + "@" + d.DigestStr()
	}
	return reg + "/" + r.Context().RepositoryStr() + ":" + r.Identifier()
}
