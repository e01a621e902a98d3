//go:build linux

package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
	"sigs.k8s.io/yaml"
)

// Manifest is a whole manifest file as `podman kube play` takes it: its
// Pods, converted, with the ConfigMaps and Secrets of the same file
// resolved into their environment and volumes.
type Manifest struct {
	Pods []*Pod
	// Warnings of every pod, each prefixed with its document when the
	// file has several.
	Warnings []string
}

// document is one YAML document of a file.
type document struct {
	n    int // 1-based among the non-empty documents
	line int // first line of the document in the file
	data []byte
}

// where names the document in errors ("" for a file of one document).
func (d document) where(multi bool, kind, name string) string {
	if !multi {
		return ""
	}
	s := fmt.Sprintf("document %d (line %d", d.n, d.line)
	if kind != "" {
		s += ", " + kind
		if name != "" {
			s += " " + name
		}
	}
	return s + ")"
}

// splitDocuments splits a YAML stream at "---" lines (a separator may be
// followed by spaces or a comment), dropping empty documents.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start := 1
	flush := func(next int) {
		if hasContent(cur.Bytes()) {
			docs = append(docs, document{n: len(docs) + 1, line: start, data: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
		start = next
	}
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("---")); ok {
			if r := bytes.TrimSpace(rest); len(r) == 0 || r[0] == '#' {
				flush(i + 2)
				continue
			}
		}
		cur.Write(line)
	}
	flush(0)
	return docs
}

// objects are the ConfigMaps and Secrets of a file, by namespace/name.
type objects struct {
	configMaps map[string]*kubeapi.ConfigMap
	secrets    map[string]map[string][]byte // data with stringData merged in
}

func objKey(ns, name string) string { return ns + "/" + name }

