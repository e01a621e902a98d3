//go:build linux

package manifest

// The fields of ConfigMap, Secret and downward API sources (issue #18),
// added to the field checker's rules here to keep fields_linux.go's table
// apart.
func init() {
	r := func(kind ruleKind, patterns ...string) {
		for _, p := range patterns {
			rules[p] = rule{kind: kind}
		}
	}
	r(descend, "spec.volumes.configMap", "spec.volumes.configMap.items", "spec.volumes.secret",
		"spec.volumes.secret.items", "spec.volumes.downwardAPI", "spec.volumes.downwardAPI.items",
		"spec.volumes.downwardAPI.items.fieldRef", "spec.volumes.downwardAPI.items.resourceFieldRef")
	r(leaf, "spec.volumes.configMap.name", "spec.volumes.configMap.items.key", "spec.volumes.configMap.items.path",
		"spec.volumes.configMap.items.mode", "spec.volumes.configMap.defaultMode", "spec.volumes.configMap.optional",
		"spec.volumes.secret.secretName", "spec.volumes.secret.items.key", "spec.volumes.secret.items.path",
		"spec.volumes.secret.items.mode", "spec.volumes.secret.defaultMode", "spec.volumes.secret.optional",
		"spec.volumes.downwardAPI.items.path", "spec.volumes.downwardAPI.items.mode",
		"spec.volumes.downwardAPI.defaultMode", "spec.volumes.downwardAPI.items.fieldRef.fieldPath",
		"spec.volumes.downwardAPI.items.fieldRef.apiVersion",
		"spec.volumes.downwardAPI.items.resourceFieldRef.containerName",
		"spec.volumes.downwardAPI.items.resourceFieldRef.resource",
		"spec.volumes.downwardAPI.items.resourceFieldRef.divisor")
	for _, c := range []string{"spec.containers", "spec.initContainers"} {
		r(descend, c+".env.valueFrom.configMapKeyRef", c+".env.valueFrom.secretKeyRef",
			c+".env.valueFrom.resourceFieldRef", c+".envFrom", c+".envFrom.configMapRef", c+".envFrom.secretRef")
		r(leaf, c+".env.valueFrom.configMapKeyRef.name", c+".env.valueFrom.configMapKeyRef.key",
			c+".env.valueFrom.configMapKeyRef.optional", c+".env.valueFrom.secretKeyRef.name",
			c+".env.valueFrom.secretKeyRef.key", c+".env.valueFrom.secretKeyRef.optional",
			c+".env.valueFrom.resourceFieldRef.containerName", c+".env.valueFrom.resourceFieldRef.resource",
			c+".env.valueFrom.resourceFieldRef.divisor", c+".envFrom.prefix", c+".envFrom.configMapRef.name",
			c+".envFrom.configMapRef.optional", c+".envFrom.secretRef.name", c+".envFrom.secretRef.optional")
	}
}

func init() {
	rules["spec.serviceAccountName"] = rule{kind: warn,
		why: "there is no API server or service account; only the downward API's spec.serviceAccountName reads it"}
}
