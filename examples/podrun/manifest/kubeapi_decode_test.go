//go:build linux

package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	corev1 "k8s.io/api/core/v1"
)

// TestDecodeAsCoreV1: a Pod document decoded into kubeapi's types gives
// the field check exactly the unsupported fields and warnings it gave
// when the manifest was decoded into k8s.io/api's, and the same object
// (as JSON); a document Kubernetes' types refuse is refused here too, by
// the decoder or by the field check. The documents: every Pod of the
// example manifests, and one per kind of field kubeapi leaves untyped,
// with empty, zero and set values.
func TestDecodeAsCoreV1(t *testing.T) {
	docs := map[string]string{}
	files, _ := filepath.Glob("../pods/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range splitDocuments(data) {
			if strings.Contains(string(d.data), "kind: Pod") {
				docs[filepath.Base(f)+"#"+string(rune('0'+i))] = string(d.data)
			}
		}
	}
	const base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p%s}\nspec:\n%s  containers:\n  - {name: c, image: /r%s}\n"
	for _, v := range decodeVariants {
		docs["variant "+v[0]+v[1]+v[2]] = fmt.Sprintf(base, v[0], v[1], v[2])
	}
	for name, doc := range docs {
		var k corev1.Pod
		var ours kubeapi.Pod
		kerr, err := unmarshalStrict([]byte(doc), &k), unmarshalStrict([]byte(doc), &ours)
		switch {
		case kerr != nil && err == nil:
			if ps, _ := checkFields(&ours); len(ps) == 0 {
				t.Errorf("%s: Kubernetes' types refuse it (%v); kubeapi's take it and the field check finds nothing", name, kerr)
			}
			continue
		case kerr != nil:
			continue
		case err != nil:
			t.Errorf("%s: kubeapi's types refuse it: %v", name, err)
			continue
		}
		kp, kw := checkFields(&k)
		p, w := checkFields(&ours)
		if !reflect.DeepEqual(kp, p) || !reflect.DeepEqual(kw, w) {
			t.Errorf("%s: field check %q %q; with Kubernetes' types %q %q", name, p, w, kp, kw)
		}
		if kj, j := asJSON(t, &k), asJSON(t, &ours); !reflect.DeepEqual(kj, j) {
			kb, _ := json.Marshal(kj)
			b, _ := json.Marshal(j)
			t.Errorf("%s: decoded as\n%s\nwith Kubernetes' types\n%s", name, b, kb)
		}
	}
}

// decodeVariants are documents as {metadata, spec, container} additions.
var decodeVariants = [][3]string{
	{", creationTimestamp: null", "", ""}, {`, creationTimestamp: "2024-01-01T00:00:00Z"`, "", ""},
	{", generation: 0", "", ""}, {", generation: 3", "", ""}, {`, uid: ""`, "", ""}, {", ownerReferences: []", "", ""},
	{", deletionGracePeriodSeconds: 0", "", ""}, {`, resourceVersion: "7"`, "", ""},
	{"", "  activeDeadlineSeconds: 0\n", ""}, {"", "  activeDeadlineSeconds: 30\n", ""},
	{"", "  automountServiceAccountToken: false\n", ""}, {"", "  automountServiceAccountToken: true\n", ""},
	{"", "  priority: 0\n", ""}, {"", "  dnsConfig: {}\n", ""}, {"", "  dnsConfig: null\n", ""},
	{"", "  subdomain: \"\"\n", ""}, {"", "  subdomain: x\n", ""}, {"", "  hostAliases: []\n", ""},
	{"", "  hostAliases: abc\n", ""}, {"", "  nodeSelector: {}\n", ""}, {"", "  affinity: {}\n", ""},
	{"", "  runtimeClassName: \"\"\n", ""}, {"", "  enableServiceLinks: false\n", ""}, {"", "  os: {name: linux}\n", ""},
	{"", "  hostUsers: true\n", ""}, {"", "  hostUsers: false\n", ""}, {"", "  overhead: {cpu: 1}\n", ""},
	{"", "  ephemeralContainers: []\n", ""}, {"", "  readinessGates: [{conditionType: x}]\n", ""},
	{"", "  setHostnameAsFQDN: false\n", ""}, {"", "  resources: {}\n", ""}, {"", "  serviceAccountName: sa\n", ""},
	{"", "  nodeName: \"\"\n", ""}, {"", "  dnsPolicy: ClusterFirst\n", ""}, {"", "  tolerations: []\n", ""},
	{"", "", ", stdin: false"}, {"", "", ", stdin: true"}, {"", "", ", stdin: \"yes\""}, {"", "", ", tty: false"},
	{"", "", ", resizePolicy: []"}, {"", "", ", volumeDevices: []"}, {"", "", ", restartPolicyRules: []"},
	{"", "", ", securityContext: {procMount: Default}"}, {"", "", ", securityContext: {seLinuxOptions: {}}"},
	{"", "", ", securityContext: {windowsOptions: null}"}, {"", "", ", securityContext: {appArmorProfile: {type: Unconfined}}"},
	{"", "", ", livenessProbe: {exec: {command: [x]}, terminationGracePeriodSeconds: 0}"},
	{"", "", ", livenessProbe: {grpc: {port: 1}}"}, {"", "", ", readinessProbe: {httpGet: {port: 80, protocol: HTTP}}"},
	{"", "", ", lifecycle: {stopSignal: SIGTERM}"}, {"", "", ", resources: {claims: []}"},
	{"", "", ", resources: {limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 0.25}}"},
	{"", "", ", env: [{name: A, valueFrom: {fileKeyRef: {path: x, key: y, volumeName: v}}}]"},
	{"", "  volumes: [{name: v, emptyDir: {}}]\n", ", volumeMounts: [{name: v, mountPath: /v, mountPropagation: None}]"},
	{"", "  volumes: [{name: v, emptyDir: {}}]\n", ", volumeMounts: [{name: v, mountPath: /v, recursiveReadOnly: Disabled, bindMountOptions: []}]"},
	{"", "  volumes: [{name: v, nfs: {server: x, path: /}}]\n", ""}, {"", "  volumes: [{name: v, projected: {sources: []}}]\n", ""},
	{"", "  volumes: [{name: v, emptyDir: {mode: 0}}]\n", ""}, {"", "  volumes: [{name: v, emptyDir: {sizeLimit: 1Gi}}]\n", ""},
	{"", "  volumes: [{name: v, configMap: {name: m, items: [{key: k, path: p, user: 0}]}}]\n", ""},
	{"", "  volumes: [{name: v, secret: {secretName: s, defaultUser: 0}}]\n", ""},
	{"", "  volumes: [{name: v, downwardAPI: {defaultUser: 1}}]\n", ""},
	{"", "  volumes: [{name: v, persistentVolumeClaim: {claimName: x}}]\n", ""}, {"", "  volumes: [{name: v, image: {reference: x}}]\n", ""},
}

// checkFields runs the field check over a decoded Pod of either types.
func checkFields(pod any) (problems, warnings []string) {
	fc := &fieldCheck{}
	fc.walkStruct(reflect.ValueOf(pod).Elem(), "", "")
	for _, p := range fc.problems {
		problems = append(problems, p.Field+": "+p.Err.Error())
	}
	return problems, fc.warnings
}

// asJSON is v encoded and decoded generically, with what encoding the
// two type sets writes differently smoothed away: empty values ("", 0,
// false, {}, [] and null: Kubernetes' typed fields omit them where an
// untyped one keeps them) left out, and scalars as strings (an untyped
// quantity keeps the number it was given).
func asJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return smooth(out)
}

func smooth(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if x[k] = smooth(e); x[k] == nil {
				delete(x, k)
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		for i, e := range x {
			x[i] = smooth(e)
		}
		if len(x) == 0 {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
		return fmt.Sprint(x)
	case bool:
		if !x {
			return nil
		}
		return "true"
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}
