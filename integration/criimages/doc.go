// Package criimages builds the container images the CRI validation suite
// (critest, sigs.k8s.io/cri-tools) pulls, and serves them from an
// in-process registry on 127.0.0.1, so that the suite runs with no network.
//
// Every image is made here from Debian's busybox-static (/bin/busybox, its
// applets as symlinks) and, where the suite observes a program busybox
// lacks, the static multi-call program in ./standin: nginx and httpd (HTTP
// on :80, nginx's pid file and "master process" title, httpd's log line),
// pause, a setuid-root nonewprivs, pgrep and ipcs. Users, groups, tags and
// files are those the suite checks (see Catalog).
//
// Serve pushes each image under its original repository path (for example
// e2e-test-images/busybox:1.29-2), so a runtime that answers every
// registry (registry.k8s.io, gcr.io, k8s.gcr.io) from the local one through
// a mirror setting finds them under the suite's original names.
//
// One reference cannot be served: test-image-digest, pulled by an upstream
// digest that no rebuilt image can have (Unservable lists it).
package criimages
