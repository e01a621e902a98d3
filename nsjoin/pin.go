//go:build linux

package nsjoin

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultPinDir is the run directory used when OpenPinDir gets "".
const DefaultPinDir = "/run/podkit/ns"

const maxNameLen = 200

// PinDir is a run directory holding namespace pins. A pin is an empty file
// with the namespace's nsfs file bind-mounted on it, so the namespace lives
// on with no process in it. Pins are grouped by name (a pod ID, say):
// <dir>/<name>/<kind>, e.g. /run/podkit/ns/pod1/net, which nsenter --net=
// and Open accept.
type PinDir struct {
	dir string
}

// OpenPinDir prepares dir ("" means DefaultPinDir) as a pin directory: it is
// created if missing and made a mount point (a tmpfs) with shared propagation in a
// peer group of its own (see the package documentation). Calling it again
// on a prepared directory is cheap and harmless.
func OpenPinDir(dir string) (*PinDir, error) {
	if dir == "" {
		dir = DefaultPinDir
	}
	dir, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	return &PinDir{dir: dir}, nil
}

// Path is the directory.
func (d *PinDir) Path() string { return d.dir }

// ValidName checks a pin name: 1..200 bytes of [A-Za-z0-9_.:@+-], not
// starting with a dot (so ".", ".." and hidden files are impossible).
func ValidName(name string) error {
	if name == "" || len(name) > maxNameLen || name[0] == '.' {
		return &Error{Op: "validate name", ID: printable(name), Err: ErrInvalidName}
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_.:@+-", c) >= 0
		if !ok {
			return &Error{Op: "validate name", ID: printable(name), Err: ErrInvalidName}
		}
	}
	return nil
}

func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s), "?")
}

// PinPath is the path of the pin of kind k under name.
func (d *PinDir) PinPath(name string, k Kind) string {
	return filepath.Join(d.dir, name, k.String())
}

// Pin pins h as <dir>/<name>/<kind> and returns that path. A second pin of
// the same name and kind fails with ErrExists.
func (d *PinDir) Pin(name string, h *Handle) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	if h == nil {
		return "", &Error{Op: "pin", ID: name, Err: ErrClosed}
	}
	sub := filepath.Join(d.dir, name)
	if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", &Error{Op: "pin", Kind: h.kind, Path: sub, Err: err}
	}
	path := d.PinPath(name, h.kind)
	if err := pinAt(path, h); err != nil {
		os.Remove(sub) // only succeeds when empty
		return "", err
	}
	return path, nil
}

// PinSet pins every namespace of s under name; on error the pins made by
// this call are removed again.
func (d *PinDir) PinSet(name string, s *Set) error {
	if s.Len() == 0 {
		return &Error{Op: "pin", ID: name, Err: ErrEmptySet}
	}
	var done []Kind
	for _, k := range s.Kinds() {
		if _, err := d.Pin(name, s.Get(k)); err != nil {
			for i := len(done) - 1; i >= 0; i-- {
				unpinAt(d.PinPath(name, done[i]))
			}
			os.Remove(filepath.Join(d.dir, name))
			return err
		}
		done = append(done, k)
	}
	return nil
}

// Open opens the pin of kind k under name.
func (d *PinDir) Open(name string, k Kind) (*Handle, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	h, err := Open(d.PinPath(name, k), k)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &Error{Op: "open pin", Kind: k, Path: d.PinPath(name, k), Err: both(ErrNotPinned, err)}
	}
	return h, err
}

// OpenSet opens every pin under name.
func (d *PinDir) OpenSet(name string) (*Set, error) {
	kinds, err := d.pinnedKinds(name)
	if err != nil {
		return nil, err
	}
	if len(kinds) == 0 {
		return nil, &Error{Op: "open pin", ID: name, Path: filepath.Join(d.dir, name), Err: ErrNotPinned}
	}
	s := &Set{}
	for _, k := range kinds {
		h, err := d.Open(name, k)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Add(h)
	}
	return s, nil
}

// pinnedKinds lists the kinds pinned under name (files named after kinds).
func (d *PinDir) pinnedKinds(name string) ([]Kind, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(d.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Op: "list pins", ID: name, Err: err}
	}
	var ks []Kind
	for _, e := range ents {
		if k, err := ParseKind(e.Name()); err == nil {
			ks = append(ks, k)
		}
	}
	return ks, nil
}

// UnpinKind removes the pin of kind k under name (detaching the mount). It
// is idempotent.
func (d *PinDir) UnpinKind(name string, k Kind) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if err := unpinAt(d.PinPath(name, k)); err != nil {
		return err
	}
	os.Remove(filepath.Join(d.dir, name)) // only succeeds when empty
	return nil
}

// Unpin removes every pin under name and the name's directory. It is
// idempotent; files under name that are not pins are removed too.
func (d *PinDir) Unpin(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	sub := filepath.Join(d.dir, name)
	ents, err := os.ReadDir(sub)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{Op: "unpin", ID: name, Path: sub, Err: err}
	}
	for _, e := range ents {
		if err := unpinAt(filepath.Join(sub, e.Name())); err != nil {
			return err
		}
	}
	if err := os.Remove(sub); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &Error{Op: "unpin", ID: name, Path: sub, Err: err}
	}
	return nil
}

// Names lists the pin names in the directory, sorted.
func (d *PinDir) Names() ([]string, error) {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, &Error{Op: "list pins", Path: d.dir, Err: err}
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && ValidName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Teardown unmounts and removes the pin directory itself. It refuses with
// ErrBusy while any entry is left, so live pins are never dropped.
func (d *PinDir) Teardown() error { return teardownDir(d.dir) }

// Create makes new namespaces of the given kinds (see Create) and pins them
// under name in one step. On error nothing is left: no pin, no namespace.
func (d *PinDir) Create(name string, kinds ...Kind) (*Set, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	s, err := Create(kinds...)
	if err != nil {
		return nil, err
	}
	if err := d.PinSet(name, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
