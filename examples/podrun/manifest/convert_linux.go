//go:build linux

package manifest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/nsjoin/seccomp"
	"github.com/podkit/podkit/sandbox"
)

// converter turns a decoded Pod into a *Pod, collecting problems.
type converter struct {
	opts     Options
	problems []Problem
	warnings []string
	volumes  map[string]kubeapi.Volume
	// podSeccomp is spec.securityContext.seccompProfile, for containers
	// without their own (seccomp_linux.go).
	podSeccomp seccomp.Profile
	// The downward API and ConfigMap/Secret sources (see objects_linux.go,
	// downward_linux.go).
	objs *objects
	node func() Node // the node, described on first use
	uid  string
	src  *kubeapi.Pod
}

func (c *converter) bad(field, format string, a ...any) {
	c.problems = append(c.problems, Problem{Field: field, Msg: fmt.Sprintf(format, a...), Err: ErrInvalid})
}

func (c *converter) convert(in *kubeapi.Pod) *Pod {
	c.src = in
	out := &Pod{
		Name: in.Name, Namespace: in.Namespace, Labels: in.Labels, Annotations: in.Annotations,
		Grace: DefaultGrace, RestartPolicy: kubelet.RestartAlways,
	}
	if out.Namespace == "" {
		out.Namespace = "default"
	}
	switch err := sandbox.ValidateID(in.Name); {
	case in.Name == "":
		c.bad("metadata.name", "required (it names the sandbox)")
	case err != nil:
		c.bad("metadata.name", "%q: %v", in.Name, err)
	}
	spec := &in.Spec
	out.Config = sandbox.Config{ID: in.Name, Hostname: spec.Hostname, SharePID: ptrVal(spec.ShareProcessNamespace),
		HostNetwork: spec.HostNetwork, HostPID: spec.HostPID, HostIPC: spec.HostIPC}
	if spec.HostPID && out.Config.SharePID {
		c.bad("spec.shareProcessNamespace", "not allowed with spec.hostPID")
	}
	if out.Config.Hostname == "" {
		out.Config.Hostname = in.Name
	}
	switch p := spec.RestartPolicy; p {
	case "":
	case kubeapi.RestartPolicyAlways, kubeapi.RestartPolicyOnFailure, kubeapi.RestartPolicyNever:
		out.RestartPolicy = kubelet.RestartPolicy(p)
	default:
		c.bad("spec.restartPolicy", "%q (want Always, OnFailure or Never)", p)
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		if *g < 0 {
			c.bad("spec.terminationGracePeriodSeconds", "%d is negative", *g)
		}
		out.Grace = time.Duration(*g) * time.Second
	}
	c.podSecurity(spec.SecurityContext)
	c.convertVolumes(spec.Volumes, out)
	c.fsGroup(spec.SecurityContext, out) // mountopts_linux.go
	if len(spec.Containers) == 0 {
		c.bad("spec.containers", "at least one container is required")
	}
	names := map[string]string{}
	for i := range spec.InitContainers {
		field := fmt.Sprintf("spec.initContainers[%d]", i)
		out.InitContainers = append(out.InitContainers, c.container(field, &spec.InitContainers[i], spec, out, true, names))
	}
	for i := range spec.Containers {
		field := fmt.Sprintf("spec.containers[%d]", i)
		out.Containers = append(out.Containers, c.container(field, &spec.Containers[i], spec, out, false, names))
	}
	out.Warnings = c.warnings
	return out
}

func (c *converter) podSecurity(sc *kubeapi.PodSecurityContext) {
	if sc == nil {
		return
	}
	for _, g := range sc.SupplementalGroups {
		if g < 0 || g > 1<<32-2 {
			c.bad("spec.securityContext.supplementalGroups", "%d out of range", g)
		}
	}
	c.podSeccomp = c.seccomp("spec.securityContext.seccompProfile", sc.SeccompProfile)
}

