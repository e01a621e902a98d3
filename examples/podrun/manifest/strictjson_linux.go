//go:build linux

package manifest

// A strict decoder of a YAML document into a typed object (a kubeapi.Pod),
// for the one-shot parse of a fresh process. encoding/json, which
// sigs.k8s.io/yaml decodes with, builds at its first decode of a type the
// field lists and the encoders of every type reachable from it: for
// k8s.io/api's Pod the whole of core/v1, ~1.2 ms of a fresh podrun, before
// anything else could use the manifest. This decoder reflects only on the types the
// document reaches, each once.
//
// It decodes as yaml.UnmarshalStrict does (duplicate keys and unknown
// fields are errors; a YAML number or boolean where a string goes is that
// string; json.Unmarshaler and encoding.TextUnmarshaler types decode
// themselves), with one difference: field names match case-sensitively,
// as the API server matches them.

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"sigs.k8s.io/yaml"
)

// unmarshalStrict decodes the YAML (or JSON) document data into out, a
// pointer.
func unmarshalStrict(data []byte, out any) error {
	doc, err := strictDocument(data)
	if err != nil {
		return err
	}
	return decodeValue(doc, reflect.ValueOf(out).Elem(), "")
}

// strictDocument is the YAML (or JSON) document data as encoding/json
// decodes it into an any, numbers as json.Number (duplicate keys are
// errors): what decodeValue takes.
func strictDocument(data []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// decodeError is a value that does not fit where it goes.
type decodeError struct {
	path string
	msg  string
}

func (e *decodeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodeValue stores doc (what encoding/json decodes into an any, with
// numbers as json.Number) into v, an addressable value at path.
func decodeValue(doc any, v reflect.Value, path string) error {
	if doc == nil { // null: as encoding/json, it clears what can be nil
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if pv := v.Addr(); pv.Type().Implements(jsonUnmarshalerType) {
		b, err := json.Marshal(doc)
		if err == nil {
			err = pv.Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		return wrapDecode(path, err)
	}
	if s, ok := doc.(string); ok && v.Addr().Type().Implements(textUnmarshalerType) {
		return wrapDecode(path, v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)))
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(doc, v, path)
	case reflect.Map:
		return decodeMap(doc, v, path)
	case reflect.Slice, reflect.Array:
		return decodeList(doc, v, path)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return mismatch(path, doc, v.Type())
		}
		v.Set(reflect.ValueOf(plain(doc)))
		return nil
	}
	return decodeScalar(doc, v, path)
}

func wrapDecode(path string, err error) error {
	if err == nil {
		return nil
	}
	return &decodeError{path: path, msg: err.Error()}
}

// mismatch is the error for a document value of the wrong kind.
func mismatch(path string, doc any, t reflect.Type) error {
	kind := "boolean"
	switch doc.(type) {
	case map[string]any:
		kind = "object"
	case []any:
		kind = "array"
	case string:
		kind = "string"
	case json.Number:
		kind = "number"
	}
	return &decodeError{path: path, msg: fmt.Sprintf("cannot unmarshal %s into a value of type %s", kind, t)}
}

// plain is doc as encoding/json decodes it into an any (float64 numbers).
func plain(doc any) any {
	switch d := doc.(type) {
	case json.Number:
		f, _ := d.Float64()
		return f
	case []any:
		out := make([]any, len(d))
		for i, e := range d {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(d))
		for k, e := range d {
			out[k] = plain(e)
		}
		return out
	}
	return doc
}

func decodeStruct(doc any, v reflect.Value, path string) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return mismatch(path, doc, v.Type())
	}
	fields := structFields(v.Type())
	for _, k := range sortedKeys(m) {
		f, ok := fields[k]
		if !ok {
			return &decodeError{path: path, msg: fmt.Sprintf("unknown field %q", k)}
		}
		fv := fieldByIndex(v, f.index)
		decode := decodeValue
		if f.quoted {
			decode = decodeQuoted
		}
		if err := decode(m[k], fv, join(path, k)); err != nil {
			return err
		}
	}
	return nil
}

// decodeQuoted decodes a field tagged ",string": a number or boolean
// written as a JSON string.
func decodeQuoted(doc any, v reflect.Value, path string) error {
	s, ok := doc.(string)
	if !ok {
		return decodeValue(doc, v, path)
	}
	var inner any = s
	if v.Kind() != reflect.String {
		inner = json.Number(s)
		if s == "true" || s == "false" {
			inner = s == "true"
		}
	}
	return decodeValue(inner, v, path)
}

func decodeMap(doc any, v reflect.Value, path string) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return mismatch(path, doc, v.Type())
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return &decodeError{path: path, msg: fmt.Sprintf("map key type %s is not supported", t.Key())}
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(m)))
	}
	for _, k := range sortedKeys(m) {
		e := reflect.New(t.Elem()).Elem()
		if err := decodeValue(m[k], e, join(path, k)); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
	}
	return nil
}

func decodeList(doc any, v reflect.Value, path string) error {
	if s, ok := doc.(string); ok && v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return wrapDecode(path, err)
		}
		v.SetBytes(b)
		return nil
	}
	items, ok := doc.([]any)
	if !ok {
		return mismatch(path, doc, v.Type())
	}
	if v.Kind() == reflect.Array {
		if len(items) > v.Len() {
			return &decodeError{path: path, msg: fmt.Sprintf("%d items for an array of %d", len(items), v.Len())}
		}
	} else {
		v.Set(reflect.MakeSlice(v.Type(), len(items), len(items)))
	}
	for i, item := range items {
		if err := decodeValue(item, v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

// decodeScalar stores a string, number or boolean. A number or boolean
// where a string goes is that string, as sigs.k8s.io/yaml makes it.
func decodeScalar(doc any, v reflect.Value, path string) error {
	switch d := doc.(type) {
	case string:
		if v.Kind() == reflect.String {
			v.SetString(d)
			return nil
		}
	case bool:
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(d)
			return nil
		case reflect.String:
			v.SetString(strconv.FormatBool(d))
			return nil
		}
	case json.Number:
		return decodeNumber(d, v, path)
	}
	return mismatch(path, doc, v.Type())
}

func decodeNumber(n json.Number, v reflect.Value, path string) error {
	fail := func() error {
		return &decodeError{path: path, msg: fmt.Sprintf("cannot unmarshal number %s into a value of type %s", n, v.Type())}
	}
	switch v.Kind() {
	case reflect.String:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			v.SetString(strconv.FormatInt(i, 10))
		} else if f, err := n.Float64(); err == nil {
			v.SetString(strconv.FormatFloat(f, 'g', -1, 32))
		} else {
			v.SetString(string(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(string(n), 10, v.Type().Bits())
		if err != nil {
			return fail()
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := strconv.ParseUint(string(n), 10, v.Type().Bits())
		if err != nil {
			return fail()
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(string(n), v.Type().Bits())
		if err != nil {
			return fail()
		}
		v.SetFloat(f)
	default:
		return fail()
	}
	return nil
}