// ParseAll decodes a manifest file of one or more YAML documents (JSON is
// one document): v1 Pods, and the v1 ConfigMaps and Secrets they use. Every
// Pod is converted with the file's objects; the error, if any, is an
// *Error listing every problem of every document (Problem.Doc names the
// document when there are several).
func ParseAll(data []byte, opts Options) (*Manifest, error) {
	docs := splitDocuments(data)
	if len(docs) == 0 {
		return nil, &Error{Op: "parse", Path: opts.Path, Err: fmt.Errorf("%w: empty document", ErrSyntax)}
	}
	multi := len(docs) > 1
	objs := &objects{configMaps: map[string]*kubeapi.ConfigMap{}, secrets: map[string]map[string][]byte{}}
	var problems []Problem
	var podDocs []document
	fail := func(doc document, kind, name string, sentinel error, format string, a ...any) {
		problems = append(problems, Problem{Doc: doc.where(multi, kind, name), Msg: fmt.Sprintf(format, a...), Err: sentinel})
	}
	for _, doc := range docs {
		js, err := yaml.YAMLToJSON(doc.data)
		var generic map[string]any
		if err == nil {
			err = json.Unmarshal(js, &generic)
		}
		if err != nil || generic == nil {
			if !multi {
				_, err := decode(doc.data, opts) // the single-document messages
				return nil, err
			}
			fail(doc, "", "", ErrSyntax, "not a YAML mapping (an object with apiVersion, kind, metadata)")
			continue
		}
		kind, _ := generic["kind"].(string)
		apiVersion, _ := generic["apiVersion"].(string)
		meta, _ := generic["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		switch {
		case kind == "Pod":
			podDocs = append(podDocs, doc)
		case apiVersion == "v1" && kind == "ConfigMap":
			if ps := objs.addConfigMap(doc.data, generic); len(ps) > 0 {
				problems = append(problems, docProblems(ps, doc.where(multi, kind, name))...)
			}
		case apiVersion == "v1" && kind == "Secret":
			if ps := objs.addSecret(doc.data, generic); len(ps) > 0 {
				problems = append(problems, docProblems(ps, doc.where(multi, kind, name))...)
			}
		default:
			msg := kindHint(apiVersion, kind, generic)
			if kind != "" && apiVersion != "" {
				msg = fmt.Sprintf("kind %q (apiVersion %q): podrun runs v1 Pods with the v1 ConfigMaps and Secrets of the same file", kind, apiVersion)
				if spec, ok := generic["spec"].(map[string]any); ok && spec["template"] != nil {
					msg += "; put this object's spec.template into a Pod manifest to run it"
				}
			}
			fail(doc, kind, name, ErrKind, "%s", msg)
		}
	}
	if len(podDocs) == 0 && len(problems) == 0 {
		fail(docs[0], "", "", ErrKind, "no Pod in the manifest (podrun runs v1 Pods)")
	}
	out := &Manifest{}
	names := map[string]string{}
	for _, doc := range podDocs {
		pod, err := parsePod(doc.data, opts, objs)
		where := doc.where(multi, "Pod", "")
		if pod != nil {
			where = doc.where(multi, "Pod", pod.Name)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				return nil, err
			}
			if !multi {
				return nil, e
			}
			if e.Err != nil {
				sentinel := ErrSyntax
				if errors.Is(e.Err, ErrKind) {
					sentinel = ErrKind
				}
				fail(doc, "Pod", "", sentinel, "%v", e.Err)
			}
			problems = append(problems, docProblems(e.Problems, where)...)
			continue
		}
		if prev, dup := names[pod.Name]; dup {
			problems = append(problems, Problem{Doc: where, Field: "metadata.name", Err: ErrInvalid,
				Msg: fmt.Sprintf("pod %q is also %s (pods on one machine need different names: the name is the sandbox ID)", pod.Name, prev)})
			continue
		}
		names[pod.Name] = where
		for _, w := range pod.Warnings {
			if multi {
				w = "pod " + pod.Name + ": " + w
			}
			out.Warnings = append(out.Warnings, w)
		}
		out.Pods = append(out.Pods, pod)
	}
	if len(problems) > 0 {
		e := &Error{Op: "parse", Path: opts.Path, Problems: problems}
		if p := problems[0]; len(problems) == 1 && p.Field == "" {
			e.Problems, e.Err = nil, fmt.Errorf("%w: %s", p.Err, p.String())
		}
		return nil, e
	}
	return out, nil
}

func docProblems(ps []Problem, doc string) []Problem {
	out := make([]Problem, len(ps))
	for i, p := range ps {
		if p.Doc == "" {
			p.Doc = doc
		}
		out[i] = p
	}
	return out
}

// parsePod is Parse for one Pod document, with the file's objects.
func parsePod(data []byte, opts Options, objs *objects) (*Pod, error) {
	pod, err := decode(data, opts)
	if err != nil {
		return nil, err
	}
	fc := &fieldCheck{}
	fc.walkStruct(reflect.ValueOf(pod).Elem(), "", "")
	// This machine is described only if the downward API asks (its
	// interfaces and addresses: netlink dumps, ~1 ms of podrun's start).
	node := sync.OnceValue(HostNode)
	if opts.Node != nil {
		given := *opts.Node
		node = func() Node { return given }
	}
	c := &converter{opts: opts, problems: fc.problems, objs: objs, node: node, uid: newUID()}
	out := c.convert(pod)
	if len(c.problems) > 0 {
		return &Pod{Name: pod.Name}, &Error{Op: "convert", Path: opts.Path, Problems: c.problems}
	}
	out.UID = c.uid
	out.Warnings = append(fc.warnings, out.Warnings...)
	return out, nil
}

// checkKeys validates the keys of a data map as the API server does.
func checkKeys(field string, keys []string) []Problem {
	var ps []Problem
	for _, k := range keys {
		for _, msg := range kubeapi.IsConfigMapKey(k) {
			ps = append(ps, Problem{Field: field + "." + k, Err: ErrInvalid, Msg: msg})
		}
	}
	return ps
}

