package kubeapi

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestTypesAsCoreV1: every type declares exactly the JSON fields of its
// k8s.io/api counterpart, so that a document decodes here where it
// decodes there; and every typed field has the shape of Kubernetes' field
// (pointer or not, list, map, struct, scalar kind), so that it takes the
// same values and is empty when Kubernetes' is.
func TestTypesAsCoreV1(t *testing.T) {
	seen := map[[2]reflect.Type]bool{}
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[Pod](), reflect.TypeFor[corev1.Pod]()},
		{reflect.TypeFor[ConfigMap](), reflect.TypeFor[corev1.ConfigMap]()},
		{reflect.TypeFor[Secret](), reflect.TypeFor[corev1.Secret]()},
	} {
		compareStruct(t, pair[0], pair[1], pair[1].Name(), seen)
	}
}

var special = map[reflect.Type]reflect.Type{
	reflect.TypeFor[Quantity]():    reflect.TypeFor[resource.Quantity](),
	reflect.TypeFor[IntOrString](): reflect.TypeFor[intstr.IntOrString](),
}

func compareStruct(t *testing.T, ours, theirs reflect.Type, path string, seen map[[2]reflect.Type]bool) {
	if seen[[2]reflect.Type{ours, theirs}] {
		return
	}
	seen[[2]reflect.Type{ours, theirs}] = true
	of, tf := jsonFields(ours), jsonFields(theirs)
	names := func(m map[string]reflect.StructField) []string {
		var n []string
		for k := range m {
			n = append(n, k)
		}
		slices.Sort(n)
		return n
	}
	if o, th := names(of), names(tf); !slices.Equal(o, th) {
		t.Errorf("%s: fields %v, Kubernetes' %v", path, o, th)
		return
	}
	for name, f := range of {
		if untyped := f.Type; untyped.Kind() == reflect.Interface ||
			untyped.Kind() == reflect.Pointer && untyped.Elem().Kind() == reflect.Interface {
			// Untyped, it takes anything; behind a pointer where
			// Kubernetes' is one, so that an explicit 0, "" or false is
			// set (and refused) as there, and is empty elsewhere.
			if (untyped.Kind() == reflect.Pointer) != (tf[name].Type.Kind() == reflect.Pointer) {
				t.Errorf("%s.%s: untyped %v, but Kubernetes' is a %v", path, name, untyped, tf[name].Type)
			}
			continue
		}
		compareType(t, f.Type, tf[name].Type, path+"."+name, seen)
	}
}

func compareType(t *testing.T, ours, theirs reflect.Type, path string, seen map[[2]reflect.Type]bool) {
	if want, ok := special[ours]; ok {
		if theirs != want {
			t.Errorf("%s: %v, Kubernetes' %v", path, ours, theirs)
		}
		return
	}
	if ours.Kind() != theirs.Kind() {
		t.Errorf("%s: a %v, Kubernetes' a %v (%v)", path, ours.Kind(), theirs.Kind(), theirs)
		return
	}
	switch ours.Kind() {
	case reflect.Pointer, reflect.Slice:
		compareType(t, ours.Elem(), theirs.Elem(), path+"[]", seen)
	case reflect.Map:
		compareType(t, ours.Key(), theirs.Key(), path+"{key}", seen)
		compareType(t, ours.Elem(), theirs.Elem(), path+"{}", seen)
	case reflect.Struct:
		compareStruct(t, ours, theirs, path, seen)
	}
}

// jsonFields are a struct's JSON fields by name, those of embedded
// structs without a name of their own included, as encoding/json sees
// them (for these types: no clashes).
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		default:
			if name == "" {
				name = f.Name
			}
			out[name] = f
		}
	}
	return out
}
