//go:build linux

package manifest

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

// HostImage is the image word meaning "the host's root filesystem,
// read-only" (see package hostroot).
const HostImage = "host"

// DefaultGrace is Kubernetes' default terminationGracePeriodSeconds.
const DefaultGrace = 30 * time.Second

// HostTmpSize is the size of the private /tmp tmpfs of an image: host
// container.
const HostTmpSize = 64 << 20

// Pod is a converted manifest: everything needed to run it with sandbox.
type Pod struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string
	UID         string // metadata.uid: new for every run (downward_linux.go)
	// DataVolumes are the configMap, secret and downwardAPI volumes, whose
	// files the runner writes once the sandbox exists.
	DataVolumes []DataVolume
	// Config is the sandbox configuration without host-specific settings
	// (RunDir, CgroupParent, PauseBinary are left for the runner).
	Config         sandbox.Config
	RestartPolicy  kubelet.RestartPolicy
	Grace          time.Duration
	InitContainers []Container
	Containers     []Container
	// Warnings name the fields that were ignored, and why.
	Warnings []string
}

// Container is one converted container.
type Container struct {
	// Spec is ready for the kubelet except for host-image containers,
	// whose Rootfs is empty and whose Mounts still lack the host
	// directories (the runner prepends hostroot mounts and sets Rootfs).
	Spec      kubelet.Container
	Init      bool
	HostImage bool
	Image     string
	// ImageRef is set for an image of the image store (a registry
	// reference): Spec then lacks Rootfs, and its Args, Env, Cwd and user
	// are completed from the image by the runner.
	ImageRef *ImageRef
	Ports    []Port
	FieldEnv []FieldEnv // set by SetPodIPs
	// Liveness and Readiness are the converted probes, as the manifest
	// gave them; Spec carries them in the kubelet's form, which runs them.
	Liveness  *Probe
	Readiness *Probe
}

// Port is a declared container port (the target of named probe ports),
// exposed on the node when HostPort is set.
type Port struct {
	Name     string
	Port     int
	Protocol string // TCP (also for "") or UDP
	HostPort int    // 0: not exposed on the node
	HostIP   string // "": every host address
}

// FieldEnv is an environment variable from the downward API
// (valueFrom.fieldRef) whose value is known only once the pod exists:
// status.podIP and status.podIPs. SetPodIPs fills it in.
type FieldEnv struct {
	Name      string
	FieldPath string
}

// ProbeKind is how a probe checks the container.
type ProbeKind string

// Probe kinds.
const (
	ProbeExec ProbeKind = "exec"
	ProbeTCP  ProbeKind = "tcpSocket"
	ProbeHTTP ProbeKind = "httpGet"
)

// Probe is a converted probe (startup, liveness, readiness) with
// Kubernetes' defaults applied.
type Probe struct {
	Kind    ProbeKind
	Command []string // exec
	Host    string   // tcp/http; default 127.0.0.1 inside the pod
	Port    int      // tcp/http, named ports resolved
	Path    string   // http
	Scheme  string   // http: HTTP or HTTPS
	Headers map[string]string

	InitialDelay     time.Duration
	Period           time.Duration
	Timeout          time.Duration
	SuccessThreshold int
	FailureThreshold int
}

// PodSpec returns the kubelet PodSpec of the containers' current specs.
func (p *Pod) PodSpec() kubelet.PodSpec {
	// The kubelet's own kills (failed postStart or startup probe) take the
	// pod's grace period, at least 2s as in the kubelet.
	ps := kubelet.PodSpec{RestartPolicy: p.RestartPolicy, Grace: max(p.Grace, 2*time.Second)}
	for _, c := range p.InitContainers {
		ps.InitContainers = append(ps.InitContainers, c.Spec)
	}
	for _, c := range p.Containers {
		ps.Containers = append(ps.Containers, c.Spec)
	}
	return ps
}

// HasHostImage reports whether any container uses image: host.
func (p *Pod) HasHostImage() bool {
	for _, list := range [][]Container{p.InitContainers, p.Containers} {
		for _, c := range list {
			if c.HostImage {
				return true
			}
		}
	}
	return false
}

// ImageRefs lists the store images of every container, in manifest order.
func (p *Pod) ImageRefs() []*ImageRef {
	var out []*ImageRef
	for _, list := range [][]Container{p.InitContainers, p.Containers} {
		for _, c := range list {
			if c.ImageRef != nil {
				out = append(out, c.ImageRef)
			}
		}
	}
	return out
}

// TmpVolume is the name of the private /tmp volume of a host-image
// container. The underscore cannot occur in a Kubernetes volume name, so it
// never collides with the manifest's own volumes.
func TmpVolume(container string) string {
	name := "tmp_" + container
	if len(name) > sandbox.MaxIDLen {
		h := fnv.New32a()
		h.Write([]byte(container))
		name = fmt.Sprintf("tmp_%s_%08x", container[:40], h.Sum32())
	}
	return name
}
