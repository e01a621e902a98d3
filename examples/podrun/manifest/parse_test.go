//go:build linux

package manifest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/sandbox"
)

// pod builds a manifest with extra spec-level YAML (indented 2) and extra
// fields for the first container (indented 4).
func pod(spec, ctr string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: t
spec:
%s
  containers:
  - name: app
    image: host
    command: ["/bin/sh", "-c", "sleep 1"]
%s
`, spec, ctr)
}

func parseErr(t *testing.T, doc string) *Error {
	t.Helper()
	_, err := Parse([]byte(doc), Options{Path: "test.yaml"})
	if err == nil {
		t.Fatalf("Parse accepted:\n%s", doc)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *Error: %v", err, err)
	}
	return e
}

func TestUnsupportedFields(t *testing.T) {
	for _, tc := range []struct {
		spec, ctr string
		fields    []string
	}{
		{spec: "  dnsConfig:\n    nameservers: [1.1.1.1]", fields: []string{"spec.dnsConfig"}},
		{spec: "  hostAliases:\n  - ip: 10.0.0.1\n    hostnames: [a]", fields: []string{"spec.hostAliases"}},
		{spec: "  activeDeadlineSeconds: 5", fields: []string{"spec.activeDeadlineSeconds"}},
		{spec: "  runtimeClassName: gvisor", fields: []string{"spec.runtimeClassName"}},
		{spec: "  subdomain: x", fields: []string{"spec.subdomain"}},
		{spec: "  setHostnameAsFQDN: true", fields: []string{"spec.setHostnameAsFQDN"}},
		{spec: "  ephemeralContainers:\n  - name: dbg\n    image: host", fields: []string{"spec.ephemeralContainers"}},
		{spec: "  readinessGates:\n  - conditionType: x", fields: []string{"spec.readinessGates"}},
		{spec: "  os:\n    name: linux", fields: []string{"spec.os"}},
		{spec: "  securityContext:\n    fsGroup: 5\n    sysctls:\n    - name: net.core.somaxconn\n      value: \"10\"",
			fields: []string{"spec.securityContext.sysctls"}},
		{spec: "  volumes:\n  - name: c\n    projected:\n      sources: []", fields: []string{"spec.volumes[0]", "spec.volumes[0].projected"}},
		{spec: "  volumes:\n  - name: e\n    emptyDir:\n      medium: HugePages", fields: []string{"spec.volumes[0].emptyDir.medium"}},
		{spec: "  volumes:\n  - name: h\n    hostPath:\n      path: /tmp\n      type: DirectoryOrCreate", fields: []string{"spec.volumes[0].hostPath.type"}},
		{ctr: "    stdin: true\n    tty: true", fields: []string{"spec.containers[0].stdin", "spec.containers[0].tty"}},
		{ctr: "    livenessProbe:\n      grpc:\n        port: 9", fields: []string{"spec.containers[0].livenessProbe.grpc"}},
		{ctr: "    livenessProbe:\n      exec:\n        command: ['true']\n      terminationGracePeriodSeconds: 3",
			fields: []string{"spec.containers[0].livenessProbe.terminationGracePeriodSeconds"}},
		{ctr: "    env:\n    - name: A\n      valueFrom:\n        fileKeyRef:\n          key: k", fields: []string{"spec.containers[0].env[0].valueFrom.fileKeyRef"}},
		{ctr: "    env:\n    - name: A\n      valueFrom:\n        fieldRef:\n          fieldPath: status.phase", fields: []string{"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath"}},
		{ctr: "    ports:\n    - containerPort: 80\n      protocol: SCTP", fields: []string{"spec.containers[0].ports[0].protocol"}},
		{ctr: "    securityContext:\n      procMount: Unmasked", fields: []string{"spec.containers[0].securityContext.procMount"}},
		{ctr: "    resources:\n      limits:\n        nvidia.com/gpu: 1\n        ephemeral-storage: 1Gi",
			fields: []string{"spec.containers[0].resources.limits.ephemeral-storage", "spec.containers[0].resources.limits.nvidia.com/gpu"}},
		{ctr: "    resources:\n      claims:\n      - name: gpu", fields: []string{"spec.containers[0].resources.claims"}},
		{ctr: "    restartPolicy: Always", fields: []string{"spec.containers[0].restartPolicy"}},
		{ctr: "    resizePolicy:\n    - resourceName: cpu\n      restartPolicy: NotRequired", fields: []string{"spec.containers[0].resizePolicy"}},
		{ctr: "    volumeDevices:\n    - name: d\n      devicePath: /dev/xvda", fields: []string{"spec.containers[0].volumeDevices"}},
		{spec: "  volumes:\n  - name: v\n    emptyDir: {}", ctr: "    volumeMounts:\n    - name: v\n      mountPath: /data\n      subPath: x\n      mountPropagation: Bidirectional",
			fields: []string{"spec.containers[0].volumeMounts[0].mountPropagation"}},
	} {
		t.Run(strings.Join(tc.fields, ","), func(t *testing.T) {
			e := parseErr(t, pod(tc.spec, tc.ctr))
			if !errors.Is(e, ErrUnsupported) {
				t.Fatalf("not ErrUnsupported: %v", e)
			}
			got := e.Fields(ErrUnsupported)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.fields))
			if !slices.Equal(got, want) {
				t.Fatalf("unsupported fields %q, want %q\n%v", got, want, e)
			}
			for _, f := range tc.fields {
				if !strings.Contains(e.Error(), f) {
					t.Errorf("message does not name %s:\n%v", f, e)
				}
			}
		})
	}
}

func TestExplicitFalseIsAccepted(t *testing.T) {
	p, err := Parse([]byte(pod("  hostNetwork: false", "    securityContext:\n      privileged: false\n    stdin: false")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Fatalf("warnings: %q", p.Warnings)
	}
}

func TestWarnings(t *testing.T) {
	doc := pod(`  nodeSelector:
    disk: ssd
  tolerations:
  - key: k
    operator: Exists
  serviceAccountName: default
  dnsPolicy: ClusterFirst
  priorityClassName: high`, `    imagePullPolicy: IfNotPresent
    terminationMessagePolicy: FallbackToLogsOnError`) + "status:\n  phase: Running\n"
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, w := range p.Warnings {
		f, _, _ := strings.Cut(w, ":")
		fields = append(fields, f)
	}
	slices.Sort(fields)
	want := []string{"spec.containers[0].imagePullPolicy",
		"spec.dnsPolicy", "spec.nodeSelector", "spec.priorityClassName", "spec.serviceAccountName",
		"spec.tolerations", "status"}
	if !slices.Equal(fields, want) {
		t.Fatalf("warned about %q, want %q", fields, want)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      error
		contains  []string
	}{
		{"empty", "  \n# nothing\n", ErrSyntax, []string{"empty"}},
		{"malformed yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [}\n", ErrSyntax, []string{"yaml"}},
		{"not a mapping", "- a\n- b\n", ErrSyntax, []string{"mapping"}},
		{"two pods of one name", pod("", "") + "---\n" + pod("", ""), ErrInvalid, []string{"document 2 (line 13, Pod t): metadata.name", "is also document 1"}},
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template: {}\n", ErrKind,
			[]string{`kind "Deployment"`, "spec.template"}},
		{"service", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", ErrKind, []string{`kind "Service"`}},
		{"no kind", "metadata: {name: s}\n", ErrKind, []string{"apiVersion and kind are missing"}},
		{"pod v2", "apiVersion: v2\nkind: Pod\n", ErrKind, []string{`apiVersion "v2"`}},
		{"typo", strings.Replace(pod("", ""), "containers:", "contianers:", 1), ErrSyntax, []string{`unknown field "contianers"`}},
		{"wrong type", pod("", "    workingDir: [a]"), ErrSyntax, []string{"workingDir"}},
		{"bad quantity", pod("", "    resources:\n      limits:\n        memory: 12Zi\n        cpu: lots"), ErrInvalid,
			[]string{"spec.containers[0].resources.limits.memory", `"12Zi" is not a valid quantity`, "resources.limits.cpu"}},
		{"bad sizeLimit", pod("  volumes:\n  - name: v\n    emptyDir:\n      sizeLimit: big", ""), ErrInvalid,
			[]string{"spec.volumes[0].emptyDir.sizeLimit"}},
		{"missing image", strings.Replace(pod("", ""), "    image: host\n", "", 1), ErrImage,
			[]string{"spec.containers[0].image: missing"}},
		{"bad reference", strings.Replace(pod("", ""), "image: host", "image: Nginx/Bad:1.27:x", 1), ErrImage,
			[]string{"spec.containers[0].image", `"Nginx/Bad:1.27:x" is not a valid image reference`, `"host"`}},
		{"bad pull policy", strings.Replace(pod("", ""), "image: host", "image: nginx:1.27\n    imagePullPolicy: Sometimes", 1), ErrInvalid,
			[]string{"spec.containers[0].imagePullPolicy"}},
		{"missing rootfs dir", strings.Replace(pod("", ""), "image: host", "image: /nonexistent/rootfs", 1), ErrImage,
			[]string{"/nonexistent/rootfs is not a directory"}},
		{"no command", strings.Replace(pod("", ""), `    command: ["/bin/sh", "-c", "sleep 1"]`, `    args: ["x"]`, 1), ErrInvalid,
			[]string{"spec.containers[0].command: required with args"}},
		{"no name", strings.Replace(pod("", ""), "name: t\n", "labels: {a: b}\n", 1), ErrInvalid, []string{"metadata.name: required"}},
		{"bad name", strings.Replace(pod("", ""), "name: t\n", "name: ../x\n", 1), ErrInvalid, []string{"metadata.name"}},
		{"no containers", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {}\n", ErrInvalid, []string{"spec.containers: at least one"}},
		{"bad restart policy", pod("  restartPolicy: Sometimes", ""), ErrInvalid, []string{"spec.restartPolicy"}},
		{"unknown volume", pod("", "    volumeMounts:\n    - name: nope\n      mountPath: /data"), ErrInvalid, []string{`no volume "nope"`}},
		{"hostPath missing", pod("  volumes:\n  - name: h\n    hostPath:\n      path: /nonexistent/x", ""), ErrInvalid, []string{"spec.volumes[0].hostPath.path"}},
		{"request above limit", pod("", "    resources:\n      limits: {cpu: 100m}\n      requests: {cpu: 200m}"), ErrInvalid, []string{"requests.cpu"}},
		{"runAsNonRoot as root", pod("", "    securityContext:\n      runAsNonRoot: true"), ErrInvalid, []string{"runAsNonRoot"}},
		{"unknown capability", pod("", "    securityContext:\n      capabilities:\n        add: [NET_FLY]"), ErrInvalid, []string{`unknown capability "NET_FLY"`}},
		{"liveness success threshold", pod("", "    livenessProbe:\n      exec: {command: ['true']}\n      successThreshold: 2"), ErrInvalid, []string{"successThreshold"}},
		{"probe two handlers", pod("", "    readinessProbe:\n      exec: {command: ['true']}\n      tcpSocket: {port: 80}"), ErrInvalid, []string{"exactly one"}},
		{"probe named port", pod("", "    readinessProbe:\n      tcpSocket: {port: web}"), ErrInvalid, []string{`no container port named "web"`}},
		{"duplicate container", strings.Replace(pod("  initContainers:\n  - name: app\n    image: host\n    command: ['true']", ""), "", "", 1), ErrInvalid,
			[]string{`"app" is also the name of spec.initContainers[0]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := parseErr(t, tc.doc)
			if !errors.Is(e, tc.want) {
				t.Fatalf("error is not %v: %v", tc.want, e)
			}
			for _, s := range tc.contains {
				if !strings.Contains(e.Error(), s) {
					t.Errorf("message lacks %q:\n%v", s, e)
				}
			}
		})
	}
}

