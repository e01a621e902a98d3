// Package testharness is podkit's privileged test harness.
//
// Every package with tests uses Main as its TestMain. Main makes the test
// binary its own helper (helpers are registered with RegisterHelper and run by
// re-executing the binary with an environment marker), serialises test binaries
// machine-wide with a lock file (the leak checker compares machine-wide state),
// and makes the test process a child subreaper so leaked grandchildren become
// visible children.
//
// Privileged tests start with Privileged, which skips loudly when not root
// (a failure under CI=true) and installs a leak check: mounts, cgroup
// directories under podkit* in every hierarchy, child processes, open file
// descriptors and the namespaces of the process's OS threads are compared
// before and after the test, and any difference fails it.
package testharness
