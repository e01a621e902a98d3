//go:build linux

// Command scpayload is the seccomp tests' payload: it prints the Seccomp
// line of /proc/self/status and the errno of keyctl (which the default
// profile refuses and root may otherwise call) and of getcwd (which the
// tests' Localhost profile refuses), "0" when the call ran (scinfo.Print).
package main

import "github.com/podkit/podkit/internal/testharness/scinfo"

func main() { scinfo.Print() }
