//go:build linux

package manifest

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

var testNode = Node{
	Name:    "node-1",
	HostIPs: []netip.Addr{netip.MustParseAddr("fd00::7"), netip.MustParseAddr("192.0.2.7")},
	Allocatable: kubeapi.ResourceList{
		kubeapi.ResourceCPU:              kubeapi.MustParse("4"),
		kubeapi.ResourceMemory:           kubeapi.MustParse("8Gi"),
		kubeapi.ResourceEphemeralStorage: kubeapi.MustParse("100Gi"),
	},
}

const objectsYAML = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  LEVEL: debug
  greeting: hello
  app.conf: "a=1\n"
binaryData:
  blob.bin: AAEC/w==
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
type: Opaque
immutable: true
data:
  password: czNjcjN0
  token: b2xk
stringData:
  token: new
---
`

// podDoc is a pod (name t) after the objects, with extra spec YAML
// (indented 2) and container YAML (indented 4).
func podDoc(spec, ctr string) string { return objectsYAML + pod(spec, ctr) }

func parseOK(t *testing.T, doc string) *Pod {
	t.Helper()
	p, err := Parse([]byte(doc), Options{Node: &testNode})
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return p
}

func envOf(c Container) map[string]string { return envMap(c.Spec.Env) }

func TestSplitDocuments(t *testing.T) {
	docs := splitDocuments([]byte("# head\n---\na: 1\n--- # second\nb: 2\n---\n\n...\n---   \nc: |\n  ---x\n"))
	var got []string
	for _, d := range docs {
		got = append(got, strings.TrimSpace(string(d.data)))
	}
	if want := []string{"a: 1", "b: 2", "c: |\n  ---x"}; !slices.Equal(got, want) {
		t.Fatalf("documents %q, want %q", got, want)
	}
	if docs[0].line != 3 || docs[1].line != 5 || docs[2].line != 10 || docs[2].n != 3 {
		t.Fatalf("lines/numbers %+v", docs)
	}
}

func TestEnvFromObjects(t *testing.T) {
	p := parseOK(t, podDoc("", `    envFrom:
    - configMapRef: {name: cfg}
      prefix: CFG_
    - secretRef: {name: sec}
    - configMapRef: {name: absent, optional: true}
    - secretRef: {name: absent, optional: true}
    env:
    - name: password
      value: overridden $(CFG_LEVEL)
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}
    - name: PW
      valueFrom: {secretKeyRef: {name: sec, key: password}}
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: sec, key: token}}
    - name: OPT_KEY
      valueFrom: {configMapKeyRef: {name: cfg, key: nope, optional: true}}
    - name: OPT_MAP
      valueFrom: {secretKeyRef: {name: absent, key: k, optional: true}}
    - name: REF
      value: "$(GREETING)-$(PW)"`))
	env := envOf(p.Containers[0])
	want := map[string]string{
		"CFG_LEVEL": "debug", "CFG_greeting": "hello", "CFG_app.conf": "a=1\n",
		"password": "overridden debug", "token": "new", // env overrides envFrom; stringData wins over data
		"GREETING": "hello", "PW": "s3cr3t", "TOKEN": "new", "REF": "hello-s3cr3t",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"OPT_KEY", "OPT_MAP", "CFG_blob.bin"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is set (optional missing source, or binaryData in envFrom)", k)
		}
	}
	if p.UID == "" || len(p.UID) != 36 {
		t.Errorf("uid %q", p.UID)
	}
}

// TestMissingReferences: a ConfigMap, Secret or key the manifest lacks is
// ErrNotFound naming the field, unless optional.
func TestMissingReferences(t *testing.T) {
	for _, tc := range []struct{ spec, ctr, field string }{
		{"", "    env:\n    - name: A\n      valueFrom: {configMapKeyRef: {name: nope, key: k}}", "spec.containers[0].env[0].valueFrom.configMapKeyRef.name"},
		{"", "    env:\n    - name: A\n      valueFrom: {configMapKeyRef: {name: cfg, key: nope}}", "spec.containers[0].env[0].valueFrom.configMapKeyRef.key"},
		{"", "    env:\n    - name: A\n      valueFrom: {secretKeyRef: {name: nope, key: k}}", "spec.containers[0].env[0].valueFrom.secretKeyRef.name"},
		{"", "    env:\n    - name: A\n      valueFrom: {secretKeyRef: {name: sec, key: nope}}", "spec.containers[0].env[0].valueFrom.secretKeyRef.key"},
		{"", "    envFrom:\n    - configMapRef: {name: nope}", "spec.containers[0].envFrom[0].configMapRef.name"},
		{"", "    envFrom:\n    - secretRef: {name: nope}", "spec.containers[0].envFrom[0].secretRef.name"},
		{"  volumes:\n  - name: v\n    configMap: {name: nope}", "", "spec.volumes[0].configMap.name"},
		{"  volumes:\n  - name: v\n    secret: {secretName: nope}", "", "spec.volumes[0].secret.secretName"},
		{"  volumes:\n  - name: v\n    configMap:\n      name: cfg\n      items: [{key: nope, path: x}]", "", "spec.volumes[0].configMap.items[0].key"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			e := parseErr(t, podDoc(tc.spec, tc.ctr))
			if !errors.Is(e, ErrNotFound) || !slices.Equal(e.Fields(ErrNotFound), []string{tc.field}) {
				t.Fatalf("want ErrNotFound at %s, got %q: %v", tc.field, e.Fields(nil), e)
			}
			if !strings.Contains(e.Error(), tc.field) || !strings.Contains(e.Error(), "optional: true") {
				t.Errorf("message: %v", e)
			}
		})
	}
	// A ConfigMap of another namespace is not the pod's.
	doc := strings.Replace(podDoc("", "    envFrom:\n    - configMapRef: {name: cfg}"), "metadata: {name: cfg}", "metadata: {name: cfg, namespace: other}", 1)
	if e := parseErr(t, doc); !errors.Is(e, ErrNotFound) {
		t.Fatalf("a ConfigMap of namespace other found from namespace default: %v", e)
	}
}

func TestDataVolumes(t *testing.T) {
	p := parseOK(t, podDoc(`  volumes:
  - name: all
    configMap: {name: cfg}
  - name: some
    configMap:
      name: cfg
      defaultMode: 0600
      items:
      - {key: greeting, path: dir/greeting.txt}
      - {key: LEVEL, path: level, mode: 0444}
      - {key: nope, path: x}
      optional: true
  - name: sec
    secret: {secretName: sec, defaultMode: 0400}
  - name: gone
    secret: {secretName: absent, optional: true}
  - name: picked
    secret:
      secretName: sec
      items: [{key: token, path: t/token, mode: 0440}, {key: password, path: pw}]`, `    volumeMounts:
    - {name: all, mountPath: /all}
    - {name: some, mountPath: /some, readOnly: false}`))
	type f struct {
		path, data string
		mode       os.FileMode
	}
	got := map[string][]f{}
	kinds := map[string]string{}
	for _, dv := range p.DataVolumes {
		kinds[dv.Name] = dv.Kind
		for _, x := range dv.Files {
			got[dv.Name] = append(got[dv.Name], f{x.Path, string(x.Data), x.Mode})
		}
	}
	want := map[string][]f{
		"all":    {{"LEVEL", "debug", 0o644}, {"app.conf", "a=1\n", 0o644}, {"blob.bin", "\x00\x01\x02\xff", 0o644}, {"greeting", "hello", 0o644}},
		"some":   {{"dir/greeting.txt", "hello", 0o600}, {"level", "debug", 0o444}},
		"sec":    {{"password", "s3cr3t", 0o400}, {"token", "new", 0o400}},
		"picked": {{"pw", "s3cr3t", 0o644}, {"t/token", "new", 0o440}},
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("volume %s: %+v, want %+v", name, got[name], w)
		}
	}
	if len(got["gone"]) != 0 || kinds["gone"] != "secret" {
		t.Errorf("optional missing secret: %+v (%s)", got["gone"], kinds["gone"])
	}
	media := map[string]string{}
	for _, v := range p.Config.Volumes {
		media[v.Name] = string(v.Medium)
	}
	if media["all"] != "" || media["sec"] != "Memory" {
		t.Errorf("media %v: configMap on disk, secret in memory (as the kubelet)", media)
	}
	for _, m := range p.Containers[0].Spec.Mounts {
		if (m.Destination == "/all" || m.Destination == "/some") && !m.ReadOnly {
			t.Errorf("%s mounted read-write", m.Destination)
		}
	}
}

func TestDataVolumeErrors(t *testing.T) {
	for _, tc := range []struct{ vol, field string }{
		{"configMap:\n      name: cfg\n      items: [{key: LEVEL, path: /abs}]", "spec.volumes[0].configMap.items[0].path"},
		{"configMap:\n      name: cfg\n      items: [{key: LEVEL, path: a/../../b}]", "spec.volumes[0].configMap.items[0].path"},
		{"configMap:\n      name: cfg\n      items: [{key: LEVEL, path: ..data}]", "spec.volumes[0].configMap.items[0].path"},
		{"configMap:\n      name: cfg\n      items: [{key: LEVEL, path: x, mode: 01000}]", "spec.volumes[0].configMap.items[0].mode"},
		{"configMap:\n      name: cfg\n      items: [{key: LEVEL, path: a}, {key: greeting, path: a/b}]", "spec.volumes[0]"},
		{"configMap: {name: cfg, defaultMode: -1}", "spec.volumes[0].configMap.defaultMode"},
		{"configMap: {name: \"\"}", "spec.volumes[0].configMap.name"},
		{"secret: {defaultMode: 0400}", "spec.volumes[0].secret.secretName"},
		{"downwardAPI:\n      items: [{path: x}]", "spec.volumes[0].downwardAPI.items[0]"},
		{"downwardAPI:\n      items: [{path: x, fieldRef: {fieldPath: metadata.name}, resourceFieldRef: {containerName: app, resource: limits.cpu}}]", "spec.volumes[0].downwardAPI.items[0]"},
		{"downwardAPI:\n      items: [{path: x, resourceFieldRef: {resource: limits.cpu}}]", "spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName"},
		{"downwardAPI:\n      items: [{path: x, resourceFieldRef: {containerName: nope, resource: limits.cpu}}]", "spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName"},
		{"downwardAPI:\n      items: [{path: x, fieldRef: {fieldPath: \"metadata.labels['bad key']\"}}]", "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath"},
		{"downwardAPI:\n      items: [{path: x, fieldRef: {fieldPath: metadata.name, apiVersion: v2}}]", "spec.volumes[0].downwardAPI.items[0].fieldRef.apiVersion"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			e := parseErr(t, podDoc("  volumes:\n  - name: v\n    "+tc.vol, ""))
			if !errors.Is(e, ErrInvalid) || !slices.Contains(e.Fields(ErrInvalid), tc.field) {
				t.Fatalf("want ErrInvalid at %s, got %q: %v", tc.field, e.Fields(nil), e)
			}
		})
	}
	// status.* paths are not a downwardAPI volume's.
	e := parseErr(t, pod("  volumes:\n  - name: v\n    downwardAPI:\n      items: [{path: x, fieldRef: {fieldPath: status.podIP}}]", ""))
	if !slices.Equal(e.Fields(ErrUnsupported), []string{"spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath"}) {
		t.Fatalf("%v", e)
	}
}

func TestDownwardEnv(t *testing.T) {
	doc := strings.Replace(pod(`  serviceAccountName: builder
  initContainers:
  - name: init
    image: host
    command: ["true"]
    resources: {requests: {memory: 10Mi}}`, `    resources:
      limits: {cpu: 1500m, memory: 100Mi}
      requests: {cpu: 250m}
    env:
    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace, apiVersion: v1}}}
    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    - {name: LABEL, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: NOLABEL, valueFrom: {fieldRef: {fieldPath: "metadata.labels['none']"}}}
    - {name: ANN, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['example.com/Owner']"}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: HOSTIP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: HOSTIPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}
    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
    - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    - {name: CPU_M, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
    - {name: CPU_REQ, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: MEM_REQ, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1M}}}
    - {name: STORAGE, valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage, divisor: 1Gi}}}
    - {name: STORAGE_REQ, valueFrom: {resourceFieldRef: {resource: requests.ephemeral-storage}}}
    - {name: OTHER_CPU, valueFrom: {resourceFieldRef: {containerName: other, resource: limits.cpu}}}
    - {name: INIT_MEM, valueFrom: {resourceFieldRef: {containerName: init, resource: limits.memory}}}
    - {name: INIT_MEM_REQ, valueFrom: {resourceFieldRef: {containerName: init, resource: requests.memory, divisor: 1Ki}}}
  - name: other
    image: host
    command: ["true"]`), "  name: t\n", "  name: t\n  namespace: ns1\n  labels: {app: web}\n  annotations: {example.com/Owner: me}\n", 1)
	p := parseOK(t, doc)
	env := envOf(p.Containers[0])
	want := map[string]string{
		"NAME": "t", "NS": "ns1", "UID": p.UID, "LABEL": "web", "NOLABEL": "", "ANN": "me",
		"NODE": "node-1", "HOSTIP": "192.0.2.7", "HOSTIPS": "192.0.2.7,fd00::7", "SA": "builder",
		"CPU": "2", "CPU_M": "1500", "CPU_REQ": "250", "MEM_MI": "100", "MEM_REQ": "105", // 104857600/1e6 rounded up
		"STORAGE": "100", "STORAGE_REQ": "0",
		"OTHER_CPU":    "4", // no limit: the node's allocatable
		"INIT_MEM":     "0", // a named init container gets no allocatable default in env (as the kubelet)
		"INIT_MEM_REQ": "10240",
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s=%q (set %v), want %q", k, got, ok, v)
		}
	}
	// The service account defaults to "default".
	p = parseOK(t, pod("", "    env:\n    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}"))
	if sa := envOf(p.Containers[0])["SA"]; sa != "default" {
		t.Errorf("SA=%q", sa)
	}
}

func TestDownwardErrors(t *testing.T) {
	for _, tc := range []struct {
		env, field string
		want       error
	}{
		{"fieldRef: {fieldPath: metadata.labels}", "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", ErrUnsupported},
		{"fieldRef: {fieldPath: \"spec.nodeName['x']\"}", "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", ErrInvalid},
		{"fieldRef: {fieldPath: \"metadata.annotations['-bad-']\"}", "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", ErrInvalid},
		{"resourceFieldRef: {resource: limits.gpu}", "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource", ErrUnsupported},
		{"resourceFieldRef: {resource: limits.hugepages-2Mi}", "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource", ErrUnsupported},
		{"resourceFieldRef: {resource: limits.cpu, divisor: 10m}", "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor", ErrInvalid},
		{"resourceFieldRef: {resource: limits.memory, divisor: 2Mi}", "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor", ErrInvalid},
		{"resourceFieldRef: {containerName: nope, resource: limits.memory}", "spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName", ErrInvalid},
		{"configMapKeyRef: {name: cfg, key: \"bad key\"}", "spec.containers[0].env[0].valueFrom.configMapKeyRef.key", ErrInvalid},
		{"configMapKeyRef: {key: k}", "spec.containers[0].env[0].valueFrom.configMapKeyRef.name", ErrInvalid},
		{"fieldRef: {fieldPath: metadata.name}\n        configMapKeyRef: {name: cfg, key: LEVEL}", "spec.containers[0].env[0].valueFrom", ErrInvalid},
	} {
		t.Run(tc.env, func(t *testing.T) {
			e := parseErr(t, podDoc("", "    env:\n    - name: A\n      valueFrom:\n        "+tc.env))
			if !errors.Is(e, tc.want) || !slices.Contains(e.Fields(tc.want), tc.field) {
				t.Fatalf("want %v at %s, got %q: %v", tc.want, tc.field, e.Fields(nil), e)
			}
		})
	}
	e := parseErr(t, podDoc("", "    env:\n    - name: A\n      value: x\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}"))
	if !slices.Contains(e.Fields(ErrInvalid), "spec.containers[0].env[0].valueFrom") {
		t.Fatalf("value with valueFrom: %v", e)
	}
	e = parseErr(t, podDoc("", "    envFrom:\n    - prefix: \"A=\"\n      configMapRef: {name: cfg}"))
	if !slices.Contains(e.Fields(ErrInvalid), "spec.containers[0].envFrom[0].prefix") {
		t.Fatalf("prefix with '=': %v", e)
	}
}

func TestDownwardVolume(t *testing.T) {
	doc := strings.Replace(pod(`  volumes:
  - name: info
    downwardAPI:
      defaultMode: 0440
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: m/name, fieldRef: {fieldPath: metadata.name}, mode: 0600}
      - {path: uid, fieldRef: {fieldPath: metadata.uid}}
      - {path: ns, fieldRef: {fieldPath: metadata.namespace}}
      - {path: tier, fieldRef: {fieldPath: "metadata.labels['tier']"}}
      - {path: cpu, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}
      - {path: initmem, resourceFieldRef: {containerName: init, resource: limits.memory, divisor: 1Gi}}
  initContainers:
  - {name: init, image: host, command: ["true"]}`, ""), "  name: t\n",
		"  name: t\n  labels: {tier: db, app: x}\n  annotations: {q: \"say \\\"hi\\\"\\n\"}\n", 1)
	p := parseOK(t, doc)
	files := map[string]string{}
	for _, f := range p.DataVolumes[0].Files {
		files[f.Path] = string(f.Data)
		want := os.FileMode(0o440)
		if f.Path == "m/name" {
			want = 0o600
		}
		if f.Mode != want {
			t.Errorf("%s mode %o, want %o", f.Path, f.Mode, want)
		}
	}
	want := map[string]string{"labels": "app=\"x\"\ntier=\"db\"", "annotations": `q="say \"hi\"\n"`, "m/name": "t",
		"uid": p.UID, "ns": "default", "tier": "db", "cpu": "4000", "initmem": "8"}
	for k, v := range want {
		if files[k] != v {
			t.Errorf("%s = %q, want %q", k, files[k], v)
		}
	}
	if p.DataVolumes[0].Kind != "downwardAPI" || p.Config.Volumes[0].Medium != "Memory" {
		t.Errorf("kind %s medium %s", p.DataVolumes[0].Kind, p.Config.Volumes[0].Medium)
	}
}

func TestObjectDocuments(t *testing.T) {
	// Kinds other than Pod, ConfigMap and Secret name their document.
	e := parseErr(t, objectsYAML+"apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n---\n"+pod("", ""))
	if !errors.Is(e, ErrKind) || !strings.Contains(e.Error(), `document 3 (line 22, Service svc): kind "Service"`) {
		t.Fatalf("%v", e)
	}
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: \"not base64!\"}\n", "Secret s): data.k: not base64"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {k: \"%%\"}\n", "ConfigMap c): binaryData.k: not base64"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"bad/key\": x}\n", "data.bad/key"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n", "metadata.name"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: x}\nbinaryData: {k: AA==}\n", "binaryData.k: also a key of data"},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatta: {}\n", `unknown field "datta"`},
		{objectsYAML + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n", "a second ConfigMap default/cfg"},
	} {
		e := parseErr(t, tc.doc+"---\n"+pod("", ""))
		if !errors.Is(e, ErrInvalid) || !strings.Contains(e.Error(), tc.want) {
			t.Errorf("want ErrInvalid with %q: %v", tc.want, e)
		}
	}
	// Parse wants exactly one pod; ParseAll takes several.
	two := objectsYAML + pod("", "") + "---\n" + strings.Replace(pod("", ""), "name: t\n", "name: u\n", 1)
	if _, err := Parse([]byte(two), Options{Node: &testNode}); !errors.Is(err, ErrKind) {
		t.Fatalf("Parse of two pods: %v", err)
	}
	m, err := ParseAll([]byte(two), Options{Node: &testNode})
	if err != nil || len(m.Pods) != 2 || m.Pods[0].Name != "t" || m.Pods[1].Name != "u" || m.Pods[0].UID == m.Pods[1].UID {
		t.Fatalf("ParseAll: %v %+v", err, m)
	}
	// Problems in a file of several documents name the document.
	bad := pod("", "") + "---\n" + strings.Replace(pod("", "    workingDir: rel"), "name: t\n", "name: u\n", 1)
	_, err = ParseAll([]byte(bad), Options{Node: &testNode})
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Doc != "document 2 (line 13, Pod u)" ||
		!strings.Contains(err.Error(), "document 2 (line 13, Pod u): spec.containers[0].workingDir") {
		t.Fatalf("%v", err)
	}
	// A file of ConfigMaps only has no pod to run.
	if _, err := ParseAll([]byte(objectsYAML), Options{}); !errors.Is(err, ErrKind) {
		t.Fatalf("no pod: %v", err)
	}
}

func TestHostNode(t *testing.T) {
	n := HostNode()
	if n.Name == "" || len(n.HostIPs) == 0 {
		t.Fatalf("%+v", n)
	}
	for _, r := range []kubeapi.ResourceName{kubeapi.ResourceCPU, kubeapi.ResourceMemory} {
		if q := n.Allocatable[r]; q.Sign() <= 0 {
			t.Errorf("allocatable %s = %s", r, q.String())
		}
	}
	// A ramfs root (the VM lane's initramfs) has no size: 0 is fine there.
	if q, ok := n.Allocatable[kubeapi.ResourceEphemeralStorage]; !ok || q.Sign() < 0 {
		t.Errorf("allocatable ephemeral-storage %v %v", q.String(), ok)
	}
}
