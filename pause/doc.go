// Package pause locates and starts podkit-pause, the tiny PID 1 that holds a
// pod's namespaces.
//
// The pause process is the first process of a pod. It is started in the new
// namespaces the pod shares (network, IPC, UTS and optionally PID), reaps every
// zombie re-parented to it, exits 0 on SIGTERM or SIGINT and does nothing else.
// The binary lives in pause/cmd/podkit-pause; it is static and CGO-free so it
// can run inside any root filesystem. Start returns only once the pause has
// reported readiness, so callers never race it.
package pause
