package podnet_test

import (
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// nsjoin keeps its home namespace descriptors open for the life of the
// process: open them before any leak check's first snapshot.
func init() { _ = nsjoin.Prepare() }
