// Package testutil holds test helpers shared by the examples module's
// packages (the root module's internal/testharness cannot hold them: it
// must not depend on the examples' registry and CRI libraries). Only
// tests import it.
package testutil
