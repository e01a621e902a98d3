// Package exkit is the little glue the small podkit examples share: flags
// for where a pod lives, finding (or building) the pause binary, and pods
// whose containers see the host's programs read-only (see hostroot), so the
// examples need nothing but a Debian machine, Go and root.
package exkit
