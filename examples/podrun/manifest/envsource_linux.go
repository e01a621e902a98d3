//go:build linux

package manifest

import (
	"fmt"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// valueFrom resolves env[].valueFrom: fieldRef, resourceFieldRef,
// configMapKeyRef and secretKeyRef. ok is false when the variable is left
// out (an optional reference that is missing, or a problem recorded).
//
// A ConfigMap, Secret or key that is not in the manifest and not optional
// fails the whole run before anything is created, with the field path
// (ErrNotFound). The kubelet would create the pod and leave the container
// in CreateContainerConfigError, retrying until the object appears; here
// the manifest file is all the input there is, so nothing could ever make
// it appear.
func (c *converter) valueFrom(f string, e kubeapi.EnvVar, self *kubeapi.Container, pod *Pod, ct *Container) (string, bool) {
	vf := e.ValueFrom
	n := 0
	for _, set := range []bool{vf.FieldRef != nil, vf.ResourceFieldRef != nil, vf.ConfigMapKeyRef != nil, vf.SecretKeyRef != nil} {
		if set {
			n++
		}
	}
	switch {
	case e.Value != "" && n > 0:
		c.bad(f+".valueFrom", "may not be set together with value")
		return "", false
	case n > 1:
		c.bad(f+".valueFrom", "may not have more than one source")
		return "", false
	}
	f += ".valueFrom"
	switch {
	case vf.FieldRef != nil:
		return c.fieldRef(strings.TrimSuffix(f, ".valueFrom"), e, ct)
	case vf.ResourceFieldRef != nil:
		return c.resourceValue(f+".resourceFieldRef", vf.ResourceFieldRef, self, false)
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		data, found := c.configMapData(f+".configMapKeyRef", r.Name, r.Key, true)
		return c.keyValue(f+".configMapKeyRef", "ConfigMap", r.Name, r.Key, data, found, ptrVal(r.Optional))
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		data, found := c.secretData(f+".secretKeyRef", r.Name, r.Key, true)
		return c.keyValue(f+".secretKeyRef", "Secret", r.Name, r.Key, data, found, ptrVal(r.Optional))
	}
	return "", false // no source: the field check reports any other field set
}

func (c *converter) namespace() string {
	if ns := c.src.Namespace; ns != "" {
		return ns
	}
	return "default"
}

// configMapData is the string data of a ConfigMap of the manifest (env
// sources read data only, as the kubelet does), found false when the
// manifest has none by that name; an empty name and (keyed) a bad key are
// recorded, returning nil, true.
func (c *converter) configMapData(f, name, key string, keyed bool) (map[string][]byte, bool) {
	if !c.checkRef(f, name, key, keyed) {
		return nil, true
	}
	cm, ok := c.objs.configMaps[objKey(c.namespace(), name)]
	if !ok {
		return nil, false
	}
	out := map[string][]byte{}
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	return out, true
}

func (c *converter) secretData(f, name, key string, keyed bool) (map[string][]byte, bool) {
	if !c.checkRef(f, name, key, keyed) {
		return nil, true
	}
	s, ok := c.objs.secrets[objKey(c.namespace(), name)]
	return s, ok
}

// checkRef validates a reference's name (and key, when keyed).
func (c *converter) checkRef(f, name, key string, keyed bool) bool {
	ok := true
	if name == "" {
		c.bad(f+".name", "required")
		ok = false
	}
	if keyed {
		if key == "" {
			c.bad(f+".key", "required")
			return false
		}
		for _, msg := range kubeapi.IsConfigMapKey(key) {
			c.bad(f+".key", "%q: %s", key, msg)
			ok = false
		}
	}
	return ok
}

// keyValue picks key from a referenced object's data; a missing object
// or key is an ErrNotFound problem unless the reference is optional.
func (c *converter) keyValue(f, kind, name, key string, data map[string][]byte, found, optional bool) (string, bool) {
	if data == nil && found {
		return "", false // a problem was recorded
	}
	if !found {
		if !optional {
			c.notFound(f+".name", "%s %s/%s is not in the manifest", kind, c.namespace(), name)
		}
		return "", false
	}
	v, ok := data[key]
	if !ok {
		if !optional {
			c.notFound(f+".key", "%s %s/%s has no key %q", kind, c.namespace(), name, key)
		}
		return "", false
	}
	if strings.ContainsRune(string(v), 0) {
		c.bad(f+".key", "the value of %q contains a NUL byte, which an environment variable cannot hold", key)
		return "", false
	}
	return string(v), true
}

func (c *converter) notFound(field, format string, a ...any) {
	c.problems = append(c.problems, Problem{Field: field, Err: ErrNotFound, Msg: fmt.Sprintf(format, a...)})
}

// envFrom adds the variables of envFrom's ConfigMaps and Secrets, in
// order (a later source overrides an earlier one), each key with the
// prefix. Every key becomes a variable, as the kubelet (1.34 and later,
// with relaxed environment variable names) does: keys are
// [-._a-zA-Z0-9]+ and the prefix printable ASCII without '=', so every
// name is valid. (Kubelets before relaxed validation skipped keys that
// were not C identifiers, with an InvalidEnvironmentVariableNames event.)
func (c *converter) envFrom(field string, in *kubeapi.Container, env []string, seen map[string]bool) []string {
	for i, ef := range in.EnvFrom {
		f := fmt.Sprintf("%s.envFrom[%d]", field, i)
		for _, r := range ef.Prefix {
			if r < 32 || r > 126 || r == '=' {
				c.bad(f+".prefix", "%q: must be printable ASCII without '='", ef.Prefix)
				break
			}
		}
		var data map[string][]byte
		var found, optional bool
		var kind, name, sub string
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			c.bad(f, "may not have both configMapRef and secretRef")
			continue
		case ef.ConfigMapRef != nil:
			kind, name, sub, optional = "ConfigMap", ef.ConfigMapRef.Name, ".configMapRef", ptrVal(ef.ConfigMapRef.Optional)
			data, found = c.configMapData(f+sub, name, "", false)
		case ef.SecretRef != nil:
			kind, name, sub, optional = "Secret", ef.SecretRef.Name, ".secretRef", ptrVal(ef.SecretRef.Optional)
			data, found = c.secretData(f+sub, name, "", false)
		default:
			c.bad(f, "must set configMapRef or secretRef")
			continue
		}
		if !found {
			if !optional {
				c.notFound(f+sub+".name", "%s %s/%s is not in the manifest", kind, c.namespace(), name)
			}
			continue
		}
		for _, k := range sortedKeys(data) {
			v := string(data[k])
			if strings.ContainsRune(v, 0) {
				c.bad(f+sub+".name", "the value of key %q contains a NUL byte, which an environment variable cannot hold", k)
				continue
			}
			n := ef.Prefix + k
			if seen[n] || n == "HOSTNAME" {
				env = setEnv(env, n, v)
			} else {
				env = append(env, n+"="+v)
			}
			seen[n] = true
		}
	}
	return env
}
