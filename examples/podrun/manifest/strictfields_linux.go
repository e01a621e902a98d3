//go:build linux

package manifest

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// fieldInfo is where a JSON field goes in a struct: the index path
// through embedded structs, and whether it is tagged ",string".
type fieldInfo struct {
	index  []int
	quoted bool
}

// fieldCache holds structFields' answers, by struct type.
var fieldCache sync.Map

// structFields returns the JSON fields of struct type t by name, by
// encoding/json's rules for the fields k8s types use: jsonName's name,
// "-" skipped, unexported fields skipped, and the fields of inline
// structs promoted, the shallowest one winning a name.
func structFields(t reflect.Type) map[string]fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]fieldInfo)
	}
	fields := map[string]fieldInfo{}
	type level struct {
		t     reflect.Type
		index []int
	}
	current := []level{{t: t}}
	seen := map[reflect.Type]bool{t: true}
	for len(current) > 0 {
		var next []level
		found := map[string]bool{} // names found at this depth
		for _, l := range current {
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				if sf.Tag.Get("json") == "-" {
					continue
				}
				name, inline := jsonName(sf)
				index := append(slices.Clip(l.index), i)
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if inline && ft.Kind() == reflect.Struct {
					if !seen[ft] {
						seen[ft] = true
						next = append(next, level{t: ft, index: index})
					}
					continue
				}
				if !sf.IsExported() {
					continue
				}
				if name == "" {
					name = sf.Name
				}
				if _, taken := fields[name]; taken && !found[name] {
					continue // a shallower field has the name
				}
				found[name] = true
				_, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
				fields[name] = fieldInfo{index: index, quoted: strings.Contains(","+opts+",", ",string,")}
			}
		}
		current = next
	}
	fieldCache.Store(t, fields)
	return fields
}

// fieldByIndex returns v's field at index, allocating the embedded
// pointers on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
