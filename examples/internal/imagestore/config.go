//go:build linux

package imagestore

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Container is what a Kubernetes container spec says about its process;
// empty fields fall back to the image.
type Container struct {
	Command    []string // replaces the image's Entrypoint (and drops its Cmd)
	Args       []string // replaces the image's Cmd
	Env        []string // KEY=value, overriding the image's
	WorkingDir string
	User       string // "name", "uid", "name:group", "uid:gid"; overrides the image's USER
}

// Process is the process to start in a container.
type Process struct {
	Args           []string
	Env            []string
	Cwd            string
	UID, GID       uint32
	AdditionalGids []uint32 // GID, then the user's groups in the image's /etc/group
	ImageID        string
}

// Config returns the config (the OCI/Docker image config) of the image ref.
func (s *Store) Config(ref string) (*v1.ConfigFile, error) {
	img, err := s.status("config", ref)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.BlobPath(img.ID))
	if err != nil {
		return nil, &Error{Op: "config", Ref: ref, Err: err}
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return nil, &Error{Op: "config", Ref: ref, Err: fmt.Errorf("%w: %v", ErrUnsupported, err)}
	}
	return cf, nil
}

// ContainerConfig merges the image of rootfs r with c by Kubernetes' rules
// (command replaces Entrypoint and drops Cmd; args alone replace Cmd;
// env overrides the image's by name) and resolves the user inside the
// image's /etc/passwd and /etc/group, read from r.
func (s *Store) ContainerConfig(r *Rootfs, c Container) (*Process, error) {
	cf, err := s.Config(r.Image)
	if err != nil {
		return nil, err
	}
	p := &Process{ImageID: r.Image, Cwd: "/"}
	p.Args = commandLine(cf.Config.Entrypoint, cf.Config.Cmd, c.Command, c.Args)
	if len(p.Args) == 0 {
		return nil, &Error{Op: "config", Ref: "command", Err: fmt.Errorf("%w: neither the container nor image %s names a command", ErrBadConfig, r.Image)}
	}
	if p.Env, err = mergeEnv(cf.Config.Env, c.Env); err != nil {
		return nil, err
	}
	if cf.Config.WorkingDir != "" {
		p.Cwd = cf.Config.WorkingDir
	}
	if c.WorkingDir != "" {
		p.Cwd = c.WorkingDir
	}
	if !strings.HasPrefix(p.Cwd, "/") {
		return nil, &Error{Op: "config", Ref: "workingDir", Err: fmt.Errorf("%w: %q is not absolute", ErrBadConfig, p.Cwd)}
	}
	user := cf.Config.User
	if c.User != "" {
		user = c.User
	}
	if p.UID, p.GID, p.AdditionalGids, err = ResolveUser(r.Dir, user); err != nil {
		return nil, err
	}
	return p, nil
}

// commandLine applies Kubernetes' command/args rules.
func commandLine(entrypoint, cmd, command, args []string) []string {
	switch {
	case len(command) > 0:
		return append(append([]string(nil), command...), args...)
	case len(args) > 0:
		return append(append([]string(nil), entrypoint...), args...)
	}
	return append(append([]string(nil), entrypoint...), cmd...)
}

// mergeEnv overlays extra on base by variable name, keeping base's order
// and appending new names in extra's order.
func mergeEnv(base, extra []string) ([]string, error) {
	out := append([]string(nil), base...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range extra {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &Error{Op: "config", Ref: "env", Err: fmt.Errorf("%w: %q is not KEY=value", ErrBadConfig, kv)}
		}
		if i, seen := index[k]; seen {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	return out, nil
}
