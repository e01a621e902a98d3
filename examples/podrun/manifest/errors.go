package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by Parse wraps one of them inside an
// *Error, so callers can use errors.Is and errors.As.
var (
	// ErrSyntax: the document is not valid YAML/JSON or does not decode into
	// a Pod (unknown field names, wrong value types).
	ErrSyntax = errors.New("malformed manifest")
	// ErrKind: apiVersion/kind is not v1/Pod.
	ErrKind = errors.New("not a v1 Pod")
	// ErrUnsupported: the manifest uses fields podkit does not implement.
	ErrUnsupported = errors.New("unsupported fields")
	// ErrInvalid: a field has a value that is not allowed (bad quantity,
	// missing command, unknown volume, ...).
	ErrInvalid = errors.New("invalid manifest")
	// ErrImage: an image does not name a usable local root filesystem.
	ErrImage = errors.New("image not available")
	// ErrNotFound: a ConfigMap, Secret or key a pod needs (not marked
	// optional) is not in the manifest file.
	ErrNotFound = errors.New("not in the manifest")
)

// Problem is one finding about one field.
type Problem struct {
	// Doc names the document in a file of several ("document 2 (line
	// 14, Pod web)"); "" in a file of one.
	Doc   string
	Field string // path in the manifest, e.g. spec.containers[0].image
	Msg   string
	Err   error // the sentinel: ErrUnsupported, ErrInvalid or ErrImage
}

func (p Problem) String() string {
	s := p.Field
	switch {
	case p.Field == "":
		s = p.Msg
	case p.Msg != "":
		s += ": " + p.Msg
	}
	if p.Doc != "" {
		s = p.Doc + ": " + s
	}
	return s
}

// Error is what Parse returns: the manifest file (if known) and every
// problem found, grouped by kind in the message.
type Error struct {
	Op       string // "parse" or "convert"
	Path     string // manifest file, if known
	Problems []Problem
	Err      error // set when there is one underlying error (syntax, kind)
}

func (e *Error) Error() string {
	var b strings.Builder
	where := e.Path
	if where == "" {
		where = "manifest"
	}
	fmt.Fprintf(&b, "%s %s", e.Op, where)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	for _, group := range []struct {
		err   error
		title string
	}{
		{ErrUnsupported, "fields podkit does not support"},
		{ErrImage, "images not available"},
		{ErrInvalid, "invalid values"},
		{ErrNotFound, "ConfigMaps, Secrets and keys not in the manifest (mark the reference optional: true, or add the object)"},
		{ErrKind, "objects podrun does not run"},
		{ErrSyntax, "malformed documents"},
	} {
		var items []string
		for _, p := range e.Problems {
			if p.Err == group.err {
				items = append(items, p.String())
			}
		}
		if len(items) > 0 {
			fmt.Fprintf(&b, "\n  %s:\n    %s", group.title, strings.Join(items, "\n    "))
		}
	}
	return b.String()
}

// Unwrap returns the underlying error and the sentinel of every problem.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	seen := map[error]bool{}
	for _, p := range e.Problems {
		if !seen[p.Err] {
			seen[p.Err] = true
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// Fields lists the fields of every problem wrapping target (all if nil).
func (e *Error) Fields(target error) []string {
	var out []string
	for _, p := range e.Problems {
		if target == nil || p.Err == target {
			out = append(out, p.Field)
		}
	}
	return out
}
