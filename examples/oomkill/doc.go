// Command oomkill shows per-container memory limits: one container exceeds
// its 32 MiB limit and is OOM-killed (and reported as OOMKilled) while its
// sibling in the same pod keeps running. Run as root:
//
//	go run ./examples/oomkill
package main
