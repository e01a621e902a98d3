//go:build linux

package manifest

import (
	"math"
	"path"
	"slices"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/sandbox"
)

// subPath returns a volumeMount's subPath, or its subPathExpr expanded
// with the container's environment ($(VAR), as kubelet), checked as
// Kubernetes does: relative, no "..". The sandbox resolves it beneath the
// volume at create (a symlink out of it is an error there) and creates it
// if missing, as kubelet does.
func (c *converter) subPath(field string, vm kubeapi.VolumeMount, env []string) string {
	sub, f := vm.SubPath, field+".subPath"
	switch {
	case vm.SubPath != "" && vm.SubPathExpr != "":
		c.bad(field+".subPathExpr", "subPath and subPathExpr are mutually exclusive")
		return ""
	case vm.SubPathExpr != "":
		sub, f = expand(vm.SubPathExpr, envMap(env)), field+".subPathExpr"
	}
	switch {
	case sub == "":
	case strings.ContainsRune(sub, 0):
		c.bad(f, "contains NUL")
	case path.IsAbs(sub):
		c.bad(f, "%q must be a relative path", sub)
	case slices.Contains(strings.Split(sub, "/"), ".."):
		c.bad(f, "%q must not contain '..'", sub)
	default:
		return sub
	}
	return ""
}

// fsGroup applies the pod's securityContext.fsGroup to its volumes (the
// sandbox makes them group fsGroup, group-writable, setgid, per
// fsGroupChangePolicy); hostPath volumes are left alone, as by kubelet.
// The group is also added to every container's supplementary groups
// (security).
func (c *converter) fsGroup(sc *kubeapi.PodSecurityContext, out *Pod) {
	if sc == nil {
		return
	}
	if sc.FSGroupChangePolicy != nil && sc.FSGroup == nil {
		c.warnings = append(c.warnings, "spec.securityContext.fsGroupChangePolicy: no fsGroup; ignored")
	}
	if sc.FSGroup == nil {
		return
	}
	g := *sc.FSGroup
	if g < 0 || g > math.MaxUint32-1 {
		c.bad("spec.securityContext.fsGroup", "%d out of range", g)
		return
	}
	gid := uint32(g)
	var policy sandbox.FSGroupChangePolicy
	if p := sc.FSGroupChangePolicy; p != nil {
		switch *p {
		case kubeapi.FSGroupChangeAlways:
			policy = sandbox.FSGroupAlways
		case kubeapi.FSGroupChangeOnRootMismatch:
			policy = sandbox.FSGroupOnRootMismatch
		default:
			c.bad("spec.securityContext.fsGroupChangePolicy", "%q (want OnRootMismatch or Always)", *p)
		}
	}
	for i := range out.Config.Volumes {
		v := &out.Config.Volumes[i]
		if _, ok := c.volumes[v.Name]; ok {
			v.FSGroup, v.FSGroupChangePolicy = &gid, policy
		}
	}
}

// podGroups are the supplementary groups the pod's securityContext gives
// every container: supplementalGroups, then fsGroup (as kubelet).
func podGroups(psc *kubeapi.PodSecurityContext) []uint32 {
	var gs []uint32
	for _, g := range psc.SupplementalGroups {
		gs = append(gs, uint32(g))
	}
	if g := psc.FSGroup; g != nil && *g >= 0 && *g <= math.MaxUint32-1 && !slices.Contains(gs, uint32(*g)) {
		gs = append(gs, uint32(*g))
	}
	return gs
}
