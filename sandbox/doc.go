// Package sandbox is the pod lifecycle: a pod as a Go value.
//
// A sandbox is a "logical host": a pause process holding shared network, IPC,
// UTS (and optionally PID) namespaces, a pod cgroup, and containers that join
// those namespaces while keeping their own mount namespace, root filesystem
// and cgroup limits. Containers are run through runc's libcontainer.
package sandbox