// checkBase64 reports the values of a base64 map (Secret data,
// ConfigMap binaryData) that do not decode, by field path (the typed
// decode's error would not name them).
func checkBase64(field string, m any) []Problem {
	mm, _ := m.(map[string]any)
	var ps []Problem
	for _, k := range sortedKeys(mm) {
		s, ok := mm[k].(string)
		if _, err := base64.StdEncoding.DecodeString(s); !ok || err != nil {
			ps = append(ps, Problem{Field: field + "." + k, Err: ErrInvalid, Msg: "not base64 (use stringData for plain text)"})
		}
	}
	return ps
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func objectMeta(m metaLike) (ns string, ps []Problem) {
	ns = m.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	switch name := m.GetName(); {
	case name == "":
		ps = append(ps, Problem{Field: "metadata.name", Err: ErrInvalid, Msg: "required"})
	default:
		for _, msg := range kubeapi.IsDNS1123Subdomain(name) {
			ps = append(ps, Problem{Field: "metadata.name", Err: ErrInvalid, Msg: fmt.Sprintf("%q: %s", name, msg)})
		}
	}
	return ns, ps
}

type metaLike interface {
	GetName() string
	GetNamespace() string
}

// strictDecode decodes a ConfigMap or Secret as a Pod is decoded
// (unmarshalStrict: unknown fields are errors, names match
// case-sensitively).
func strictDecode(data []byte, into any) []Problem {
	if err := unmarshalStrict(data, into); err != nil {
		return []Problem{{Err: ErrInvalid, Msg: err.Error()}}
	}
	return nil
}

func (o *objects) addConfigMap(data []byte, generic map[string]any) []Problem {
	ps := checkBase64("binaryData", generic["binaryData"])
	if len(ps) > 0 {
		return ps
	}
	var cm kubeapi.ConfigMap
	if ps := strictDecode(data, &cm); ps != nil {
		return ps
	}
	ns, ps := objectMeta(&cm)
	ps = append(ps, checkKeys("data", sortedKeys(cm.Data))...)
	ps = append(ps, checkKeys("binaryData", sortedKeys(cm.BinaryData))...)
	for k := range cm.BinaryData {
		if _, dup := cm.Data[k]; dup {
			ps = append(ps, Problem{Field: "binaryData." + k, Err: ErrInvalid, Msg: "also a key of data"})
		}
	}
	if _, dup := o.configMaps[objKey(ns, cm.Name)]; dup && cm.Name != "" {
		ps = append(ps, Problem{Field: "metadata.name", Err: ErrInvalid, Msg: fmt.Sprintf("a second ConfigMap %s/%s", ns, cm.Name)})
	}
	if len(ps) == 0 {
		o.configMaps[objKey(ns, cm.Name)] = &cm
	}
	return ps
}

func (o *objects) addSecret(data []byte, generic map[string]any) []Problem {
	ps := checkBase64("data", generic["data"])
	if len(ps) > 0 {
		return ps
	}
	var s kubeapi.Secret
	if ps := strictDecode(data, &s); ps != nil {
		return ps
	}
	ns, ps := objectMeta(&s)
	ps = append(ps, checkKeys("data", sortedKeys(s.Data))...)
	ps = append(ps, checkKeys("stringData", sortedKeys(s.StringData))...)
	if _, dup := o.secrets[objKey(ns, s.Name)]; dup && s.Name != "" {
		ps = append(ps, Problem{Field: "metadata.name", Err: ErrInvalid, Msg: fmt.Sprintf("a second Secret %s/%s", ns, s.Name)})
	}
	if len(ps) == 0 {
		merged := map[string][]byte{}
		for k, v := range s.Data {
			merged[k] = v
		}
		for k, v := range s.StringData { // the API server's rule: stringData wins
			merged[k] = []byte(v)
		}
		o.secrets[objKey(ns, s.Name)] = merged
	}
	return ps
}
