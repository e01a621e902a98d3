//go:build linux

package manifest

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"golang.org/x/sys/unix"
)

// Node is what the downward API tells a pod about the machine it runs on.
type Node struct {
	// Name is spec.nodeName: the host name, lower case (as the kubelet
	// names its node).
	Name string
	// HostIPs are status.hostIPs, IPv4 first: the addresses of the
	// interface of the default route (as the kubelet picks its node IP
	// without --node-ip), else the first global address of each family,
	// else 127.0.0.1.
	HostIPs []netip.Addr
	// Allocatable stands in for a missing cpu, memory or ephemeral-storage
	// limit in resourceFieldRef, as the kubelet's node allocatable does.
	Allocatable kubeapi.ResourceList
}

// HostNode describes this machine as a default-configured kubelet's node
// would: allocatable cpu = the number of CPUs, memory = MemTotal minus the
// default hard eviction threshold (100Mi), ephemeral-storage = the size of
// the file system holding /var/lib (or /) minus its default eviction
// threshold (10%); no kube or system reservations.
func HostNode() Node {
	n := Node{Allocatable: kubeapi.ResourceList{}}
	if h, err := os.Hostname(); err == nil {
		n.Name = strings.ToLower(strings.TrimSpace(h))
	}
	if n.HostIPs = hostIPs(); len(n.HostIPs) == 0 {
		// No global address at all (a machine without network): the
		// loopback rather than an error, so that status.hostIP is usable.
		n.HostIPs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	}
	n.Allocatable[kubeapi.ResourceCPU] = *kubeapi.NewQuantity(int64(runtime.NumCPU()), kubeapi.DecimalSI)
	if mem := memTotal(); mem > 0 {
		n.Allocatable[kubeapi.ResourceMemory] = *kubeapi.NewQuantity(max(mem-100<<20, 0), kubeapi.BinarySI)
	}
	var st unix.Statfs_t
	if unix.Statfs("/var/lib", &st) == nil || unix.Statfs("/", &st) == nil {
		size := int64(st.Blocks) * st.Bsize
		n.Allocatable[kubeapi.ResourceEphemeralStorage] = *kubeapi.NewQuantity(size-size/10, kubeapi.BinarySI)
	}
	return n
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// hostIPs: per family, the first global address of the default route's
// interface, else of any interface that is up.
func hostIPs() []netip.Addr {
	routeIf := map[bool]string{true: defaultRouteIf("/proc/net/route", 0, 1, "00000000"),
		false: defaultRouteIf("/proc/net/ipv6_route", 9, 0, strings.Repeat("0", 32)+" 00000000")}
	ifs, _ := net.Interfaces()
	var out []netip.Addr
	for _, v4 := range []bool{true, false} {
		var pick netip.Addr
		for _, pass := range []bool{true, false} {
			for _, itf := range ifs {
				if itf.Flags&net.FlagUp == 0 || itf.Flags&net.FlagLoopback != 0 || pass && itf.Name != routeIf[v4] {
					continue
				}
				addrs, _ := itf.Addrs()
				for _, a := range addrs {
					if n, ok := a.(*net.IPNet); ok {
						ip, _ := netip.AddrFromSlice(n.IP)
						ip = ip.Unmap()
						if ip.Is4() == v4 && ip.IsGlobalUnicast() && !pick.IsValid() {
							pick = ip
						}
					}
				}
			}
			if pick.IsValid() {
				break
			}
		}
		if pick.IsValid() {
			out = append(out, pick)
		}
	}
	return out
}

// defaultRouteIf reads the interface of the default route from a
// /proc/net route table: the line whose destination field(s) match dst.
func defaultRouteIf(file string, ifField, dstField int, dst string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) <= max(ifField, dstField+1) {
			continue
		}
		d := f[dstField]
		if strings.Contains(dst, " ") {
			d += " " + f[dstField+1]
		}
		if d == dst {
			return f[ifField]
		}
	}
	return ""
}

