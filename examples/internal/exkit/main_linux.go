//go:build linux

package exkit

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podkit/podkit/sandbox"
)

// DemoTimeout bounds every demo: if something hangs, it gives up and cleans up.
const DemoTimeout = 90 * time.Second

// Main is the main function of every small example: it dispatches
// libcontainer's bootstrap, runs run with a DemoTimeout context, and exits 1
// with the error prefixed by name.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	sandbox.Init()
	ctx, cancel := context.WithTimeout(context.Background(), DemoTimeout)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
