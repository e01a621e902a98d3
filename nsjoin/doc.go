// Package nsjoin treats Linux namespaces as values.
//
// A namespace is held as a file descriptor with an identity (device, inode),
// verified to be an nsfs file of the expected kind before use. Namespaces can
// be compared, pinned with a bind mount so they outlive every process in them,
// unpinned, joined by Go code on a throwaway locked OS thread, and used to
// start processes inside a chosen set of namespaces.
package nsjoin
