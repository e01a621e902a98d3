//go:build linux

// Command readynoop is the Go spawn->ready floor for the pause benchmarks:
// a static Go program that writes one byte to fd 3 and exits, so the Go
// runtime's start-up cost can be told apart from podkit-pause's own work.
package main

import "syscall"

func main() { syscall.Write(3, []byte{'R'}) }
