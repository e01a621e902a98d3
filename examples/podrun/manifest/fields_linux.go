//go:build linux

package manifest

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// ruleKind says what the field checker does with a field.
type ruleKind int

const (
	leaf    ruleKind = iota // supported; its value is checked by the converter
	descend                 // supported container: check its fields
	warn                    // safe to ignore: becomes a warning
)

type rule struct {
	kind ruleKind
	why  string // for warnings
}

// rules maps field patterns (JSON names, "[]" for list elements) to what
// podrun does with them. A non-empty field with no rule is unsupported.
var rules = buildRules()

func buildRules() map[string]rule {
	r := map[string]rule{}
	add := func(kind ruleKind, why string, patterns ...string) {
		for _, p := range patterns {
			r[p] = rule{kind, why}
		}
	}
	add(leaf, "", "apiVersion", "kind", "metadata.name", "metadata.namespace", "metadata.labels",
		"metadata.annotations", "spec.restartPolicy", "spec.shareProcessNamespace", "spec.hostname",
		"spec.terminationGracePeriodSeconds", "spec.volumes.name", "spec.volumes.emptyDir.medium",
		"spec.volumes.emptyDir.sizeLimit", "spec.volumes.hostPath.path", "spec.volumes.hostPath.type",
		"spec.securityContext.runAsUser", "spec.securityContext.runAsGroup",
		"spec.securityContext.runAsNonRoot", "spec.securityContext.supplementalGroups",
		"spec.securityContext.fsGroup", "spec.securityContext.fsGroupChangePolicy",
		"spec.securityContext.seccompProfile.type", "spec.securityContext.seccompProfile.localhostProfile",
		"spec.hostNetwork", "spec.hostPID", "spec.hostIPC")
	add(descend, "", "metadata", "spec", "spec.volumes", "spec.volumes.emptyDir", "spec.volumes.hostPath",
		"spec.securityContext", "spec.securityContext.seccompProfile")
	add(warn, "set by the API server; ignored", "metadata.uid", "metadata.resourceVersion",
		"metadata.generation", "metadata.creationTimestamp", "metadata.managedFields",
		"metadata.selfLink", "metadata.ownerReferences", "metadata.finalizers")
	add(warn, "status is ignored", "status")
	add(warn, "there is one node; scheduling fields are ignored", "spec.nodeSelector", "spec.nodeName",
		"spec.affinity", "spec.tolerations", "spec.schedulerName", "spec.priorityClassName",
		"spec.priority", "spec.preemptionPolicy", "spec.topologySpreadConstraints", "spec.overhead")
	add(warn, "there is no API server or service account; ignored", "spec.serviceAccountName",
		"spec.serviceAccount", "spec.automountServiceAccountToken", "spec.enableServiceLinks")
	add(warn, "registry credentials come from the Docker config file; ignored", "spec.imagePullSecrets")
	add(warn, "the pod has no cluster DNS; /etc/resolv.conf is generated", "spec.dnsPolicy")
	for _, list := range []string{"spec.containers", "spec.initContainers"} {
		containerRules(add, list)
	}
	return r
}

func containerRules(add func(ruleKind, string, ...string), c string) {
	p := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = c + "." + n
		}
		return out
	}
	add(descend, "", c)
	add(leaf, "", p("name", "image", "imagePullPolicy", "command", "args", "workingDir", "env.name", "env.value",
		"ports.name", "ports.containerPort", "ports.protocol", "ports.hostPort", "ports.hostIP",
		"env.valueFrom.fieldRef.fieldPath", "env.valueFrom.fieldRef.apiVersion", "volumeMounts.name",
		"volumeMounts.mountPath", "volumeMounts.readOnly", "volumeMounts.subPath", "volumeMounts.subPathExpr", "resources.limits", "resources.requests",
		"lifecycle.preStop.exec.command", "securityContext.runAsUser", "securityContext.runAsGroup",
		"securityContext.runAsNonRoot", "securityContext.readOnlyRootFilesystem",
		"securityContext.allowPrivilegeEscalation", "securityContext.capabilities.add",
		"securityContext.capabilities.drop", "securityContext.seccompProfile.type",
		"securityContext.seccompProfile.localhostProfile", "securityContext.privileged")...)
	add(descend, "", p("env", "env.valueFrom", "env.valueFrom.fieldRef", "ports", "volumeMounts", "resources", "lifecycle", "lifecycle.preStop",
		"lifecycle.preStop.exec", "securityContext", "securityContext.capabilities",
		"securityContext.seccompProfile")...)
	lifecycleRules(add, c+".", c == "spec.initContainers") // probes, hooks, sidecars: lifecycle_linux.go
}

// fieldCheck walks a decoded Pod and reports every non-empty field by
// path: unsupported ones as problems, ignorable ones as warnings.
type fieldCheck struct {
	problems []Problem
	warnings []string
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

func (fc *fieldCheck) walkStruct(v reflect.Value, path, pattern string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := jsonName(f)
		fv := v.Field(i)
		if inline {
			fc.walkStruct(fv, path, pattern)
			continue
		}
		if name == "-" || fv.IsZero() || isEmptyUntyped(fv) {
			continue
		}
		fc.visit(fv, join(path, name), join(pattern, name))
	}
}

func (fc *fieldCheck) visit(v reflect.Value, path, pattern string) {
	r, ok := rules[pattern]
	switch {
	case !ok:
		if isFalse(v) {
			return // an explicit "false" for an unsupported switch is harmless
		}
		fc.problems = append(fc.problems, Problem{Field: path, Err: ErrUnsupported})
	case r.kind == warn:
		fc.warnings = append(fc.warnings, path+": "+r.why)
	case r.kind == descend:
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		switch {
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				e := v.Index(i)
				for e.Kind() == reflect.Pointer {
					e = e.Elem()
				}
				if e.Kind() == reflect.Struct {
					fc.walkStruct(e, path+"["+strconv.Itoa(i)+"]", pattern)
				}
			}
		case v.Kind() == reflect.Struct && !reflect.PointerTo(v.Type()).Implements(marshalerType):
			fc.walkStruct(v, path, pattern)
		}
	}
}

func isFalse(v reflect.Value) bool {
	for (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	return v.Kind() == reflect.Bool && !v.Bool()
}

// isEmptyUntyped reports whether v, a field kubeapi declares untyped
// (any: Kubernetes' is no pointer), holds what would leave Kubernetes'
// typed field empty: "", 0 or false (null leaves it nil).
func isEmptyUntyped(v reflect.Value) bool {
	if v.Kind() != reflect.Interface || v.IsNil() {
		return false
	}
	switch x := v.Elem().Interface().(type) {
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	}
	return false
}

func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if f.Anonymous && name == "" {
		return "", true
	}
	if strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	if name == "" {
		name = f.Name
	}
	return name, false
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
