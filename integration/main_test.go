package integration

import (
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
)

func TestMain(m *testing.M) { testharness.Main(m, func() { _ = sandbox.Preload() }) }
