// Package cgroup manages a pod's cgroup and its per-container cgroups.
//
// A pod gets one cgroup under a configurable parent, with a leaf for the pause
// process and a leaf per container. Limits are expressed in Kubernetes terms
// and converted the way kubelet converts them. cgroup v1 and v2 sit behind one
// small interface; the mode is detected once.
package cgroup
