//go:build linux && !cgo

package nsjoin

import "errors"

// errNoCgo: the watcher needs cgo.
var errNoCgo = errors.New("the frozen-cgroup hold needs cgo")

// watcher needs a thread outside the Go runtime (see freezeStop): without
// cgo the frozen-cgroup hold is not available.
type watcher struct{}

func startWatcher(dir, dest string, rlimits []Rlimit) (*watcher, error) { return nil, errNoCgo }

func (w *watcher) join() (int, error) { return 0, errNoCgo }
