// Package deps pins podkit's direct dependencies in go.mod while the packages
// that use them are being written. Delete it once they are all imported.
package deps

import (
	_ "github.com/containerd/cgroups/v3"
	_ "github.com/opencontainers/runc/libcontainer"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "golang.org/x/sys/unix"
)
