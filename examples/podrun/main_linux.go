//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/podkit/podkit/examples/podrun/runner"
	"github.com/podkit/podkit/sandbox"
)

func main() {
	sandbox.Init() // a libcontainer bootstrap of this binary never returns from here
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(runner.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, sigs))
}
