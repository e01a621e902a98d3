// Command podrun runs a Kubernetes Pod manifest on this machine with
// podkit: no kubelet, no container runtime, no registry; the pod gets an IP
// from the standard CNI plugins.
//
//	go run ./examples/podrun examples/podrun/pods/hello.yaml
//
// See README.md in this directory for the supported fields, and
// `podrun -h` for the flags. The program is package runner; this is its
// main.
package main
