// Command pausedemo starts podkit's pause in new namespaces, shows it
// reaping orphans and stops it. Run as root: go run ./examples/pausedemo
package main