func (c *converter) convertVolumes(vols []kubeapi.Volume, out *Pod) {
	c.volumes = map[string]kubeapi.Volume{}
	for i, v := range vols {
		field := fmt.Sprintf("spec.volumes[%d]", i)
		if err := sandbox.ValidateID(v.Name); err != nil {
			c.bad(field+".name", "%q: %v", v.Name, err)
			continue
		}
		if _, dup := c.volumes[v.Name]; dup {
			c.bad(field+".name", "duplicate volume %q", v.Name)
			continue
		}
		c.volumes[v.Name] = v
		switch {
		case v.EmptyDir != nil:
			sv := sandbox.Volume{Name: v.Name}
			switch v.EmptyDir.Medium {
			case kubeapi.StorageMediumDefault:
				if v.EmptyDir.SizeLimit != nil {
					c.warnings = append(c.warnings, field+".emptyDir.sizeLimit: not enforced for disk-backed emptyDir")
				}
			case kubeapi.StorageMediumMemory:
				sv.Medium = sandbox.MediumMemory
				if q := v.EmptyDir.SizeLimit; q != nil {
					if q.Sign() <= 0 {
						c.bad(field+".emptyDir.sizeLimit", "%s must be positive", q)
					}
					sv.SizeLimit = q.Value()
				}
			default:
				c.problems = append(c.problems, Problem{Field: field + ".emptyDir.medium", Err: ErrUnsupported,
					Msg: fmt.Sprintf("%q (podkit supports \"\" and Memory)", v.EmptyDir.Medium)})
			}
			out.Config.Volumes = append(out.Config.Volumes, sv)
		case v.HostPath != nil:
			c.hostPath(field, v.HostPath)
		case v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil:
			c.dataVolume(field, v, out)
		default:
			c.problems = append(c.problems, Problem{Field: field, Err: ErrUnsupported,
				Msg: "volume type (podkit supports emptyDir, hostPath, configMap, secret and downwardAPI)"})
		}
	}
}

func (c *converter) hostPath(field string, hp *kubeapi.HostPathVolumeSource) {
	if !filepath.IsAbs(hp.Path) {
		c.bad(field+".hostPath.path", "%q is not absolute", hp.Path)
		return
	}
	t := kubeapi.HostPathUnset
	if hp.Type != nil {
		t = *hp.Type
	}
	st, err := os.Stat(hp.Path)
	switch t {
	case kubeapi.HostPathUnset:
		if err != nil {
			c.bad(field+".hostPath.path", "%v (podrun does not create host paths)", err)
		}
	case kubeapi.HostPathDirectory:
		if err != nil || !st.IsDir() {
			c.bad(field+".hostPath.path", "%q is not an existing directory", hp.Path)
		}
	case kubeapi.HostPathFile:
		if err != nil || !st.Mode().IsRegular() {
			c.bad(field+".hostPath.path", "%q is not an existing file", hp.Path)
		}
	default:
		c.problems = append(c.problems, Problem{Field: field + ".hostPath.type", Err: ErrUnsupported,
			Msg: fmt.Sprintf("%q (podkit supports \"\", Directory and File; it never creates host paths)", t)})
	}
}

// image resolves a container image to a root filesystem directory, or
// says it is a registry reference (ref) for the image store.
func (c *converter) image(field, image string) (rootfs string, host, ref bool) {
	switch {
	case image == "":
		c.problems = append(c.problems, Problem{Field: field, Err: ErrImage, Msg: "missing; " + imageHelp})
		return "", false, false
	case image == HostImage:
		return "", true, false
	case strings.HasPrefix(image, "/"), strings.HasPrefix(image, "./"), strings.HasPrefix(image, "../"):
		dir := image
		if !path.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(c.opts.Path), dir)
		}
		dir, _ = filepath.Abs(dir)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			c.problems = append(c.problems, Problem{Field: field, Err: ErrImage,
				Msg: fmt.Sprintf("%q: %s is not a directory; %s", image, dir, imageHelp)})
			return "", false, false
		}
		return dir, false, false
	}
	return "", false, true
}

const imageHelp = `image must be "host" (the host's /usr, /etc, /var, /opt read-only, private /tmp), ` +
	`a root filesystem directory (an absolute path, or "./dir" relative to the manifest), ` +
	`or an image reference (busybox, registry.k8s.io/pause:3.9, repo@sha256:...)`

func ptrVal[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
