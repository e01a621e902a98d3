package podnet_test

import (
	"net"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
	"github.com/podkit/podkit/sandbox"
)

// The sandbox package's process-wide state (sandbox.Preload) counts in
// every test's leak baseline.
func TestMain(m *testing.M) { testharness.Main(m, func() { _ = sandbox.Preload() }) }

// nsjoin keeps its home namespace descriptors open for the life of the
// process: open them before any leak check's first snapshot.
// Go probes the host's IPv6 support (IPv4-mapped addresses) once, at the
// first listen: make that happen here, on the host, not in a pod's fresh
// namespace, where it would conclude "IPv4 only".
func init() {
	_ = nsjoin.Prepare()
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
	}
}
