package kubelet

import (
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }
