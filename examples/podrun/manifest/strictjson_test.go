//go:build linux

package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// richPod uses a field of most kinds a Pod has: embedded and pointer
// structs, maps of quantities, int-or-strings, volume sources, numbers
// and booleans where strings go.
const richPod = `apiVersion: v1
kind: Pod
metadata:
  name: rich
  labels: {app: x, tier: "1"}
  annotations: {count: 2, flag: true}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 3
  shareProcessNamespace: true
  hostAliases: [{ip: 10.0.0.1, hostnames: [a, b]}]
  dnsConfig: {nameservers: [1.1.1.1], options: [{name: ndots, value: "2"}]}
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, sysctls: [{name: net.ipv4.ip_forward, value: 1}]}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 30}]
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: [b]}]}]}}}
  volumes:
  - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: cfg, configMap: {name: c, defaultMode: 0644, items: [{key: k, path: p}]}}
  - {name: host, hostPath: {path: /tmp, type: Directory}}
  - name: proj
    projected: {sources: [{downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}]}
  initContainers:
  - {name: init, image: busybox, command: [sh, -c, "true"]}
  containers:
  - name: main
    image: 1.0
    command: [/bin/sh]
    args: [-c, echo hi]
    workingDir: /
    env:
    - {name: PORT, value: 8080}
    - {name: RATIO, value: 1.10}
    - {name: ON, value: yes}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    envFrom: [{prefix: P_, configMapRef: {name: c, optional: true}}]
    ports: [{name: http, containerPort: 80, hostPort: 8080, protocol: TCP}]
    resources: {limits: {cpu: 0.5, memory: 64Mi}, requests: {cpu: 100m}}
    livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1, failureThreshold: 3}
    readinessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 0}
    startupProbe: {exec: {command: ["true"]}}
    lifecycle: {preStop: {sleep: {seconds: 1}}, postStart: {exec: {command: ["true"]}}}
    securityContext:
      privileged: false
      readOnlyRootFilesystem: true
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
    volumeMounts: [{name: scratch, mountPath: /s, readOnly: true, mountPropagation: None}]
    stdin: false
    tty: false
    terminationMessagePolicy: FallbackToLogsOnError
  ephemeralContainers:
  - {name: debug, image: busybox, targetContainerName: main}
`

// TestUnmarshalStrictDifferential: the decoder gives what
// yaml.UnmarshalStrict gives, for every Pod, ConfigMap and Secret in the
// example and integration manifests and for the cases below, and both
// refuse the same documents.
func TestUnmarshalStrictDifferential(t *testing.T) {
	docs := map[string]string{
		"rich":                richPod,
		"json":                `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":1}]}]}}`,
		"nulls":               "apiVersion: v1\nkind: Pod\nmetadata: {name: n, labels: null}\nspec:\n  securityContext: null\n  containers: [{name: c, image: i, command: null, args: [a, null]}]\n",
		"empty lists":         "apiVersion: v1\nkind: Pod\nmetadata: {name: e, labels: {}}\nspec: {containers: [], volumes: []}\n",
		"unknown top":         "apiVersion: v1\nkind: Pod\nmetadata: {name: u}\nspec: {contianers: []}\n",
		"unknown nested":      "apiVersion: v1\nkind: Pod\nmetadata: {name: u}\nspec: {containers: [{name: c, imag: i}]}\n",
		"unknown source":      "apiVersion: v1\nkind: Pod\nmetadata: {name: u}\nspec: {volumes: [{name: v, emptyDir: {size: 1}}]}\n",
		"string gets array":   "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: [{name: c, workingDir: [a]}]}\n",
		"int gets string":     "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {terminationGracePeriodSeconds: soon}\n",
		"int gets fraction":   "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {terminationGracePeriodSeconds: 1.5}\n",
		"int32 overflows":     "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: [{name: c, ports: [{containerPort: 4294967296}]}]}\n",
		"bool gets string":    "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {hostNetwork: \"yes please\"}\n",
		"object gets list":    "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
		"list gets object":    "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: {name: c}}\n",
		"duplicate key":       "apiVersion: v1\nkind: Pod\nmetadata: {name: d}\nmetadata: {name: e}\n",
		"bad quantity":        "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: c, resources: {limits: {cpu: lots}}}]}\n",
		"port name or number": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, livenessProbe: {tcpSocket: {port: 8080}}, readinessProbe: {tcpSocket: {port: web}}}]}\n",
	}
	objects := map[string]string{ // ConfigMaps and Secrets, decoded the same way
		"configmap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\", b: 2}\nbinaryData: {c: aGk=}\n",
		"secret":    "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {a: aGk=}\nstringData: {b: x}\n",
		"cm typo":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatta: {}\n",
	}
	for _, pattern := range []string{"../pods/*.yaml", "../../../integration/testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range splitDocuments(data) {
				name := filepath.Base(f) + "#" + string(rune('0'+i))
				switch {
				case bytes.Contains(d.data, []byte("kind: Pod")):
					docs[name] = string(d.data)
				case bytes.Contains(d.data, []byte("kind: ConfigMap")), bytes.Contains(d.data, []byte("kind: Secret")):
					objects[name] = string(d.data)
				}
			}
		}
	}
	if len(docs) < 30 || len(objects) < 5 {
		t.Fatalf("only %d Pods and %d other objects to compare: the example manifests were not found", len(docs), len(objects))
	}
	for name, doc := range docs {
		compareDecoders(t, name, doc, func() any { return &corev1.Pod{} })
	}
	for name, doc := range objects {
		compareDecoders(t, name, doc, func() any {
			if bytes.Contains([]byte(doc), []byte("kind: Secret")) {
				return &corev1.Secret{}
			}
			return &corev1.ConfigMap{}
		})
	}
}

// compareDecoders decodes doc with both decoders into new objects.
func compareDecoders(t *testing.T, name, doc string, fresh func() any) {
	t.Helper()
	want, got := fresh(), fresh()
	wantErr := yaml.UnmarshalStrict([]byte(doc), want)
	gotErr := unmarshalStrict([]byte(doc), got)
	switch {
	case (wantErr == nil) != (gotErr == nil):
		t.Errorf("%s: yaml.UnmarshalStrict: %v; unmarshalStrict: %v", name, wantErr, gotErr)
	case wantErr == nil && !reflect.DeepEqual(want, got):
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		t.Errorf("%s: decoded differently:\nyaml.UnmarshalStrict: %s\nunmarshalStrict:      %s", name, w, g)
	}
}

// TestUnmarshalStrictErrors: errors name the field, as the manifest's
// problems do, and field names match case-sensitively, as the API
// server's (encoding/json would take "Containers").
func TestUnmarshalStrictErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"spec: {contianers: []}\n", `spec: unknown field "contianers"`},
		{"spec: {containers: [{name: c, imag: i}]}\n", `spec.containers[0]: unknown field "imag"`},
		{"spec: {containers: [{name: c, workingDir: [a]}]}\n", "spec.containers[0].workingDir: cannot unmarshal array into a value of type string"},
		{"spec: {terminationGracePeriodSeconds: 1.5}\n", "spec.terminationGracePeriodSeconds: cannot unmarshal number 1.5 into a value of type int64"},
		{"spec: {Containers: []}\n", `spec: unknown field "Containers"`},
	} {
		var pod corev1.Pod
		err := unmarshalStrict([]byte("apiVersion: v1\nkind: Pod\n"+tc.doc), &pod)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}
