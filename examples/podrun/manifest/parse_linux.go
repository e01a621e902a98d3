//go:build linux

package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/podkit/podkit/examples/podrun/manifest/kubeapi"
)

// Options tune Parse.
type Options struct {
	// Path is the manifest file name, used in errors and to resolve
	// images written as "./dir" (relative to the manifest's directory).
	Path string
	// SeccompRoot is the directory seccompProfile.localhostProfile paths
	// are relative to; default DefaultSeccompRoot.
	SeccompRoot string
	// Node is what the downward API tells of the node (spec.nodeName,
	// status.hostIP(s), the allocatable resources that stand in for
	// missing limits); nil: this machine's (HostNode).
	Node *Node
}

// Parse decodes a manifest of exactly one Pod (YAML or JSON; with the
// ConfigMaps and Secrets it uses as further YAML documents) and converts
// it. The error, if any, is an *Error listing every problem found.
// ParseAll takes files of several Pods.
func Parse(data []byte, opts Options) (*Pod, error) {
	m, err := ParseAll(data, opts)
	if err != nil {
		return nil, err
	}
	if len(m.Pods) != 1 {
		return nil, &Error{Op: "parse", Path: opts.Path,
			Err: fmt.Errorf("%w: %d Pods in the manifest; want exactly one here (ParseAll runs several)", ErrKind, len(m.Pods))}
	}
	m.Pods[0].Warnings = m.Warnings
	return m.Pods[0], nil
}

func decode(data []byte, opts Options) (*kubeapi.Pod, error) {
	fail := func(sentinel error, format string, a ...any) error {
		return &Error{Op: "parse", Path: opts.Path, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, a...)...)}
	}
	if !hasContent(data) {
		return nil, fail(ErrSyntax, "empty document")
	}
	if n := documents(data); n > 1 {
		return nil, fail(ErrSyntax, "%d YAML documents; podrun runs exactly one Pod", n)
	}
	doc, err := strictDocument(data) // once, for the checks and the typed decode
	if err != nil {
		return nil, fail(ErrSyntax, "%v", err)
	}
	generic, _ := doc.(map[string]any)
	if generic == nil {
		return nil, fail(ErrSyntax, "the document is not a mapping (an object with apiVersion, kind, metadata, spec)")
	}
	kind, _ := generic["kind"].(string)
	apiVersion, _ := generic["apiVersion"].(string)
	if kind != "Pod" || apiVersion != "v1" {
		return nil, fail(ErrKind, "%s", kindHint(apiVersion, kind, generic))
	}
	if ps := checkQuantities(generic); len(ps) > 0 {
		return nil, &Error{Op: "parse", Path: opts.Path, Problems: ps}
	}
	var pod kubeapi.Pod
	if err := decodeValue(generic, reflect.ValueOf(&pod).Elem(), ""); err != nil {
		return nil, fail(ErrSyntax, "%s", err)
	}
	return &pod, nil
}

func kindHint(apiVersion, kind string, doc map[string]any) string {
	switch {
	case kind == "" && apiVersion == "":
		return "apiVersion and kind are missing (want apiVersion: v1, kind: Pod)"
	case kind == "Pod":
		return fmt.Sprintf("apiVersion %q (want v1)", apiVersion)
	}
	msg := fmt.Sprintf("kind %q (apiVersion %q): podrun runs one v1 Pod", kind, apiVersion)
	if spec, ok := doc["spec"].(map[string]any); ok {
		if _, ok := spec["template"]; ok {
			msg += "; put this object's spec.template into a Pod manifest to run it"
		}
	}
	return msg
}

// documents counts the non-empty YAML documents in data.
func documents(data []byte) int {
	n := 0
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		body := doc
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			body = body[i:] // drop the rest of the separator line
		}
		if hasContent(body) {
			n++
		}
	}
	return n
}

func hasContent(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("...")) {
			return true
		}
	}
	return false
}

// checkQuantities parses every resource quantity by field path, before the
// typed decode (whose error would not say which field is wrong).
func checkQuantities(doc map[string]any) []Problem {
	var ps []Problem
	check := func(field string, v any) {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf("%v is not a quantity", v), Err: ErrInvalid})
			return
		}
		if _, err := kubeapi.ParseQuantity(s); err != nil {
			ps = append(ps, Problem{Field: field, Err: ErrInvalid,
				Msg: fmt.Sprintf("%q is not a valid quantity (examples: 250m, 1, 64Mi, 1Gi)", s)})
		}
	}
	spec, _ := doc["spec"].(map[string]any)
	for _, list := range []string{"containers", "initContainers"} {
		items, _ := spec[list].([]any)
		for i, item := range items {
			c, _ := item.(map[string]any)
			res, _ := c["resources"].(map[string]any)
			for _, kind := range []string{"limits", "requests"} {
				m, _ := res[kind].(map[string]any)
				for k, v := range m {
					check(fmt.Sprintf("spec.%s[%d].resources.%s.%s", list, i, kind, k), v)
				}
			}
		}
	}
	vols, _ := spec["volumes"].([]any)
	for i, item := range vols {
		v, _ := item.(map[string]any)
		ed, _ := v["emptyDir"].(map[string]any)
		if q, ok := ed["sizeLimit"]; ok && q != nil {
			check(fmt.Sprintf("spec.volumes[%d].emptyDir.sizeLimit", i), q)
		}
	}
	return ps
}
