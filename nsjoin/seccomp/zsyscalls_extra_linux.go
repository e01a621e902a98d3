//go:build linux

package seccomp

// armPrivate are ARM's private syscalls (__ARM_NR_*), which the default
// profile names and golang.org/x/sys does not list.
var armPrivate = []string{"breakpoint", "set_tls", "usr26", "usr32"}
