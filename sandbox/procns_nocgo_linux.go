//go:build linux && !cgo

package sandbox

import "errors"

// procByChildBuilt: without cgo there is no C stage to fork the child (Go
// runs no code between a fork and an exec).
const procByChildBuilt = false

func mountProcByChild(dest string, attrs int, opts []fsOption) error {
	return errors.New("mount proc in a child: built without cgo")
}
