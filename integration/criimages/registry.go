package criimages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// StandinPackage is the import path of the standin program.
const StandinPackage = "github.com/podkit/podkit/integration/criimages/standin"

// BuildStandin builds the standin program, static, into dir and returns
// its path. It needs the go tool and the podkit source tree (the current
// directory inside it).
func BuildStandin(dir string) (string, error) {
	out := filepath.Join(dir, "standin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, StandinPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("criimages: go build %s: %v: %s", StandinPackage, err, msg)
	}
	return out, nil
}

// Registry is an in-process registry on 127.0.0.1 serving the images.
type Registry struct {
	// Addr is host:port of the registry.
	Addr string
	// Registries are the registry hosts of the suite's references, each to
	// be answered by http://Addr (a runtime's mirror setting).
	Registries []string
	srv        *http.Server
	done       chan struct{}
}

// Serve starts a registry on 127.0.0.1 and pushes every image under its
// references' repository paths and tags.
func Serve(ctx context.Context, images []Image) (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("criimages: listen: %w", err)
	}
	r := &Registry{Addr: ln.Addr().String(), done: make(chan struct{}),
		srv: &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()
	hosts := map[string]bool{}
	for _, img := range images {
		for _, ref := range img.Refs {
			local, host, err := r.localRef(ref)
			if err != nil {
				_ = r.Close()
				return nil, err
			}
			if err := remote.Write(local, img.Image, remote.WithContext(ctx)); err != nil {
				_ = r.Close()
				return nil, fmt.Errorf("criimages: push %s: %w", ref, err)
			}
			if !hosts[host] {
				hosts[host] = true
				r.Registries = append(r.Registries, host)
			}
		}
	}
	return r, nil
}

// localRef maps a suite reference to the same repository and tag on the
// local registry, and returns the reference's own registry host.
func (r *Registry) localRef(ref string) (name.Reference, string, error) {
	orig, err := name.ParseReference(ref)
	if err != nil {
		return nil, "", fmt.Errorf("criimages: %s: %w", ref, err)
	}
	tag, ok := orig.(name.Tag)
	if !ok {
		return nil, "", fmt.Errorf("criimages: %s: only tagged references can be served", ref)
	}
	local, err := name.NewTag(r.Addr+"/"+tag.RepositoryStr()+":"+tag.TagStr(), name.Insecure)
	return local, orig.Context().RegistryStr(), err
}

// Mirrors returns the mirror settings, REGISTRY=http://Addr, one per
// registry host of the suite's references.
func (r *Registry) Mirrors() []string {
	out := make([]string, len(r.Registries))
	for i, h := range r.Registries {
		out[i] = h + "=http://" + r.Addr
	}
	return out
}

// Close stops the registry.
func (r *Registry) Close() error {
	err := r.srv.Close()
	<-r.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
