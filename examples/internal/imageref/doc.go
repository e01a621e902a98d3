// Package imageref parses container image references ("busybox",
// "registry.k8s.io/pause:3.9", "repo@sha256:...") as Docker, the CRI and
// go-containerregistry's name package do, into the canonical name podkit's
// image store records (docker.io/library/busybox:latest).
//
// It is its own parser so that a program that only reads the store (podrun)
// need not link go-containerregistry's name package and go-digest, whose
// regular expressions are compiled at start-up. Its tests hold it to
// go-containerregistry's ParseReference, string for string.
package imageref