func TestAllProblemsInOneError(t *testing.T) {
	doc := pod("  runtimeClassName: gvisor\n  restartPolicy: Sometimes", "    stdin: true")
	doc = strings.Replace(doc, "image: host", "image: \"Bad Ref\"", 1)
	e := parseErr(t, doc)
	for _, want := range []error{ErrUnsupported, ErrInvalid, ErrImage} {
		if !errors.Is(e, want) {
			t.Errorf("not %v", want)
		}
	}
	if n := len(e.Problems); n != 4 {
		t.Fatalf("%d problems, want 4:\n%v", n, e)
	}
}

func TestConvertFull(t *testing.T) {
	doc := `apiVersion: v1
kind: Pod
metadata:
  name: full
  namespace: demo
  labels: {app: full}
spec:
  hostname: box
  restartPolicy: OnFailure
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 7
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
    supplementalGroups: [5, 6]
  volumes:
  - name: scratch
    emptyDir: {}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 16Mi}
  - name: src
    hostPath: {path: /etc, type: Directory}
  initContainers:
  - name: prep
    image: host
    command: [/bin/sh, -c]
    args: ["echo $(GREETING) > /data/x"]
    env: [{name: GREETING, value: hi}]
    volumeMounts: [{name: scratch, mountPath: /data}]
  containers:
  - name: web
    image: host
    command: [/bin/sh, -c, "echo $(GREETING) $$(GREETING) $(UNSET)"]
    workingDir: /tmp
    env:
    - {name: GREETING, value: hello}
    - {name: BOTH, value: "$(GREETING) world"}
    ports: [{name: http, containerPort: 8080}]
    resources:
      limits: {cpu: 500m, memory: 64Mi}
      requests: {cpu: 250m, memory: 32Mi}
    volumeMounts:
    - {name: mem, mountPath: /cache}
    - {name: src, mountPath: /host-etc, readOnly: true}
    securityContext:
      runAsUser: 33
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    lifecycle:
      preStop: {exec: {command: [/bin/true]}}
    livenessProbe:
      tcpSocket: {port: http}
      initialDelaySeconds: 2
      periodSeconds: 3
    readinessProbe:
      httpGet: {path: healthz, port: 8080, httpHeaders: [{name: X-A, value: b}]}
      successThreshold: 2
      timeoutSeconds: 4
`
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "full" || p.Namespace != "demo" || p.Labels["app"] != "full" || p.Grace != 7*time.Second {
		t.Errorf("meta: %+v", p)
	}
	cfg := p.Config
	if cfg.ID != "full" || cfg.Hostname != "box" || !cfg.SharePID || p.RestartPolicy != kubelet.RestartOnFailure {
		t.Errorf("config: %+v", cfg)
	}
	wantVols := []sandbox.Volume{{Name: "scratch"}, {Name: "mem", Medium: sandbox.MediumMemory, SizeLimit: 16 << 20},
		{Name: TmpVolume("prep"), Medium: sandbox.MediumMemory, SizeLimit: HostTmpSize},
		{Name: TmpVolume("web"), Medium: sandbox.MediumMemory, SizeLimit: HostTmpSize}}
	if !reflect.DeepEqual(cfg.Volumes, wantVols) {
		t.Errorf("volumes %+v\nwant %+v", cfg.Volumes, wantVols)
	}
	prep := p.InitContainers[0]
	if !prep.Init || !prep.HostImage || !slices.Equal(prep.Spec.Args, []string{"/bin/sh", "-c", "echo hi > /data/x"}) {
		t.Errorf("init: %+v", prep)
	}
	if prep.Spec.UID != 1000 || prep.Spec.GID != 1000 || !slices.Equal(prep.Spec.AdditionalGIDs, []uint32{5, 6}) {
		t.Errorf("init ids: %+v", prep.Spec)
	}
	w := p.Containers[0]
	s := w.Spec
	if !slices.Equal(s.Args, []string{"/bin/sh", "-c", "echo hello $(GREETING) $(UNSET)"}) {
		t.Errorf("args %q", s.Args)
	}
	if !slices.Equal(s.Env, []string{"HOSTNAME=box", "GREETING=hello", "BOTH=hello world"}) {
		t.Errorf("env %q", s.Env)
	}
	if s.Cwd != "/tmp" || s.UID != 33 || s.GID != 1000 || s.AllowNewPrivileges || !s.ReadOnlyRootfs {
		t.Errorf("spec %+v", s)
	}
	if !slices.Equal(s.Capabilities, []string{"CAP_NET_BIND_SERVICE"}) || !slices.Equal(s.PreStop, []string{"/bin/true"}) {
		t.Errorf("caps %q prestop %q", s.Capabilities, s.PreStop)
	}
	wantRes := sandbox.Resources{MemoryLimit: 64 << 20, CPURequestMilli: 250, CPULimitMilli: 500}
	if s.Resources != wantRes {
		t.Errorf("resources %+v want %+v", s.Resources, wantRes)
	}
	wantMounts := []sandbox.Mount{{Destination: "/tmp", Volume: TmpVolume("web")}, {Destination: "/cache", Volume: "mem"},
		{Destination: "/host-etc", Source: "/etc", ReadOnly: true}}
	if !reflect.DeepEqual(s.Mounts, wantMounts) {
		t.Errorf("mounts %+v", s.Mounts)
	}
	live := &Probe{Kind: ProbeTCP, Host: "127.0.0.1", Port: 8080, InitialDelay: 2 * time.Second, Period: 3 * time.Second,
		Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 3}
	if !reflect.DeepEqual(w.Liveness, live) {
		t.Errorf("liveness %+v", w.Liveness)
	}
	ready := &Probe{Kind: ProbeHTTP, Host: "127.0.0.1", Port: 8080, Path: "/healthz", Scheme: "HTTP", Headers: map[string]string{"X-A": "b"},
		Period: 10 * time.Second, Timeout: 4 * time.Second, SuccessThreshold: 2, FailureThreshold: 3}
	if !reflect.DeepEqual(w.Readiness, ready) {
		t.Errorf("readiness %+v", w.Readiness)
	}
	ps := p.PodSpec()
	if len(ps.InitContainers) != 1 || len(ps.Containers) != 1 || ps.RestartPolicy != kubelet.RestartOnFailure {
		t.Errorf("podspec %+v", ps)
	}
}