// newUID is metadata.uid: a random (version 4) UUID, new for every run, as
// the API server gives every created pod a new one.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// podField is the value of a downward API fieldPath known before the pod
// exists (everything but status.podIP(s)). volume selects the paths a
// downwardAPI volume takes (metadata.labels and .annotations whole, in
// the kubelet's key="quoted value" lines); env the ones an env var takes.
// ok is false (and a problem recorded) for a path podrun does not resolve.
func (c *converter) podField(field, apiVersion, path string, volume bool) (string, bool) {
	if apiVersion != "" && apiVersion != "v1" {
		c.bad(field+".apiVersion", "%q (want v1)", apiVersion)
		return "", false
	}
	f := field + ".fieldPath"
	meta := &c.src.ObjectMeta
	if base, key, ok := splitSubscript(path); ok {
		k := key
		if base == "metadata.annotations" {
			k = strings.ToLower(key)
		}
		if base != "metadata.labels" && base != "metadata.annotations" {
			c.bad(f, "%q: only metadata.labels and metadata.annotations take a ['key'] subscript", path)
			return "", false
		}
		if msgs := kubeapi.IsQualifiedName(k); len(msgs) > 0 {
			c.bad(f, "%q: %s", path, strings.Join(msgs, "; "))
			return "", false
		}
		if base == "metadata.labels" {
			return meta.Labels[key], true
		}
		return meta.Annotations[key], true
	}
	ns := meta.Namespace
	if ns == "" {
		ns = "default"
	}
	switch {
	case path == fieldName:
		return meta.Name, true
	case path == fieldNamespace:
		return ns, true
	case path == "metadata.uid":
		return c.uid, true
	case volume && path == "metadata.labels":
		return formatMap(meta.Labels), true
	case volume && path == "metadata.annotations":
		return formatMap(meta.Annotations), true
	case !volume && (path == "spec.nodeName" || path == "spec.host"):
		return c.node().Name, true
	case !volume && path == "spec.serviceAccountName":
		// The ServiceAccount admission plugin's default.
		return cmpOr(c.src.Spec.ServiceAccountName, c.src.Spec.DeprecatedServiceAccount, "default"), true
	case !volume && (path == "status.hostIP" || path == "status.hostIPs"):
		ips := podIPStrings(c.node().HostIPs)
		if len(ips) == 0 {
			c.bad(f, "%s: this machine has no global IP address", path)
			return "", false
		}
		if path == "status.hostIP" {
			return ips[0], true
		}
		return strings.Join(ips, ","), true
	}
	want := "metadata.name, metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], " +
		"spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP, status.podIPs"
	if volume {
		want = "metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations and their ['KEY']"
	}
	c.problems = append(c.problems, Problem{Field: f, Err: ErrUnsupported, Msg: fmt.Sprintf("%q (podrun resolves %s)", path, want)})
	return "", false
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// splitSubscript splits "metadata.labels['k']" into the path and key.
func splitSubscript(p string) (base, key string, ok bool) {
	if !strings.HasSuffix(p, "']") {
		return p, "", false
	}
	i := strings.Index(p, "['")
	if i < 0 {
		return p, "", false
	}
	return p[:i], p[i+2 : len(p)-2], true
}

// formatMap is the kubelet's format of labels and annotations in a
// downwardAPI file: sorted key="Go-quoted value" lines, no final newline.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(m) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// resourceNames are the resources resourceFieldRef takes (hugepages are
// not supported: podkit has none).
var resourceNames = map[string]kubeapi.ResourceName{
	"limits.cpu": kubeapi.ResourceCPU, "limits.memory": kubeapi.ResourceMemory,
	"limits.ephemeral-storage": kubeapi.ResourceEphemeralStorage,
	"requests.cpu":             kubeapi.ResourceCPU, "requests.memory": kubeapi.ResourceMemory,
	"requests.ephemeral-storage": kubeapi.ResourceEphemeralStorage,
}

var memoryDivisors = strings.Fields("1 1k 1M 1G 1T 1P 1E 1Ki 1Mi 1Gi 1Ti 1Pi 1Ei")

// resourceValue resolves a resourceFieldRef as the kubelet does: the
// named container's (or self's) limit or request, a missing (or zero)
// limit replaced by the node's allocatable amount, a missing request
// defaulted to the limit the manifest gives (the API server's defaulting),
// divided by the divisor and rounded up. In env, a named init container
// gets no allocatable defaults (the kubelet merges them into the app
// containers only); in volumes every container does.
func (c *converter) resourceValue(field string, ref *kubeapi.ResourceFieldSelector, self *kubeapi.Container, volume bool) (string, bool) {
	name, known := resourceNames[ref.Resource]
	switch {
	case volume && ref.ContainerName == "":
		c.bad(field+".containerName", "required in a downwardAPI volume")
		return "", false
	case ref.Resource == "":
		c.bad(field+".resource", "required")
		return "", false
	case !known:
		c.problems = append(c.problems, Problem{Field: field + ".resource", Err: ErrUnsupported,
			Msg: fmt.Sprintf("%q (podrun resolves limits/requests.cpu, .memory, .ephemeral-storage)", ref.Resource)})
		return "", false
	}
	divisor := kubeapi.MustParse("1")
	if !ref.Divisor.IsZero() {
		d := ref.Divisor.String()
		ok := name == kubeapi.ResourceCPU && (d == "1" || d == "1m") || name != kubeapi.ResourceCPU && containsStr(memoryDivisors, d)
		if !ok {
			allowed := "1m and 1"
			if name != kubeapi.ResourceCPU {
				allowed = strings.Join(memoryDivisors, ", ")
			}
			c.bad(field+".divisor", "%s: the divisor of %s must be one of %s", d, ref.Resource, allowed)
			return "", false
		}
		divisor = ref.Divisor
	}
	target, defaults := self, true
	if ref.ContainerName != "" {
		target = nil
		for i := range c.src.Spec.Containers {
			if c.src.Spec.Containers[i].Name == ref.ContainerName {
				target = &c.src.Spec.Containers[i]
			}
		}
		for i := range c.src.Spec.InitContainers {
			if c.src.Spec.InitContainers[i].Name == ref.ContainerName && target == nil {
				target, defaults = &c.src.Spec.InitContainers[i], volume
			}
		}
		if target == nil {
			c.bad(field+".containerName", "no container named %q in the pod", ref.ContainerName)
			return "", false
		}
	}
	var q kubeapi.Quantity
	lim, hasLim := target.Resources.Limits[name]
	if strings.HasPrefix(ref.Resource, "requests.") {
		if req, ok := target.Resources.Requests[name]; ok {
			q = req
		} else if hasLim {
			q = lim // a missing request defaults to the limit
		}
	} else {
		q = lim
		if (!hasLim || lim.IsZero()) && defaults {
			q = c.node().Allocatable[name]
		}
	}
	var v float64
	if name == kubeapi.ResourceCPU {
		v = math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue()))
	} else {
		v = math.Ceil(float64(q.Value()) / float64(divisor.Value()))
	}
	return strconv.FormatInt(int64(v), 10), true
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
