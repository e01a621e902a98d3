//go:build linux

package pause

// ImportPath is the main package of the pause binary.
const ImportPath = "github.com/podkit/podkit/pause/cmd/podkit-pause"

// BareLinkFlag makes the bare pause the entry point of the binary: pause
// mode (no command) then runs as a few hundred instructions of assembly with
// raw system calls, with no Go runtime, so it starts as fast as a static C
// program, keeps one thread and a few pages of memory. Everything else
// (init mode, --help, bad flags) still runs the Go program. It exists for
// amd64 and arm64; LinkFlags leaves it out elsewhere.
const BareLinkFlag = "-E=main.bareEntry"

// LinkFlags returns the -ldflags value podkit builds the pause binary with
// for goarch (runtime.GOARCH, or $GOARCH when cross-compiling): stripped,
// with BareLinkFlag where the bare pause exists. Build with CGO_ENABLED=0:
//
//	go build -trimpath -ldflags="$(LinkFlags)" -o podkit-pause ./pause/cmd/podkit-pause
func LinkFlags(goarch string) string {
	if goarch == "amd64" || goarch == "arm64" {
		return "-s -w " + BareLinkFlag
	}
	return "-s -w"
}
