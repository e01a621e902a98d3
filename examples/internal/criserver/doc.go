// Package criserver is a Kubernetes Container Runtime Interface (CRI v1)
// server built on podkit: RuntimeService and ImageService over gRPC, each
// pod a sandbox.Sandbox, each container a sandbox container.
//
// It is laid out as CRI-O's server/ and containerd's internal/cri/server
// are: one small file per group of RPCs over a store of sandbox and
// container records. Each record is persisted as a JSON file under the
// state directory when it is created and whenever its CRI-visible state
// changes, and the store is rebuilt from those files at start (restore):
// the server can be stopped or killed and started again.
//
// What the server cannot do yet answers codes.Unimplemented, or
// codes.InvalidArgument naming the unsupported field, never a wrong
// success.
package criserver