func TestCPUDefaultsAndJSON(t *testing.T) {
	doc := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"host",
	"command":["/bin/true"],"resources":{"limits":{"cpu":"1m","memory":"1Gi"}}}]}}`
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Containers[0].Spec.Resources
	if r.CPURequestMilli != 1 || r.CPULimitMilli != 1 || r.MemoryLimit != 1<<30 {
		t.Fatalf("resources %+v", r)
	}
	if p.Grace != DefaultGrace || p.RestartPolicy != kubelet.RestartAlways || p.Namespace != "default" || p.Config.Hostname != "j" {
		t.Fatalf("defaults %+v", p)
	}
}

func TestRootfsImage(t *testing.T) {
	dir := t.TempDir()
	doc := strings.Replace(pod("", ""), "image: host", "image: "+dir, 1)
	p, err := Parse([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Containers[0]
	if c.HostImage || c.Spec.Rootfs != dir || c.Spec.ReadOnlyRootfs || len(c.Spec.Mounts) != 0 {
		t.Fatalf("%+v", c)
	}
	doc = strings.Replace(pod("", ""), "image: host", "image: ./rootfs", 1)
	if err := mkdir(dir + "/rootfs"); err != nil {
		t.Fatal(err)
	}
	p, err = Parse([]byte(doc), Options{Path: dir + "/pod.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Containers[0].Spec.Rootfs; got != dir+"/rootfs" {
		t.Fatalf("rootfs %q", got)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"$(A)":       "1",
		"x$(A)y$(B)": "x1ytwo",
		"$$(A)":      "$(A)",
		"$(C)":       "$(C)",
		"$(A":        "$(A",
		"$":          "$",
		"a$b":        "a$b",
		"$$$(B)":     "$two",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocuments(t *testing.T) {
	for in, want := range map[string]int{
		"a: 1":                      1,
		"---\na: 1\n":               1,
		"a: 1\n---\n# c\n...\n":     1,
		"a: 1\n---\nb: 2":           2,
		"---\n---\n":                0,
		"a: |\n  x\n  ---y\nb: 1\n": 1,
	} {
		if got := documents([]byte(in)); got != want {
			t.Errorf("documents(%q) = %d, want %d", in, got, want)
		}
	}
}
