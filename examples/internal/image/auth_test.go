//go:build linux

package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/podkit/podkit/internal/testharness"
)

// A registry that wants a password gets the one in the Docker config file
// ($DOCKER_CONFIG/config.json), looked up by the host actually contacted
// (here the mirror's).
func TestPullWithDockerConfigCredentials(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	reg.Push(t, "private/app:1", buildImage(t, v1.Config{Cmd: []string{"sh"}}, layerOf(t, entry{name: "f", body: "x"})))
	reg.Wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "podkit" && p == "s3cret" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	s := openStore(t, reg)
	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)

	_, err := s.Pull(context.Background(), "registry.example.com/private/app:1")
	requireErr(t, err, ErrRegistry, "pull", "registry.example.com/private/app:1")

	auth := base64.StdEncoding.EncodeToString([]byte("podkit:s3cret"))
	must(t, os.WriteFile(filepath.Join(cfgDir, "config.json"),
		fmt.Appendf(nil, `{"auths": {%q: {"auth": %q}}}`, reg.Host, auth), 0o600))
	_, err = s.Pull(context.Background(), "registry.example.com/private/app:1")
	must(t, err)
}
