//go:build linux

package manifest

import (
	"fmt"
	"path"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/sandbox"
)

func (c *converter) container(field string, in *kubeapi.Container, pod *kubeapi.PodSpec, out *Pod, init bool, names map[string]string) Container {
	ct := Container{Init: init, Image: in.Image}
	s := &ct.Spec
	s.Name = in.Name
	switch err := sandbox.ValidateID(in.Name); {
	case in.Name == "":
		c.bad(field+".name", "required")
	case err != nil:
		c.bad(field+".name", "%q: %v", in.Name, err)
	case names[in.Name] != "":
		c.bad(field+".name", "%q is also the name of %s", in.Name, names[in.Name])
	default:
		names[in.Name] = field
	}
	var isRef bool
	s.Rootfs, ct.HostImage, isRef = c.image(field+".image", in.Image)
	s.Env = c.env(field, in, out, &ct)
	if isRef {
		ct.ImageRef = c.imageRef(field+".image", in.Image, in)
		if ct.ImageRef != nil {
			ct.ImageRef.Command, ct.ImageRef.Args = expandAll(in.Command, s.Env), expandAll(in.Args, s.Env)
		}
	} else {
		s.Args = c.command(field, in, s.Env)
		if in.ImagePullPolicy != "" {
			c.warnings = append(c.warnings, field+".imagePullPolicy: image "+in.Image+" is not pulled; ignored")
		}
	}
	if in.WorkingDir != "" {
		if !path.IsAbs(in.WorkingDir) {
			c.bad(field+".workingDir", "%q is not absolute", in.WorkingDir)
		}
		s.Cwd = in.WorkingDir // made if missing, also under image: host (as mount points)
	}
	c.ports(field, in, &ct, out.Config.HostNetwork)
	c.resources(field, &in.Resources, &s.Resources)
	c.security(field, in.SecurityContext, pod.SecurityContext, &ct)
	if ct.HostImage {
		vol := TmpVolume(in.Name)
		out.Config.Volumes = append(out.Config.Volumes, sandbox.Volume{Name: vol, Medium: sandbox.MediumMemory, SizeLimit: HostTmpSize})
		s.Mounts = append(s.Mounts, sandbox.Mount{Destination: "/tmp", Volume: vol})
	}
	c.mounts(field, in.VolumeMounts, &ct)
	c.lifecycle(field, in, pod, &ct, init) // probes, hooks, sidecars, termination messages
	return ct
}

// command applies Kubernetes' rules: command replaces the image entrypoint,
// args its cmd; podrun knows no image metadata, so command is required.
func (c *converter) command(field string, in *kubeapi.Container, env []string) []string {
	if len(in.Command) == 0 {
		msg := "required: podrun has no image metadata (no ENTRYPOINT/CMD)"
		if len(in.Args) > 0 {
			msg = "required with args: podrun has no image ENTRYPOINT to pass them to"
		}
		c.bad(field+".command", "%s", msg)
		return nil
	}
	vars := envMap(env)
	var argv []string
	for _, a := range append(append([]string{}, in.Command...), in.Args...) {
		argv = append(argv, expand(a, vars))
	}
	if argv[0] == "" {
		c.bad(field+".command", "command[0] is empty")
	}
	return argv
}

// expandAll applies $(VAR) expansion to each word (nil stays nil).
func expandAll(words, env []string) []string {
	if words == nil {
		return nil
	}
	vars := envMap(env)
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = expand(w, vars)
	}
	return out
}

func (c *converter) env(field string, in *kubeapi.Container, pod *Pod, ct *Container) []string {
	env := []string{"HOSTNAME=" + pod.Config.Hostname}
	seen := map[string]bool{}
	env = c.envFrom(field, in, env, seen) // env overrides envFrom, as in the kubelet
	for i, e := range in.Env {
		f := fmt.Sprintf("%s.env[%d]", field, i)
		if e.Name == "" || strings.ContainsAny(e.Name, "=\x00") {
			c.bad(f+".name", "%q is not a valid variable name", e.Name)
			continue
		}
		var v string
		if e.ValueFrom != nil {
			var ok bool
			if v, ok = c.valueFrom(f, e, in, pod, ct); !ok {
				continue
			}
		} else if strings.Contains(e.Value, "\x00") {
			c.bad(f+".value", "contains NUL")
			continue
		} else {
			v = expand(e.Value, envMap(env))
		}
		if seen[e.Name] || e.Name == "HOSTNAME" {
			env = setEnv(env, e.Name, v)
		} else {
			env = append(env, e.Name+"="+v)
		}
		seen[e.Name] = true
	}
	return env
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func setEnv(env []string, name, value string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			env[i] = name + "=" + value
		}
	}
	return env
}

// expand implements Kubernetes' $(VAR) references: $(NAME) becomes the
// variable's value when it is defined, $$ is a literal $, anything else is
// kept as written.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := vars[name]; ok {
					b.WriteString(v)
					i += 2 + end
					continue
				}
			}
		}
		b.WriteByte('$')
	}
	return b.String()
}

func (c *converter) ports(field string, in *kubeapi.Container, ct *Container, hostNetwork bool) {
	for i, p := range in.Ports {
		f := fmt.Sprintf("%s.ports[%d]", field, i)
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			c.bad(f+".containerPort", "%d out of range 1-65535", p.ContainerPort)
		}
		if p.Protocol != "" && p.Protocol != kubeapi.ProtocolTCP && p.Protocol != kubeapi.ProtocolUDP {
			c.problems = append(c.problems, Problem{Field: f + ".protocol", Err: ErrUnsupported, Msg: string(p.Protocol)})
		}
		port := Port{Name: p.Name, Port: int(p.ContainerPort), Protocol: string(p.Protocol)}
		c.hostPort(f, p, hostNetwork, &port)
		ct.Ports = append(ct.Ports, port)
	}
}

func (c *converter) mounts(field string, vms []kubeapi.VolumeMount, ct *Container) {
	dests := map[string]bool{}
	for i, vm := range vms {
		f := fmt.Sprintf("%s.volumeMounts[%d]", field, i)
		if !path.IsAbs(vm.MountPath) || strings.Contains(vm.MountPath, "\x00") {
			c.bad(f+".mountPath", "%q is not an absolute path", vm.MountPath)
			continue
		}
		dest := path.Clean(vm.MountPath)
		if dests[dest] {
			c.bad(f+".mountPath", "%s is mounted twice", dest)
		}
		dests[dest] = true
		v, ok := c.volumes[vm.Name]
		if !ok {
			c.bad(f+".name", "no volume %q in spec.volumes", vm.Name)
			continue
		}
		// Any mount point works, also inside image: host's read-only host
		// directories (the sandbox overlays missing ones).
		m := sandbox.Mount{Destination: dest, ReadOnly: vm.ReadOnly || isDataVolume(v), SubPath: c.subPath(f, vm, ct.Spec.Env)}
		if v.HostPath != nil {
			m.Source = v.HostPath.Path
		} else {
			m.Volume = v.Name
		}
		ct.Spec.Mounts = append(ct.Spec.Mounts, m)
	}
}
