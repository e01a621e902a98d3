//go:build linux

package manifest

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"github.com/podkit/podkit/sandbox"
)

// DataVolume is a configMap, secret or downwardAPI volume: files podrun
// writes into the volume after the sandbox made it and before any
// container starts, in the kubelet's atomic writer layout (a
// ..<timestamp> directory, a ..data symlink to it, and a symlink per
// top-level name into ..data). Containers mount it read-only.
type DataVolume struct {
	Name  string // the sandbox volume
	Kind  string // configMap, secret or downwardAPI
	Files []File // sorted by path
}

// File is one file of a DataVolume.
type File struct {
	Path string // relative, cleaned, no ".." element
	Data []byte
	Mode os.FileMode
}

const defaultDataMode = 0o644 // the API server's default defaultMode

// isDataVolume reports whether a volume's contents come from the manifest
// (the kubelet always mounts those read-only).
func isDataVolume(v kubeapi.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil
}

// dataVolume converts a configMap, secret or downwardAPI volume. The
// kubelet backs configMap volumes with disk and the others with memory;
// podrun does the same with the sandbox's emptyDir kinds.
func (c *converter) dataVolume(field string, v kubeapi.Volume, out *Pod) {
	dv := DataVolume{Name: v.Name}
	sv := sandbox.Volume{Name: v.Name}
	var files map[string]File
	switch {
	case v.ConfigMap != nil:
		dv.Kind = "configMap"
		s := v.ConfigMap
		f := field + ".configMap"
		mode := c.mode(f+".defaultMode", s.DefaultMode)
		if c.checkRef(f, s.Name, "", false) {
			cm, ok := c.objs.configMaps[objKey(c.namespace(), s.Name)]
			var data map[string][]byte
			if ok {
				data = map[string][]byte{}
				for k, v := range cm.Data {
					data[k] = []byte(v)
				}
				for k, v := range cm.BinaryData {
					data[k] = v
				}
			}
			files = c.keyFiles(f, "ConfigMap", s.Name, data, ok, s.Items, mode, ptrVal(s.Optional))
		}
	case v.Secret != nil:
		dv.Kind, sv.Medium = "secret", sandbox.MediumMemory
		s := v.Secret
		f := field + ".secret"
		mode := c.mode(f+".defaultMode", s.DefaultMode)
		if s.SecretName == "" {
			c.bad(f+".secretName", "required")
		} else {
			data, ok := c.objs.secrets[objKey(c.namespace(), s.SecretName)]
			files = c.keyFiles(f, "Secret", s.SecretName, data, ok, s.Items, mode, ptrVal(s.Optional))
		}
	case v.DownwardAPI != nil:
		dv.Kind, sv.Medium = "downwardAPI", sandbox.MediumMemory
		files = c.downwardFiles(field+".downwardAPI", v.DownwardAPI)
	}
	for _, p := range sortedKeys(files) {
		dv.Files = append(dv.Files, files[p])
	}
	c.checkOverlap(field, dv.Files)
	out.Config.Volumes = append(out.Config.Volumes, sv)
	out.DataVolumes = append(out.DataVolumes, dv)
}

func (c *converter) mode(field string, m *int32) os.FileMode {
	if m == nil {
		return defaultDataMode
	}
	if *m < 0 || *m > 0o777 {
		c.bad(field, "%d is not a file mode (0 to 0777, 511 in decimal)", *m)
		return defaultDataMode
	}
	return os.FileMode(*m)
}

// keyFiles is the kubelet's payload of a configMap or secret volume: every
// key as a file, or only the items (key to path, own mode); a missing
// object (or item key) fails unless the volume is optional, which leaves
// the volume (or the item) out.
func (c *converter) keyFiles(f, kind, name string, data map[string][]byte, found bool, items []kubeapi.KeyToPath,
	mode os.FileMode, optional bool) map[string]File {
	nameField := f + ".name"
	if kind == "Secret" {
		nameField = f + ".secretName"
	}
	files := map[string]File{}
	if !found {
		if !optional {
			c.notFound(nameField, "%s %s/%s is not in the manifest", kind, c.namespace(), name)
		}
		return files
	}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = File{Path: k, Data: v, Mode: mode}
		}
		return files
	}
	for i, it := range items {
		itf := fmt.Sprintf("%s.items[%d]", f, i)
		p, ok := c.filePath(itf+".path", it.Path)
		if it.Key == "" {
			c.bad(itf+".key", "required")
			continue
		}
		m := c.mode(itf+".mode", it.Mode)
		if it.Mode == nil {
			m = mode
		}
		v, has := data[it.Key]
		if !has {
			if !optional {
				c.notFound(itf+".key", "%s %s/%s has no key %q", kind, c.namespace(), name, it.Key)
			}
			continue
		}
		if ok {
			files[p] = File{Path: p, Data: v, Mode: m}
		}
	}
	return files
}

// downwardFiles is the kubelet's payload of a downwardAPI volume.
func (c *converter) downwardFiles(f string, s *kubeapi.DownwardAPIVolumeSource) map[string]File {
	mode := c.mode(f+".defaultMode", s.DefaultMode)
	files := map[string]File{}
	for i, it := range s.Items {
		itf := fmt.Sprintf("%s.items[%d]", f, i)
		p, ok := c.filePath(itf+".path", it.Path)
		m := c.mode(itf+".mode", it.Mode)
		if it.Mode == nil {
			m = mode
		}
		var v string
		var vok bool
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			c.bad(itf, "fieldRef and resourceFieldRef may not both be set")
		case it.FieldRef != nil:
			v, vok = c.podField(itf+".fieldRef", it.FieldRef.APIVersion, it.FieldRef.FieldPath, true)
		case it.ResourceFieldRef != nil:
			v, vok = c.resourceValue(itf+".resourceFieldRef", it.ResourceFieldRef, nil, true)
		default:
			c.bad(itf, "one of fieldRef and resourceFieldRef is required")
		}
		if ok && vok {
			files[p] = File{Path: p, Data: []byte(v), Mode: m}
		}
	}
	return files
}

// filePath checks an item path as the API server and the kubelet's atomic
// writer do: relative, no ".." element, not starting with "..", names of
// at most 255 bytes, 4096 in all.
func (c *converter) filePath(field, p string) (string, bool) {
	switch {
	case p == "":
		c.bad(field, "required")
		return "", false
	case path.IsAbs(p):
		c.bad(field, "%q must be relative", p)
		return "", false
	case len(p) > 4096 || strings.ContainsRune(p, 0):
		c.bad(field, "%q is not a usable path", p)
		return "", false
	}
	parts := strings.Split(p, "/")
	for _, e := range parts {
		if e == ".." || len(e) > 255 {
			c.bad(field, "%q: no element may be \"..\" or longer than 255 bytes", p)
			return "", false
		}
	}
	if strings.HasPrefix(parts[0], "..") {
		c.bad(field, "%q may not start with \"..\" (the kubelet's ..data layout uses those names)", p)
		return "", false
	}
	return path.Clean(p), true
}

// checkOverlap refuses a file that is also the directory of another
// ("a" and "a/b"): the kubelet fails such a volume when it writes it.
func (c *converter) checkOverlap(field string, files []File) {
	set := map[string]bool{}
	for _, f := range files {
		set[f.Path] = true
	}
	for _, f := range files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if set[dir] {
				c.bad(field, "file %q is also the directory of %q", dir, f.Path)
			}
		}
	}
}
