// Command initvolume shows an init container preparing a volume: it writes
// a file into an emptyDir and exits, and only then does the app container
// start and read it. Run as root:
//
//	go run ./examples/initvolume
package main
