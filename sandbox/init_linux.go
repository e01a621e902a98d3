//go:build linux

package sandbox

import (
	"os"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	// nsenter is libcontainer's C constructor: it runs before the Go runtime
	// in the re-executed "init" child and joins/creates the namespaces.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// InitArg is the argv[1] with which libcontainer re-executes the current
// binary (/proc/self/exe) as a container's bootstrap ("runc init") process.
const InitArg = "init"

// init dispatches the libcontainer bootstrap. It has to run from a package
// init function, not from main: go test binaries (and any program embedding
// this package) would otherwise run their own main/TestMain inside the
// half-built container. Because libcontainer sets _LIBCONTAINER_INITPIPE in
// the environment of every bootstrap it starts, both markers are checked so
// that a program whose own argv[1] is "init" is never hijacked.
//
// Otherwise it locks the main goroutine to the main OS thread for the life
// of the program. Throwaway threads that join a container's namespaces
// (libcontainer's mount-source thread joins each new container's mount
// namespace; nsjoin's threads join the pod's) end by returning while
// locked, which makes Go terminate the thread — except the main thread,
// which Go cannot end and wedges instead, still inside the container's
// mount namespace and holding its rootfs. With the main goroutine holding
// the main thread (a lock taken during package initialisation stays with
// main), no such goroutine can ever run there.
func init() {
	if IsInit() {
		libcontainer.Init() // never returns
	}
	runtime.LockOSThread()
	if isGuard() {
		runGuard() // never returns (lifetime_linux.go)
	}
}

// IsInit reports whether the current process is a libcontainer bootstrap.
func IsInit() bool {
	return len(os.Args) > 1 && os.Args[1] == InitArg && os.Getenv("_LIBCONTAINER_INITPIPE") != ""
}

// Init runs the libcontainer bootstrap if the current process is one and
// never returns in that case; otherwise it does nothing. Importing the
// package already does this from its init function; Init exists so that a
// program can make the dependency explicit at the top of main.
func Init() {
	if IsInit() {
		libcontainer.Init()
	}
}
