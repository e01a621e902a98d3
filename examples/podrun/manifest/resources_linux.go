//go:build linux

package manifest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/sandbox"
)

func (c *converter) resources(field string, in *kubeapi.ResourceRequirements, out *sandbox.Resources) {
	for _, kind := range []struct {
		name string
		list kubeapi.ResourceList
	}{{"limits", in.Limits}, {"requests", in.Requests}} {
		for name, q := range kind.list {
			f := fmt.Sprintf("%s.resources.%s.%s", field, kind.name, name)
			switch name {
			case kubeapi.ResourceCPU, kubeapi.ResourceMemory:
				if q.Sign() < 0 {
					c.bad(f, "%s is negative", q.String())
				}
			default:
				c.problems = append(c.problems, Problem{Field: f, Err: ErrUnsupported,
					Msg: "podkit supports cpu and memory"})
			}
		}
	}
	cpuLim, hasCPULim := in.Limits[kubeapi.ResourceCPU]
	cpuReq, hasCPUReq := in.Requests[kubeapi.ResourceCPU]
	if !hasCPUReq && hasCPULim {
		cpuReq, hasCPUReq = cpuLim, true // Kubernetes defaults requests to limits
	}
	if hasCPULim && hasCPUReq && cpuReq.Cmp(cpuLim) > 0 {
		c.bad(field+".resources.requests.cpu", "%s is more than the limit %s", cpuReq.String(), cpuLim.String())
	}
	// The sandbox converts millicores as kubelet does (shares from the
	// request, CFS quota over a 100 ms period from the limit).
	if hasCPUReq && cpuReq.Sign() > 0 {
		out.CPURequestMilli = cpuReq.MilliValue()
	}
	if hasCPULim && cpuLim.Sign() > 0 {
		out.CPULimitMilli = cpuLim.MilliValue()
	}
	memLim, hasMemLim := in.Limits[kubeapi.ResourceMemory]
	memReq, hasMemReq := in.Requests[kubeapi.ResourceMemory]
	if hasMemLim && hasMemReq && memReq.Cmp(memLim) > 0 {
		c.bad(field+".resources.requests.memory", "%s is more than the limit %s", memReq.String(), memLim.String())
	}
	if hasMemLim && memLim.Sign() > 0 {
		out.MemoryLimit = memLim.Value()
	}
}

// allCaps are the Linux capability names podkit accepts (without CAP_).
var allCaps = strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
	SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
	SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE
	SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN
	SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`)

func (c *converter) security(field string, sc *kubeapi.SecurityContext, psc *kubeapi.PodSecurityContext, ct *Container) {
	s := &ct.Spec
	var nonRoot bool
	if psc != nil {
		s.UID, s.GID = uint32(ptrVal(psc.RunAsUser)), uint32(ptrVal(psc.RunAsGroup))
		nonRoot = ptrVal(psc.RunAsNonRoot)
		s.AdditionalGIDs = append(s.AdditionalGIDs, podGroups(psc)...) // mountopts_linux.go
	}
	s.AllowNewPrivileges = true // Kubernetes' default: allowPrivilegeEscalation unset means true
	if sc != nil {
		if sc.RunAsUser != nil {
			s.UID = uint32(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			s.GID = uint32(*sc.RunAsGroup)
		}
		if sc.RunAsNonRoot != nil {
			nonRoot = *sc.RunAsNonRoot
		}
		s.ReadOnlyRootfs = ptrVal(sc.ReadOnlyRootFilesystem)
		if sc.AllowPrivilegeEscalation != nil {
			s.AllowNewPrivileges = *sc.AllowPrivilegeEscalation
		}
		if sc.Capabilities != nil {
			s.Capabilities = c.capabilities(field+".securityContext.capabilities", sc.Capabilities)
		}
		if s.Privileged = ptrVal(sc.Privileged); s.Privileged {
			s.Capabilities = nil // every capability, as runtimes give a privileged container
		}
	}
	s.Seccomp = c.containerSeccomp(field, sc)
	c.idRange(field+".securityContext.runAsUser", sc, psc, func(x *kubeapi.SecurityContext) *int64 { return x.RunAsUser },
		func(x *kubeapi.PodSecurityContext) *int64 { return x.RunAsUser })
	c.idRange(field+".securityContext.runAsGroup", sc, psc, func(x *kubeapi.SecurityContext) *int64 { return x.RunAsGroup },
		func(x *kubeapi.PodSecurityContext) *int64 { return x.RunAsGroup })
	if ref := ct.ImageRef; ref != nil {
		// The image's USER applies unless runAsUser/runAsGroup say
		// otherwise; the runner resolves it, and checks runAsNonRoot.
		var uid, gid *int64
		if psc != nil {
			uid, gid = psc.RunAsUser, psc.RunAsGroup
		}
		if sc != nil && sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc != nil && sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
		ref.User, ref.RunAsNonRoot = imageUser(uid, gid), nonRoot
	} else if nonRoot && s.UID == 0 {
		c.bad(field+".securityContext.runAsNonRoot", "the container would run as root (set runAsUser; podrun has no image USER)")
	}
	if ct.HostImage {
		s.ReadOnlyRootfs = true // the host view is always read-only
	}
}

func (c *converter) idRange(field string, sc *kubeapi.SecurityContext, psc *kubeapi.PodSecurityContext,
	get func(*kubeapi.SecurityContext) *int64, getPod func(*kubeapi.PodSecurityContext) *int64) {
	var v *int64
	if psc != nil {
		v = getPod(psc)
	}
	if sc != nil && get(sc) != nil {
		v = get(sc)
	}
	if v != nil && (*v < 0 || *v > 1<<32-2) {
		c.bad(field, "%d out of range", *v)
	}
}

// capabilities changes the runtime default set as containerd does: add
// ALL (every capability), drop ALL, then the named additions, then the
// named drops.
func (c *converter) capabilities(field string, caps *kubeapi.Capabilities) []string {
	norm := func(f string, list []kubeapi.Capability) []string {
		var out []string
		for i, cp := range list {
			n := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(string(cp)), "CAP_"))
			if n == "ALL" {
				out = append(out, "ALL")
				continue
			}
			if !slices.Contains(allCaps, n) {
				c.bad(fmt.Sprintf("%s[%d]", f, i), "unknown capability %q", cp)
				continue
			}
			out = append(out, "CAP_"+n)
		}
		return out
	}
	add, drop := norm(field+".add", caps.Add), norm(field+".drop", caps.Drop)
	set := slices.Clone(sandbox.DefaultCapabilities)
	if slices.Contains(add, "ALL") {
		set = slices.Clone(sandbox.AllCapabilities())
	}
	if slices.Contains(drop, "ALL") {
		set = []string{}
	}
	for _, a := range add {
		if a != "ALL" && !slices.Contains(set, a) {
			set = append(set, a)
		}
	}
	for _, d := range drop {
		set = slices.DeleteFunc(set, func(s string) bool { return s == d })
	}
	return set
}
