//go:build linux

package cgroup

import (
	"errors"
	"maps"
	"os"
)

// Hierarchies returns the mountpoint of every hierarchy this System
// manages by the controller (or named hierarchy, "name=systemd") mounted
// there; the cgroup2 tree is keyed "", as runc's libcontainer keys it.
func (s *System) Hierarchies() map[string]string {
	h := maps.Clone(s.l.v1)
	if s.l.unified != "" {
		h[""] = s.l.unified
	}
	return h
}

// MkdirAll makes the cgroup path (relative to the hierarchies' roots) in
// every hierarchy, with its missing ancestors, and returns its directory
// by controller as Hierarchies keys them: the layout runc's libcontainer
// gives a container, for a caller that places a process there itself.
// New v1 cpusets get their parent's cpus and mems (empty, they could take
// no task). A directory that exists is fine. On error what it made is
// removed.
func (s *System) MkdirAll(path string) (map[string]string, error) {
	p, err := cleanPath("mkdir all", path)
	if err != nil {
		return nil, err
	}
	dirs := map[string]string{}
	var created []string
	for ctrl, mnt := range s.Hierarchies() {
		dir := mnt + p
		dirs[ctrl] = dir
		made, err := mkdirLeaf(mnt, dir)
		if errors.Is(err, os.ErrExist) {
			err = nil
		}
		if err == nil && ctrl == "cpuset" {
			err = initCpuset(made)
		}
		created = append(created, made...)
		if err != nil {
			rmdirAll(created)
			return nil, fsErr("mkdir all", p, err)
		}
	}
	return dirs, nil
}
