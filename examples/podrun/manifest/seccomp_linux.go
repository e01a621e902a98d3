//go:build linux

package manifest

import (
	"path/filepath"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/nsjoin/seccomp"
	"github.com/podkit/podkit/sandbox"
)

// DefaultSeccompRoot is where localhostProfile paths are resolved unless
// Options.SeccompRoot says otherwise (the kubelet's is
// <root-dir>/seccomp, /var/lib/kubelet/seccomp).
const DefaultSeccompRoot = "/var/lib/podkit/seccomp"

// seccomp converts a seccompProfile (Kubernetes' semantics: unset is
// Unconfined unless the pod's is set) and checks it now, reading a
// Localhost file, so that --check reports a bad profile.
func (c *converter) seccomp(field string, p *kubeapi.SeccompProfile) seccomp.Profile {
	if p == nil {
		return seccomp.Profile{}
	}
	var out seccomp.Profile
	switch p.Type {
	case kubeapi.SeccompProfileTypeUnconfined:
		out.Type = seccomp.Unconfined
	case kubeapi.SeccompProfileTypeRuntimeDefault:
		out.Type = seccomp.RuntimeDefault
	case kubeapi.SeccompProfileTypeLocalhost:
		lp := ptrVal(p.LocalhostProfile)
		clean := filepath.Clean(lp)
		if lp == "" || filepath.IsAbs(lp) || clean == ".." || strings.HasPrefix(clean, "../") {
			c.bad(field+".localhostProfile", "%q: a path relative to the seccomp root %s is required", lp, c.seccompRoot())
			return out
		}
		out = seccomp.Profile{Type: seccomp.Localhost, LocalhostProfile: filepath.Join(c.seccompRoot(), clean)}
	default:
		c.bad(field+".type", "%q (want RuntimeDefault, Localhost or Unconfined)", p.Type)
		return out
	}
	if p.Type != kubeapi.SeccompProfileTypeLocalhost && p.LocalhostProfile != nil {
		c.bad(field+".localhostProfile", "only with type Localhost")
	}
	if _, err := out.Resolve(sandbox.DefaultCapabilities); err != nil {
		c.bad(field, "%v", err)
	}
	return out
}

func (c *converter) seccompRoot() string {
	if c.opts.SeccompRoot != "" {
		return c.opts.SeccompRoot
	}
	return DefaultSeccompRoot
}

// containerSeccomp is the container's own profile, else the pod's.
func (c *converter) containerSeccomp(field string, sc *kubeapi.SecurityContext) seccomp.Profile {
	if sc != nil && sc.SeccompProfile != nil {
		return c.seccomp(field+".securityContext.seccompProfile", sc.SeccompProfile)
	}
	return c.podSeccomp
}
