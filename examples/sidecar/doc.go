// Command sidecar shows the sidecar pattern: an app container writes its
// log to a shared emptyDir volume and a sidecar container ships (here:
// prints) every line it finds there. Run as root:
//
//	go run ./examples/sidecar
package main
