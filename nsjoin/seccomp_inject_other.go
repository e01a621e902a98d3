//go:build linux && !amd64

package nsjoin

import (
	"errors"
	"runtime"
	"syscall"

	"github.com/podkit/podkit/nsjoin/seccomp"
)

func seccompSupported() error {
	return errors.New("installing a seccomp filter on an exec is implemented for amd64 only, not " + runtime.GOARCH)
}

func injectSeccomp(int, *seccomp.Filter) error { return seccompSupported() }

func injectDeathSig(int, syscall.Signal) error { return seccompSupported() }
