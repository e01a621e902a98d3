package kubeapi

import (
	"encoding/json"
	"strconv"
)

// IntOrKind says which of an IntOrString's values it holds.
type IntOrKind int

// The kinds of IntOrString.
const (
	Int IntOrKind = iota
	String
)

// IntOrString is a port given as a number or by its name.
type IntOrString struct {
	Type   IntOrKind
	IntVal int32
	StrVal string
}

// UnmarshalJSON takes a JSON number (an int32) or string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.Type, v.IntVal = String, 0
		return json.Unmarshal(b, &v.StrVal)
	}
	v.Type, v.StrVal = Int, ""
	return json.Unmarshal(b, &v.IntVal)
}

// MarshalJSON writes the number or the string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == String {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// String is the value as written: the name or the number.
func (v IntOrString) String() string {
	if v.Type == String {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}
